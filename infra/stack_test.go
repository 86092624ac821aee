package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

var (
	match   = assertions.Match_ObjectLike
	arrayOf = assertions.Match_ArrayWith
)

func obj(kv ...any) *map[string]any {
	m := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return &m
}

func TestDataBucket(t *testing.T) {
	s := defaultSynth(t)
	bucket := s.logicalID(t, "AWS::S3::Bucket", "DataBucket")
	logs := s.logicalID(t, "AWS::S3::Bucket", "AccessLogBucket")
	check(t, "data bucket encryption, versioning, public access, access logs, lifecycle", func() {
		s.template.HasResourceProperties(jsii.String("AWS::S3::Bucket"), match(obj(
			"BucketEncryption", obj("ServerSideEncryptionConfiguration", []any{obj("ServerSideEncryptionByDefault", obj("SSEAlgorithm", "AES256"))}),
			"VersioningConfiguration", obj("Status", "Enabled"),
			"PublicAccessBlockConfiguration", obj("BlockPublicAcls", true, "BlockPublicPolicy", true, "IgnorePublicAcls", true, "RestrictPublicBuckets", true),
			"LoggingConfiguration", obj("DestinationBucketName", obj("Ref", logs), "LogFilePrefix", "data-bucket/"),
			"LifecycleConfiguration", obj("Rules", arrayOf(&[]any{
				match(obj("Prefix", PrefixBatches, "ExpirationInDays", batchesExpireDays, "Status", "Enabled")),
				match(obj("Prefix", PrefixExports, "ExpirationInDays", exportsExpireDays, "Status", "Enabled")),
				match(obj("NoncurrentVersionExpiration", obj("NoncurrentDays", noncurrentExpireDays))),
			})),
		)))
	})
	check(t, "EventBridge notifications on", func() {
		s.template.HasResourceProperties(jsii.String("Custom::S3BucketNotifications"), obj(
			"BucketName", obj("Ref", bucket),
			"NotificationConfiguration", obj("EventBridgeConfiguration", obj()),
			"Managed", true, "ServiceToken", assertions.Match_AnyValue(),
		))
	})
	check(t, "SSL enforced on both buckets", func() {
		for _, b := range []string{bucket, logs} {
			s.template.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), match(obj(
				"Bucket", obj("Ref", b),
				"PolicyDocument", match(obj("Statement", arrayOf(&[]any{match(obj(
					"Effect", "Deny", "Action", "s3:*",
					"Condition", obj("Bool", obj("aws:SecureTransport", "false")),
				))}))),
			)))
		}
	})
	for _, id := range []string{bucket, logs} {
		if r := s.json["Resources"].(map[string]any)[id].(map[string]any); r["DeletionPolicy"] != "Retain" {
			t.Errorf("%s DeletionPolicy = %v, want Retain", id, r["DeletionPolicy"])
		}
	}
}

// TestUploadRuleRunsTheStartFunction: a CSV created under incoming/ invokes the start
// function with the event itself (it starts the pipeline, named after the job); failed
// deliveries and failed starts end in the DLQ; only the start function may start the
// pipeline, and it may do nothing else.
func TestUploadRuleRunsTheStartFunction(t *testing.T) {
	s := defaultSynth(t)
	bucket := s.logicalID(t, "AWS::S3::Bucket", "DataBucket")
	pipeline := s.logicalID(t, "AWS::StepFunctions::StateMachine", "PipelineStateMachine")
	fn := s.functionLogicalID(t, FnStart)
	dlq := s.logicalID(t, "AWS::SQS::Queue", "DeliveryDLQ")
	check(t, "rule pattern and target", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Events::Rule"), match(obj(
			"EventPattern", obj(
				"source", []any{"aws.s3"},
				"detail-type", []any{"Object Created"},
				"detail", obj(
					"bucket", obj("name", []any{obj("Ref", bucket)}),
					"object", obj("key", []any{obj("wildcard", "incoming/*.csv")}),
				),
			),
			"Targets", []any{match(obj(
				"Arn", obj("Fn::GetAtt", []any{fn, "Arn"}),
				// No Input/InputPath: the function's input, and the execution's, is the event itself.
				"Input", assertions.Match_Absent(), "InputPath", assertions.Match_Absent(), "InputTransformer", assertions.Match_Absent(),
				"DeadLetterConfig", match(obj("Arn", obj("Fn::GetAtt", []any{dlq, "Arn"}))),
				"RetryPolicy", match(obj("MaximumRetryAttempts", 20)),
			))},
		)))
	})
	// No rule targets the pipeline itself any more.
	for id, r := range s.resources("AWS::Events::Rule") {
		for _, target := range asList(r["Properties"].(map[string]any)["Targets"]) {
			if referencedIDs(target.(map[string]any)["Arn"])[pipeline] {
				t.Errorf("rule %s starts the pipeline directly: its executions would get random names", id)
			}
		}
	}
	var permitted bool
	for _, r := range s.resources("AWS::Lambda::Permission") {
		p := r["Properties"].(map[string]any)
		if referencedIDs(p["FunctionName"])[fn] {
			if p["Principal"] != "events.amazonaws.com" || p["Action"] != "lambda:InvokeFunction" || p["SourceArn"] == nil {
				t.Errorf("start function permission %v", p)
			}
			permitted = true
		}
	}
	if !permitted {
		t.Error("EventBridge may not invoke the start function")
	}
	check(t, "async retries then the DLQ", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Lambda::EventInvokeConfig"), match(obj(
			"FunctionName", obj("Ref", fn),
			"MaximumRetryAttempts", 2,
			"DestinationConfig", obj("OnFailure", obj("Destination", obj("Fn::GetAtt", []any{dlq, "Arn"}))),
		)))
	})
	env := s.props(t, fn)["Environment"].(map[string]any)["Variables"].(map[string]any)
	if arn := env["ATTOM_BATCH_PIPELINE_STATE_MACHINE_ARN"]; !referencedIDs(arn)[pipeline] {
		t.Errorf("ATTOM_BATCH_PIPELINE_STATE_MACHINE_ARN = %v, want the pipeline's", arn)
	}
	// states:StartExecution on the pipeline: the start function's role only, exactly that.
	startRole := fmt.Sprint(s.props(t, fn)["Role"].(map[string]any)["Fn::GetAtt"].([]any)[0])
	var starts bool
	for role := range s.resources("AWS::IAM::Role") {
		for _, st := range s.policyStatements(t, role) {
			if !referencedIDs(st["Resource"])[pipeline] || !slices.Contains(strs(st["Action"]), "states:StartExecution") {
				continue
			}
			if role != startRole {
				t.Errorf("%s may start the pipeline; only the start function may", role)
				continue
			}
			starts = true
			if actions := strs(st["Action"]); !reflect.DeepEqual(actions, []string{"states:StartExecution"}) {
				t.Errorf("start function on the pipeline: %v, want states:StartExecution only", actions)
			}
		}
	}
	if !starts {
		t.Error("the start function may not start the pipeline")
	}
}

