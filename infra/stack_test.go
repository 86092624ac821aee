package main

import (
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

func TestUploadRuleStartsPipelineWithTheEvent(t *testing.T) {
	s := defaultSynth(t)
	bucket := s.logicalID(t, "AWS::S3::Bucket", "DataBucket")
	pipeline := s.logicalID(t, "AWS::StepFunctions::StateMachine", "PipelineStateMachine")
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
				"Arn", obj("Ref", pipeline),
				// No Input/InputPath: the execution input is the event itself.
				"Input", assertions.Match_Absent(), "InputPath", assertions.Match_Absent(), "InputTransformer", assertions.Match_Absent(),
				"DeadLetterConfig", match(obj("Arn", assertions.Match_AnyValue())),
				"RetryPolicy", match(obj("MaximumRetryAttempts", 20)),
			))},
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