// TestImportRuleRunsTheImportFunction: a CSV created under imports/ invokes the import
// function with the event itself; failed deliveries and failed imports end in the DLQ.
func TestImportRuleRunsTheImportFunction(t *testing.T) {
	s := defaultSynth(t)
	bucket := s.logicalID(t, "AWS::S3::Bucket", "DataBucket")
	fn := s.functionLogicalID(t, FnImport)
	dlq := s.logicalID(t, "AWS::SQS::Queue", "DeliveryDLQ")
	check(t, "rule pattern and target", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Events::Rule"), match(obj(
			"EventPattern", obj(
				"source", []any{"aws.s3"},
				"detail-type", []any{"Object Created"},
				"detail", obj(
					"bucket", obj("name", []any{obj("Ref", bucket)}),
					"object", obj("key", []any{obj("wildcard", "imports/*.csv")}),
				),
			),
			"Targets", []any{match(obj(
				"Arn", obj("Fn::GetAtt", []any{fn, "Arn"}),
				"Input", assertions.Match_Absent(), "InputPath", assertions.Match_Absent(), "InputTransformer", assertions.Match_Absent(),
				"DeadLetterConfig", match(obj("Arn", obj("Fn::GetAtt", []any{dlq, "Arn"}))),
				"RetryPolicy", match(obj("MaximumRetryAttempts", 20)),
			))},
		)))
	})
	// Only the rule may invoke the function (lambda:InvokeFunction from events.amazonaws.com).
	var permitted bool
	for _, r := range s.resources("AWS::Lambda::Permission") {
		p := r["Properties"].(map[string]any)
		if referencedIDs(p["FunctionName"])[fn] {
			if p["Principal"] != "events.amazonaws.com" || p["Action"] != "lambda:InvokeFunction" || p["SourceArn"] == nil {
				t.Errorf("import function permission %v", p)
			}
			permitted = true
		}
	}
	if !permitted {
		t.Error("EventBridge may not invoke the import function")
	}
	check(t, "async retries then the DLQ", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Lambda::EventInvokeConfig"), match(obj(
			"FunctionName", obj("Ref", fn),
			"MaximumRetryAttempts", 2,
			"DestinationConfig", obj("OnFailure", obj("Destination", obj("Fn::GetAtt", []any{dlq, "Arn"}))),
		)))
	})
}

func TestStateMachines(t *testing.T) {
	s := defaultSynth(t)
	cases := []struct {
		prefix, name, definition string
		functions                []string
	}{
		{"PipelineStateMachine", StackID + "-pipeline", s.defs.Pipeline, pipelineFunctions},
		{"LookupStateMachine", StackID + "-lookup", s.defs.Lookup, lookupFunctions},
	}
	for _, tc := range cases {
		t.Run(tc.prefix, func(t *testing.T) {
			id := s.logicalID(t, "AWS::StepFunctions::StateMachine", tc.prefix)
			p := s.props(t, id)
			if p["DefinitionString"] != tc.definition {
				t.Errorf("DefinitionString is not the definition file verbatim")
			}
			if p["StateMachineType"] != "STANDARD" {
				t.Errorf("StateMachineType = %v", p["StateMachineType"])
			}
			subs, _ := p["DefinitionSubstitutions"].(map[string]any)
			var keys []string
			for k, v := range subs {
				keys = append(keys, k)
				if len(referencedIDs(v)) == 0 {
					t.Errorf("substitution %s = %v refers to no resource", k, v)
				}
			}
			sort.Strings(keys)
			want := substitutionNames(tc.functions)
			if slices.Contains(Placeholders(tc.definition), SubBucketName) {
				want = append(want, SubBucketName)
			}
			sort.Strings(want)
			if !reflect.DeepEqual(keys, want) {
				t.Errorf("substitutions %v, want %v", keys, want)
			}
			for _, fn := range tc.functions {
				if !referencedIDs(subs[functionSubstitution(fn)])[s.functionLogicalID(t, fn)] {
					t.Errorf("%s does not point at the %s function", functionSubstitution(fn), fn)
				}
			}
			if p["StateMachineName"] != tc.name {
				t.Errorf("StateMachineName = %v, want %s", p["StateMachineName"], tc.name)
			}
			logging, _ := p["LoggingConfiguration"].(map[string]any)
			if logging["Level"] != "ALL" || logging["IncludeExecutionData"] != false || len(strs(logging["Destinations"])) != 1 {
				t.Errorf("LoggingConfiguration = %v", logging)
			}
			if tr, _ := p["TracingConfiguration"].(map[string]any); tr["Enabled"] != true {
				t.Errorf("TracingConfiguration = %v", p["TracingConfiguration"])
			}
			// The role may invoke exactly the workflow's own functions.
			role := fmt.Sprint(p["RoleArn"].(map[string]any)["Fn::GetAtt"].([]any)[0])
			invoked := map[string]bool{}
			for _, st := range s.policyStatements(t, role) {
				if slices.Contains(strs(st["Action"]), "lambda:InvokeFunction") {
					for id := range referencedIDs(st["Resource"]) {
						invoked[id] = true
					}
					for _, r := range strs(st["Resource"]) {
						if strings.Contains(r, "*") {
							t.Errorf("lambda:InvokeFunction on a wildcard %s", r)
						}
					}
				}
			}
			var wantInvoked []string
			for _, fn := range tc.functions {
				wantInvoked = append(wantInvoked, s.functionLogicalID(t, fn))
			}
			var gotInvoked []string
			for id := range invoked {
				gotInvoked = append(gotInvoked, id)
			}
			sort.Strings(wantInvoked)
			sort.Strings(gotInvoked)
			if !reflect.DeepEqual(gotInvoked, wantInvoked) {
				t.Errorf("invokes %v, want %v", gotInvoked, wantInvoked)
			}
		})
	}
}

func TestFunctions(t *testing.T) {
	s := defaultSynth(t)
	specs := functionSpecs(s.settings)
	if len(specs) != 13 {
		t.Fatalf("want 13 functions, got %d", len(specs))
	}
	for _, spec := range specs {
		t.Run(spec.name, func(t *testing.T) {
			p := s.props(t, s.functionLogicalID(t, spec.name))
			want := map[string]any{"Runtime": "provided.al2023", "Handler": "bootstrap", "MemorySize": spec.memoryMB, "Timeout": spec.timeoutSeconds}
			for k, v := range want {
				if fmt.Sprint(p[k]) != fmt.Sprint(v) {
					t.Errorf("%s = %v, want %v", k, p[k], v)
				}
			}
			if got := strs(p["Architectures"]); !reflect.DeepEqual(got, []string{"arm64"}) {
				t.Errorf("Architectures = %v", got)
			}
			if lc, _ := p["LoggingConfig"].(map[string]any); lc["LogFormat"] != "JSON" || lc["LogGroup"] == nil {
				t.Errorf("LoggingConfig = %v", p["LoggingConfig"])
			}
			env := p["Environment"].(map[string]any)["Variables"].(map[string]any)
			for _, name := range []string{"ATTOM_BATCH_BACKEND", "ATTOM_BATCH_BUCKET", "ATTOM_BATCH_JOBS_TABLE", "ATTOM_BATCH_PROPERTIES_TABLE",
				"ATTOM_BATCH_LEADS_TABLE", "ATTOM_BATCH_LOOKUPS_TABLE", "ATTOM_BATCH_BUDGET_TABLE", "ATTOM_API_KEY_PARAMETER",
				"DAILY_CAP_ATTOM_CENTS", "ATTOM_RATE_PER_MINUTE", "ATTOM_BASE_URL"} {
				if env[name] == nil {
					t.Errorf("env %s missing", name)
				}
			}
			if env["ATTOM_BATCH_BACKEND"] != "aws" || env["ATTOM_API_KEY_PARAMETER"] != s.settings.ATTOMAPIKeyParameter {
				t.Errorf("backend %v, key parameter %v", env["ATTOM_BATCH_BACKEND"], env["ATTOM_API_KEY_PARAMETER"])
			}
			if _, ok := env["ATTOM_API_KEY"]; ok {
				t.Error("the API key itself must never be in the environment")
			}
			bus, hasBus := env["ATTOM_BATCH_EVENT_BUS"]
			if want := slices.Contains(jobEventFunctions, spec.name); hasBus != want || want && bus != "default" {
				t.Errorf("ATTOM_BATCH_EVENT_BUS = %v (present %v), want default only on the functions that emit job events", bus, hasBus)
			}
			_, hasLookupARN := env["ATTOM_BATCH_LOOKUP_STATE_MACHINE_ARN"]
			if want := slices.Contains(functionsUsingLookupMachine, spec.name); hasLookupARN != want {
				t.Errorf("ATTOM_BATCH_LOOKUP_STATE_MACHINE_ARN present = %v, want %v", hasLookupARN, want)
			}
			if _, has := env["ATTOM_BATCH_PIPELINE_STATE_MACHINE_ARN"]; has != (spec.name == FnStart) {
				t.Errorf("ATTOM_BATCH_PIPELINE_STATE_MACHINE_ARN present = %v, want it on the start function only", has)
			}
			rc, hasRC := p["ReservedConcurrentExecutions"]
			if spec.name == FnLookupChunk {
				if fmt.Sprint(rc) != "1" {
					t.Errorf("lookupchunk ReservedConcurrentExecutions = %v, want 1", rc)
				}
			} else if hasRC {
				t.Errorf("ReservedConcurrentExecutions = %v, want none", rc)
			}
		})
	}
	if n := len(s.resources("AWS::Lambda::Function")); n != 14 {
		t.Errorf("want 13 functions + CDK's notifications handler, got %d", n)
	}
}

// TestLookupConcurrencySplitsTheRate: with N concurrent lookups each gets 1/N of the key's
// rate, so together they stay within it.
func TestLookupConcurrencySplitsTheRate(t *testing.T) {
	s := synth(t, synthOptions{context: map[string]any{CtxLookupConcurrency: "4", CtxATTOMRatePerMinute: "200", CtxDailyCapCents: "5000"}})
	p := s.props(t, s.functionLogicalID(t, FnLookupChunk))
	env := p["Environment"].(map[string]any)["Variables"].(map[string]any)
	if fmt.Sprint(p["ReservedConcurrentExecutions"]) != "4" || env["ATTOM_RATE_PER_MINUTE"] != "50" || env["DAILY_CAP_ATTOM_CENTS"] != "5000" {
		t.Errorf("reserved %v rate %v cap %v, want 4, 50, 5000", p["ReservedConcurrentExecutions"], env["ATTOM_RATE_PER_MINUTE"], env["DAILY_CAP_ATTOM_CENTS"])
	}
	spend := s.logicalID(t, "AWS::CloudWatch::Alarm", "SpendNearCapAlarm")
	if th := s.props(t, spend)["Threshold"]; fmt.Sprint(th) != "4000" {
		t.Errorf("spend alarm threshold %v, want 4000 (80%% of 5000)", th)
	}
}

func TestTables(t *testing.T) {
	s := defaultSynth(t)
	type gsi struct{ name, pk, sk, skType, projection string }
	cases := []struct {
		prefix, pk, sk, ttl string
		indexes             []gsi
	}{
		{"JobsTable", "id", "", "", []gsi{{"by_created", "gsi_pk", "created_at", "S", "ALL"}}},
		{"PropertiesTable", "id", "", "", []gsi{{"by_hash", "property_hash", "", "", "KEYS_ONLY"}, {"by_updated", "gsi_pk", "updated_at", "S", "KEYS_ONLY"}}},
		{"LeadsTable", "id", "", "", []gsi{{"by_batch", "batch_id", "score", "N", "ALL"}}},
		{"LookupsTable", "job_chunk", "key", "expires_at", nil},
		{"BudgetTable", "day", "", "expires_at", nil},
	}
	for _, tc := range cases {
		t.Run(tc.prefix, func(t *testing.T) {
			id := s.logicalID(t, "AWS::DynamoDB::Table", tc.prefix)
			res := s.json["Resources"].(map[string]any)[id].(map[string]any)
			if res["DeletionPolicy"] != "Retain" || res["UpdateReplacePolicy"] != "Retain" {
				t.Errorf("DeletionPolicy %v UpdateReplacePolicy %v, want Retain", res["DeletionPolicy"], res["UpdateReplacePolicy"])
			}
			p := s.props(t, id)
			wantKeys := []any{map[string]any{"AttributeName": tc.pk, "KeyType": "HASH"}}
			if tc.sk != "" {
				wantKeys = append(wantKeys, map[string]any{"AttributeName": tc.sk, "KeyType": "RANGE"})
			}
			if !reflect.DeepEqual(p["KeySchema"], wantKeys) {
				t.Errorf("KeySchema %v, want %v", p["KeySchema"], wantKeys)
			}
			if p["BillingMode"] != "PAY_PER_REQUEST" {
				t.Errorf("BillingMode %v", p["BillingMode"])
			}
			if pitr, _ := p["PointInTimeRecoverySpecification"].(map[string]any); pitr["PointInTimeRecoveryEnabled"] != true {
				t.Errorf("PITR %v", p["PointInTimeRecoverySpecification"])
			}
			if sse, _ := p["SSESpecification"].(map[string]any); sse["SSEEnabled"] != true {
				t.Errorf("SSE %v", p["SSESpecification"])
			}
			ttl, _ := p["TimeToLiveSpecification"].(map[string]any)
			if tc.ttl == "" && ttl != nil || tc.ttl != "" && (ttl["AttributeName"] != tc.ttl || ttl["Enabled"] != true) {
				t.Errorf("TTL %v, want %q", ttl, tc.ttl)
			}
			attrTypes := map[string]any{}
			for _, a := range p["AttributeDefinitions"].([]any) {
				attrTypes[a.(map[string]any)["AttributeName"].(string)] = a.(map[string]any)["AttributeType"]
			}
			got := map[string]gsi{}
			for _, g := range asList(p["GlobalSecondaryIndexes"]) {
				gm := g.(map[string]any)
				ix := gsi{name: gm["IndexName"].(string), projection: gm["Projection"].(map[string]any)["ProjectionType"].(string)}
				for _, k := range gm["KeySchema"].([]any) {
					km := k.(map[string]any)
					if km["KeyType"] == "HASH" {
						ix.pk = km["AttributeName"].(string)
					} else {
						ix.sk, ix.skType = km["AttributeName"].(string), fmt.Sprint(attrTypes[km["AttributeName"].(string)])
					}
				}
				got[ix.name] = ix
			}
			if len(got) != len(tc.indexes) {
				t.Errorf("indexes %v, want %v", got, tc.indexes)
			}
			for _, want := range tc.indexes {
				if got[want.name] != want {
					t.Errorf("index %s = %+v, want %+v", want.name, got[want.name], want)
				}
			}
		})
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// TestLeastPrivilege checks which tables and bucket prefixes each function's role reaches.
func TestLeastPrivilege(t *testing.T) {
	s := defaultSynth(t)
	tables := map[string]string{}
	for _, name := range []string{"Jobs", "Properties", "Leads", "Lookups", "Budget"} {
		tables[s.logicalID(t, "AWS::DynamoDB::Table", name+"Table")] = strings.ToLower(name)
	}
	pipeline := s.logicalID(t, "AWS::StepFunctions::StateMachine", "PipelineStateMachine")
	want := map[string]string{
		// Every pipeline task holds the job's lease and prepare reads the answer cache: both
		// live in the lookups table.
		// prepare, poll, resume, complete and fail also put job events on the default bus.
		FnPrepare:     "events default/attom-batch | jobs rw | lookups rw | s3 read incoming/ | s3 write batches/",
		FnSubmit:      "jobs rw | lookups rw | start lookup",
		FnPoll:        "describe lookup | events default/attom-batch | jobs rw | lookups rw | s3 put exports/ | s3 read batches/",
		FnResume:      "describe lookup | events default/attom-batch | jobs rw | lookups rw | start lookup",
		FnDownload:    "jobs rw | lookups rw | s3 write batches/",
		FnProcess:     "jobs rw | leads rw | lookups rw | properties rw | s3 read incoming/ | s3 write batches/",
		FnLeads:       "jobs rw | lookups rw | s3 put exports/ | s3 read batches/",
		FnComplete:    "events default/attom-batch | jobs rw | lookups rw",
		FnFail:        "events default/attom-batch | jobs rw | lookups rw",
		FnLookupChunk: "budget rw | jobs rw | leads rw | lookups rw | metric AttomBatch | properties rw | s3 read incoming/ | s3 write batches/ | ssm /attom-batch/attom-api-key",
		FnRefresh:     "properties r | s3 put incoming/",
		// import: the list in, records and leads merged, rejects out; no job, lease or ATTOM.
		FnImport: "leads rw | properties rw | s3 put import-results/ | s3 read imports/",
		// start: one StartExecution on the pipeline, and the upload's metadata (the options a
		// client left on it); no table.
		FnStart: "s3 read incoming/ | start pipeline",
	}
	for name, wantAccess := range want {
		t.Run(name, func(t *testing.T) {
			fnProps := s.props(t, s.functionLogicalID(t, name))
			role := fmt.Sprint(fnProps["Role"].(map[string]any)["Fn::GetAtt"].([]any)[0])
			got := describeAccess(s.policyStatements(t, role), tables, pipeline)
			if got != wantAccess {
				t.Errorf("access\n got: %s\nwant: %s", got, wantAccess)
			}
		})
	}
}

// TestLeaseAndAnswerCalls: the lease and the answer cache live in the lookups table
// (internal/dynamostore leases.go and answers.go), so every pipeline function may make
// exactly the calls they make there: GetItem, conditional PutItem and UpdateItem and
// DeleteItem for the job's (and lookupchunk's chunk) lease, BatchGetItem and PutItem for
// answers. refresh holds no lease and reads no answer: it must not reach the table.
func TestLeaseAndAnswerCalls(t *testing.T) {
	s := defaultSynth(t)
	lookups := s.logicalID(t, "AWS::DynamoDB::Table", "LookupsTable")
	calls := []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchGetItem"}
	for _, spec := range functionSpecs(s.settings) {
		t.Run(spec.name, func(t *testing.T) {
			role := fmt.Sprint(s.props(t, s.functionLogicalID(t, spec.name))["Role"].(map[string]any)["Fn::GetAtt"].([]any)[0])
			allowed := map[string]bool{}
			for _, st := range s.policyStatements(t, role) {
				if !referencedIDs(st["Resource"])[lookups] {
					continue
				}
				// Statements with the same actions are merged across tables, so look at
				// the lookups table's own resources only (it has no index to reach).
				resources := asList(st["Resource"])
				if resources == nil {
					resources = []any{st["Resource"]}
				}
				for _, r := range resources {
					if referencedIDs(r)[lookups] && strings.Contains(strings.Join(literals(r), ""), "*") {
						t.Errorf("lookups table reached through a wildcard: %v", r)
					}
				}
				for _, a := range strs(st["Action"]) {
					allowed[a] = true
				}
			}
			if spec.name == FnRefresh || spec.name == FnImport || spec.name == FnStart {
				if len(allowed) != 0 {
					t.Errorf("%s reaches the lookups table: %v", spec.name, allowed)
				}
				return
			}
			for _, c := range calls {
				if !allowed[c] {
					t.Errorf("%s not allowed on the lookups table (has %v)", c, allowed)
				}
			}
		})
	}
}

// describeAccess summarizes a role's statements as sorted "what how" terms.
func describeAccess(statements []map[string]any, tables map[string]string, pipeline string) string {
	terms := map[string]bool{}
	for _, st := range statements {
		actions := strings.Join(strs(st["Action"]), " ")
		refs := referencedIDs(st["Resource"])
		for id, name := range tables {
			if refs[id] {
				if strings.Contains(actions, "dynamodb:PutItem") {
					terms[name+" rw"] = true
				} else {
					terms[name+" r"] = true
				}
			}
		}
		resource := fmt.Sprint(st["Resource"])
		for _, prefix := range []string{PrefixIncoming, PrefixBatches, PrefixExports, PrefixImports, PrefixImportResults} {
			if !strings.Contains(resource, "/"+prefix+"*") {
				continue
			}
			switch {
			case strings.Contains(actions, "s3:DeleteObject"):
				terms["s3 write "+prefix] = true
			case strings.Contains(actions, "s3:PutObject"):
				terms["s3 put "+prefix] = true
			case strings.Contains(actions, "s3:GetObject"):
				terms["s3 read "+prefix] = true
			}
		}
		switch {
		case strings.Contains(actions, "states:StartExecution") && refs[pipeline]:
			terms["start pipeline"] = true
		case strings.Contains(actions, "states:StartExecution"):
			terms["start lookup"] = true
		case strings.Contains(actions, "states:DescribeExecution"):
			terms["describe lookup"] = true
		case strings.Contains(actions, "ssm:GetParameter"):
			for _, lit := range literals(st["Resource"]) {
				if _, name, ok := strings.Cut(lit, ":parameter"); ok {
					terms["ssm "+name] = true
				}
			}
		case strings.Contains(actions, "events:PutEvents"):
			bus := strings.Join(literals(st["Resource"]), "")
			_, bus, _ = strings.Cut(bus, ":event-bus/")
			cond, _ := st["Condition"].(map[string]any)
			eq, _ := cond["StringEquals"].(map[string]any)
			terms[fmt.Sprint("events ", bus, "/", eq["events:source"])] = true
		case strings.Contains(actions, "cloudwatch:PutMetricData"):
			ns := st["Condition"].(map[string]any)["StringEquals"].(map[string]any)["cloudwatch:namespace"]
			terms[fmt.Sprint("metric ", ns)] = true
		}
	}
	var out []string
	for term := range terms {
		out = append(out, term)
	}
	sort.Strings(out)
	return strings.Join(out, " | ")
}

// literals lists the string literals inside a JSON fragment (the fixed parts of a Fn::Join).
func literals(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			out = append(out, literals(x)...)
		}
		return out
	case map[string]any:
		var out []string
		for k, x := range t {
			if k != "Ref" {
				out = append(out, literals(x)...)
			}
		}
		return out
	}
	return nil
}

func TestAPIKeyParameterGrant(t *testing.T) {
	s := synth(t, synthOptions{context: map[string]any{
		CtxATTOMAPIKeyParameter: "/prod/attom-key",
		CtxATTOMAPIKeyKMSKeyARN: "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
	}})
	lookupRole := fmt.Sprint(s.props(t, s.functionLogicalID(t, FnLookupChunk))["Role"].(map[string]any)["Fn::GetAtt"].([]any)[0])
	for role := range s.resources("AWS::IAM::Role") {
		for _, st := range s.policyStatements(t, role) {
			actions := strs(st["Action"])
			if slices.Contains(actions, "ssm:GetParameter") || slices.Contains(actions, "kms:Decrypt") {
				if role != lookupRole {
					t.Errorf("%s may read the key (%v); only the lookup function may", role, actions)
				}
			}
			if !slices.Contains(actions, "ssm:GetParameter") {
				continue
			}
			if len(actions) != 1 {
				t.Errorf("key statement grants %v, want only ssm:GetParameter", actions)
			}
			joined := strings.Join(literals(st["Resource"]), "")
			if !strings.HasSuffix(joined, ":parameter/prod/attom-key") || strings.Contains(joined, "*") {
				t.Errorf("ssm:GetParameter on %v, want exactly the parameter /prod/attom-key", st["Resource"])
			}
		}
	}
	check(t, "kms:Decrypt only via SSM", func() {
		s.template.HasResourceProperties(jsii.String("AWS::IAM::Policy"), match(obj("PolicyDocument", match(obj(
			"Statement", arrayOf(&[]any{match(obj(
				"Action", "kms:Decrypt",
				"Resource", "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
				"Condition", obj("StringEquals", obj("kms:ViaService", assertions.Match_AnyValue())),
			))}),
		)))))
	})
	// The default stack uses the AWS managed aws/ssm key: no kms:Decrypt at all.
	d := defaultSynth(t)
	for role := range d.resources("AWS::IAM::Role") {
		for _, st := range d.policyStatements(t, role) {
			if slices.Contains(strs(st["Action"]), "kms:Decrypt") {
				t.Errorf("default stack grants kms:Decrypt to %s", role)
			}
		}
	}
}

func TestDistributedMapPermissions(t *testing.T) {
	s := defaultSynth(t)
	id := s.logicalID(t, "AWS::StepFunctions::StateMachine", "LookupStateMachine")
	role := fmt.Sprint(s.props(t, id)["RoleArn"].(map[string]any)["Fn::GetAtt"].([]any)[0])
	var start, children, manifest bool
	for _, st := range s.policyStatements(t, role) {
		actions := strs(st["Action"])
		res := strings.Join(literals(st["Resource"]), "")
		switch {
		case reflect.DeepEqual(actions, []string{"states:StartExecution"}):
			start = strings.HasSuffix(res, ":stateMachine:"+StackID+"-lookup")
		case reflect.DeepEqual(actions, []string{"states:DescribeExecution", "states:StopExecution"}):
			children = strings.HasSuffix(res, ":execution:"+StackID+"-lookup/*")
		case slices.Contains(actions, "s3:GetObject*"):
			manifest = strings.Contains(res, "/"+PrefixBatches+"*")
		}
	}
	if !start || !children || !manifest {
		t.Errorf("start own executions %v, manage children %v, read manifest %v: want all", start, children, manifest)
	}
}

func TestRefreshSchedule(t *testing.T) {
	s := synth(t, synthOptions{context: map[string]any{CtxRefreshSchedule: "rate(12 hours)"}})
	refresh := s.functionLogicalID(t, FnRefresh)
	id := s.logicalID(t, "AWS::Scheduler::Schedule", "RefreshSchedule")
	p := s.props(t, id)
	target := p["Target"].(map[string]any)
	if p["ScheduleExpression"] != "rate(12 hours)" || !referencedIDs(target["Arn"])[refresh] {
		t.Errorf("expression %v target %v", p["ScheduleExpression"], target["Arn"])
	}
	if target["DeadLetterConfig"] == nil || target["RetryPolicy"] == nil {
		t.Errorf("target lacks a DLQ or retry policy: %v", target)
	}
	var input map[string]any
	if err := jsonUnmarshal(target["Input"], &input); err != nil {
		t.Fatalf("input: %v", err)
	}
	if input["detail-type"] != "Scheduled Event" || input["detail"].(map[string]any)["max_age_days"] != float64(30) {
		t.Errorf("input %v does not have the events/testdata/scheduled-refresh.json shape", input)
	}
	role := fmt.Sprint(target["RoleArn"].(map[string]any)["Fn::GetAtt"].([]any)[0])
	for _, st := range s.policyStatements(t, role) {
		actions := strs(st["Action"])
		if slices.Contains(actions, "lambda:InvokeFunction") {
			refs := referencedIDs(st["Resource"])
			if len(refs) != 1 || !refs[refresh] {
				t.Errorf("scheduler may invoke %v, want only the refresh function", st["Resource"])
			}
		} else if !strings.HasPrefix(strings.Join(actions, ","), "sqs:") {
			t.Errorf("scheduler role has %v", actions)
		}
	}
}

func jsonUnmarshal(v any, dst any) error {
	raw, ok := v.(string)
	if !ok {
		return fmt.Errorf("not a string: %v", v)
	}
	return json.Unmarshal([]byte(raw), dst)
}

func TestAlarms(t *testing.T) {
	s := defaultSynth(t)
	topic := s.logicalID(t, "AWS::SNS::Topic", "AlarmTopic")
	alarms := s.resources("AWS::CloudWatch::Alarm")
	// 4 workflow alarms, errors + throttles per function, spend, DLQ.
	if want := 4 + 2*13 + 2; len(alarms) != want {
		t.Errorf("%d alarms, want %d", len(alarms), want)
	}
	for id, a := range alarms {
		p := a["Properties"].(map[string]any)
		if actions := asList(p["AlarmActions"]); len(actions) != 1 || !referencedIDs(actions[0])[topic] {
			t.Errorf("%s alarm actions %v, want the topic", id, p["AlarmActions"])
		}
	}
	byMetric := func(ns, metric string, dimension string) bool {
		for _, a := range alarms {
			p := a["Properties"].(map[string]any)
			if p["Namespace"] == ns && p["MetricName"] == metric && (dimension == "" || referencedIDs(p["Dimensions"])[dimension]) {
				return true
			}
		}
		return false
	}
	pipeline := s.logicalID(t, "AWS::StepFunctions::StateMachine", "PipelineStateMachine")
	lookup := s.logicalID(t, "AWS::StepFunctions::StateMachine", "LookupStateMachine")
	for _, c := range []struct{ metric, machine string }{
		{"ExecutionsFailed", pipeline}, {"ExecutionsTimedOut", pipeline}, {"ExecutionsFailed", lookup}, {"ExecutionsTimedOut", lookup},
	} {
		if !byMetric("AWS/States", c.metric, c.machine) {
			t.Errorf("no %s alarm on %s", c.metric, c.machine)
		}
	}
	for _, spec := range functionSpecs(s.settings) {
		for _, metric := range []string{"Errors", "Throttles"} {
			if !byMetric("AWS/Lambda", metric, s.functionLogicalID(t, spec.name)) {
				t.Errorf("no %s alarm on %s", metric, spec.name)
			}
		}
	}
	check(t, "spend alarm at 80% of the cap", func() {
		s.template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), match(obj(
			"Namespace", SpendMetricNamespace, "MetricName", SpendMetricName, "Statistic", "Maximum",
			"Threshold", 8000, "ComparisonOperator", "GreaterThanOrEqualToThreshold",
		)))
	})
	check(t, "topic encrypted and SSL only", func() {
		s.template.HasResourceProperties(jsii.String("AWS::SNS::Topic"), match(obj("KmsMasterKeyId", assertions.Match_AnyValue())))
		s.template.HasResourceProperties(jsii.String("AWS::SNS::TopicPolicy"), match(obj("PolicyDocument", match(obj(
			"Statement", arrayOf(&[]any{match(obj("Effect", "Deny", "Condition", obj("Bool", obj("aws:SecureTransport", "false"))))}),
		)))))
		s.template.ResourceCountIs(jsii.String("AWS::CloudWatch::Dashboard"), jsii.Number(1))
		s.template.HasResourceProperties(jsii.String("AWS::CloudWatch::Dashboard"), match(obj("DashboardName", StackID)))
	})
}

func TestOutputs(t *testing.T) {
	s := defaultSynth(t)
	outputs, _ := s.json["Outputs"].(map[string]any)
	for _, name := range []string{OutBucketName, OutJobsTableName, OutPropertiesTableName, OutLeadsTableName, OutLookupsTableName,
		OutBudgetTableName, OutPipelineStateMachineARN, OutLookupStateMachineARN, OutAlarmTopicARN, OutRefreshFunctionName, OutImportFunctionName} {
		o, ok := outputs[name].(map[string]any)
		if !ok {
			t.Errorf("no output %s", name)
			continue
		}
		if len(referencedIDs(o["Value"])) != 1 {
			t.Errorf("output %s = %v, want a reference to one resource", name, o["Value"])
		}
	}
}

// TestJobEventGrants: the functions that emit job events may put them on exactly the
// account's default bus (no wildcard), only with the attom-batch source; no other role may.
func TestJobEventGrants(t *testing.T) {
	s := defaultSynth(t)
	roleOf := map[string]string{}
	for _, spec := range functionSpecs(s.settings) {
		role := fmt.Sprint(s.props(t, s.functionLogicalID(t, spec.name))["Role"].(map[string]any)["Fn::GetAtt"].([]any)[0])
		roleOf[role] = spec.name
	}
	granted := map[string]bool{}
	for role := range s.resources("AWS::IAM::Role") {
		for _, st := range s.policyStatements(t, role) {
			actions := strs(st["Action"])
			if !slices.Contains(actions, "events:PutEvents") {
				continue
			}
			name, isFunction := roleOf[role]
			if !isFunction || !slices.Contains(jobEventFunctions, name) {
				t.Errorf("%s (%s) may put events; only %v may", role, name, jobEventFunctions)
				continue
			}
			granted[name] = true
			if len(actions) != 1 {
				t.Errorf("%s: events statement grants %v, want only events:PutEvents", name, actions)
			}
			res := strings.Join(literals(st["Resource"]), "")
			if !strings.HasSuffix(res, ":event-bus/default") || !strings.HasPrefix(res, "arn:") || strings.Contains(res, "*") {
				t.Errorf("%s: events:PutEvents on %v, want exactly the default bus's ARN", name, st["Resource"])
			}
			want := map[string]any{"StringEquals": map[string]any{"events:source": JobEventSource}}
			if !reflect.DeepEqual(st["Condition"], want) {
				t.Errorf("%s: condition %v, want %v", name, st["Condition"], want)
			}
		}
	}
	for _, name := range jobEventFunctions {
		if !granted[name] {
			t.Errorf("%s may not put job events", name)
		}
	}
	// Without jobEventsEmail: no rule on the job events, no topic for them.
	for id, r := range s.resources("AWS::Events::Rule") {
		if strings.Contains(fmt.Sprint(r["Properties"].(map[string]any)["EventPattern"]), JobEventSource) {
			t.Errorf("rule %s matches job events without %s set", id, CtxJobEventsEmail)
		}
	}
	if n := len(s.resources("AWS::SNS::Topic")); n != 1 {
		t.Errorf("%d SNS topics, want only the alarm topic", n)
	}
	if n := len(s.resources("AWS::SNS::Subscription")); n != 0 {
		t.Errorf("%d subscriptions without any e-mail set", n)
	}
}

// TestJobEventsEmail: with jobEventsEmail set, a rule on the default bus sends every
// attom-batch event to an encrypted, SSL-only topic with that address subscribed, whose key
// EventBridge may use (CDK's SnsTopic target adds that key policy statement); undeliverable events go to the alarmed DLQ; cdk-nag stays clean.
func TestJobEventsEmail(t *testing.T) {
	s := synth(t, synthOptions{context: map[string]any{CtxJobEventsEmail: "jobs@example.com"}})
	topic := s.logicalID(t, "AWS::SNS::Topic", "JobEventsTopic")
	key := s.logicalID(t, "AWS::KMS::Key", "AlarmTopicKey")
	dlq := s.logicalID(t, "AWS::SQS::Queue", "DeliveryDLQ")
	rule := s.logicalID(t, "AWS::Events::Rule", "JobEventsRule")
	p := s.props(t, rule)
	wantPattern := map[string]any{"source": []any{JobEventSource}}
	if !reflect.DeepEqual(p["EventPattern"], wantPattern) {
		t.Errorf("pattern %v, want %v", p["EventPattern"], wantPattern)
	}
	if bus, ok := p["EventBusName"]; ok && bus != "default" {
		t.Errorf("rule on bus %v, want the default bus", bus)
	}
	if p["State"] != "ENABLED" {
		t.Errorf("rule state %v", p["State"])
	}
	targets := asList(p["Targets"])
	if len(targets) != 1 {
		t.Fatalf("targets %v, want the topic", p["Targets"])
	}
	target := targets[0].(map[string]any)
	if !referencedIDs(target["Arn"])[topic] || target["Input"] != nil || target["InputTransformer"] != nil {
		t.Errorf("target %v, want the job events topic with the whole event", target)
	}
	if dl, _ := target["DeadLetterConfig"].(map[string]any); !referencedIDs(dl["Arn"])[dlq] {
		t.Errorf("target dead letters to %v, want the delivery DLQ", target["DeadLetterConfig"])
	}
	check(t, "topic encrypted with the alarm key, SSL only, e-mail subscribed", func() {
		s.template.HasResourceProperties(jsii.String("AWS::SNS::Topic"), match(obj(
			"KmsMasterKeyId", obj("Fn::GetAtt", []any{key, "Arn"}), "DisplayName", "attom-batch job events")))
		s.template.HasResourceProperties(jsii.String("AWS::SNS::TopicPolicy"), match(obj(
			"Topics", []any{obj("Ref", topic)},
			"PolicyDocument", match(obj("Statement", arrayOf(&[]any{
				match(obj("Effect", "Deny", "Condition", obj("Bool", obj("aws:SecureTransport", "false")))),
				match(obj("Effect", "Allow", "Action", "sns:Publish", "Principal", obj("Service", "events.amazonaws.com"))),
			}))),
		)))
		s.template.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), obj(
			"Protocol", "email", "Endpoint", "jobs@example.com", "TopicArn", obj("Ref", topic)))
		s.template.HasResourceProperties(jsii.String("AWS::KMS::Key"), match(obj("KeyPolicy", match(obj(
			"Statement", arrayOf(&[]any{match(obj(
				"Principal", obj("Service", "events.amazonaws.com"),
				"Action", []any{"kms:Decrypt", "kms:GenerateDataKey*"},
			))}),
		)))))
	})
	for _, level := range []string{"error", "warning"} {
		for _, f := range findings(t, s, level, "AwsSolutions-.*") {
			t.Errorf("unsuppressed cdk-nag %s: %s", level, f)
		}
	}
	// The alarm topic keeps only its own subscribers.
	for id, sub := range s.resources("AWS::SNS::Subscription") {
		if !referencedIDs(sub["Properties"].(map[string]any)["TopicArn"])[topic] {
			t.Errorf("subscription %s is not on the job events topic", id)
		}
	}
}
