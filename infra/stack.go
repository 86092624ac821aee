package main

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// AttomBatchStackProps configures the stack. Settings and Definitions are resolved by the
// caller (main from CDK context and statemachine/, tests from testdata) so the stack itself
// does no file or context parsing that could fail halfway through.
type AttomBatchStackProps struct {
	awscdk.StackProps
	Settings    Settings
	Definitions Definitions
}

// resources are the stack's parts that grants, environment and alarms refer to.
type resources struct {
	bucket     awss3.Bucket
	jobs       awsdynamodb.Table
	properties awsdynamodb.Table
	leads      awsdynamodb.Table
	lookups    awsdynamodb.Table
	budget     awsdynamodb.Table
	functions  map[string]awslambda.Function
}

// NewAttomBatchStack is the whole AWS deployment of attom-batch: the bucket uploads land in,
// the two workflows, their Go Lambdas, the tables, the refresh schedule and the alarms.
// It is environment-agnostic (no account or region lookups), so it synthesizes offline.
func NewAttomBatchStack(scope constructs.Construct, id string, props *AttomBatchStackProps) awscdk.Stack {
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	s := props.Settings

	r := &resources{functions: map[string]awslambda.Function{}}
	r.bucket = newDataBucket(stack, newAccessLogBucket(stack))
	jobs, properties, leads, lookups, budget := tableSpecs()
	r.jobs, r.properties, r.leads = newTable(stack, jobs), newTable(stack, properties), newTable(stack, leads)
	r.lookups, r.budget = newTable(stack, lookups), newTable(stack, budget)

	env := baseEnvironment(s, r)
	for _, spec := range functionSpecs(s) {
		r.functions[spec.name] = newFunction(stack, s, spec, env)
	}
	configureLookupFunction(stack, s, r.functions[FnLookupChunk])
	grantData(r)
	grantJobEvents(stack, r)

	lookupName := *stack.StackName() + "-lookup"
	lookup := newWorkflow(stack, r, workflowSpec{
		id: "LookupStateMachine", file: LookupDefinitionFile, definition: props.Definitions.Lookup,
		functions: lookupFunctions, name: lookupName,
	})
	allowDistributedMap(stack, lookup, lookupName, r.bucket)
	pipeline := newWorkflow(stack, r, workflowSpec{
		id: "PipelineStateMachine", file: PipelineDefinitionFile, definition: props.Definitions.Pipeline,
		functions: pipelineFunctions, name: *stack.StackName() + "-pipeline",
	})
	grantLookupMachine(r, lookup)

	dlq := newDeliveryDLQ(stack)
	grantStartPipeline(r.functions[FnStart], pipeline, r.bucket)
	newUploadRule(stack, r.bucket, r.functions[FnStart], dlq)
	newRefreshSchedule(stack, s, r.functions[FnRefresh], dlq)
	newImportRule(stack, r.bucket, r.functions[FnImport], dlq)

	topic, topicKey := newAlarmTopic(stack, s.AlarmEmail)
	if s.JobEventsEmail != "" {
		newJobEventsEmail(stack, s.JobEventsEmail, topicKey, dlq)
	}
	m := monitoring{topic: topic, pipeline: pipeline, lookup: lookup, dlq: dlq, settings: s}
	alarms := addAlarms(stack, r, m)
	addDashboard(stack, r, m, alarms)

	addOutputs(stack, r, pipeline, lookup, topic)
	addNagSuppressions(stack)
	return stack
}

// configureLookupFunction ties the lookup function to ATTOM's per-key rate and gives it the
// only access to the API key.
//
// Rate: ATTOM allows attomRatePerMinute calls per key, shared by every running lookup.
// ReservedConcurrentExecutions = lookupConcurrency (functionSpecs) caps how many run at once, and each one's
// in-process limiter runs at ATTOM_RATE_PER_MINUTE = floor(attomRatePerMinute /
// lookupConcurrency), so together they never exceed the key's rate. With the default
// concurrency 1 the in-process limiter is the global limiter. The lookup Map's
// MaxConcurrency should equal lookupConcurrency; a higher one only produces throttles that
// its Retry absorbs.
func configureLookupFunction(stack awscdk.Stack, s Settings, fn awslambda.Function) {
	// ssm:GetParameter on exactly the key's parameter. The key is a SecureString put there by
	// hand (CloudFormation cannot create SecureStrings); with the AWS managed aws/ssm key no
	// kms:Decrypt grant is needed (its key policy allows account principals via SSM).
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("ssm:GetParameter"),
		Resources: &[]*string{parameterARN(stack, s.ATTOMAPIKeyParameter)},
	}))
	if s.ATTOMAPIKeyKMSKeyARN != "" {
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("kms:Decrypt"),
			Resources: jsii.Strings(s.ATTOMAPIKeyKMSKeyARN),
			Conditions: &map[string]any{"StringEquals": map[string]any{
				"kms:ViaService": fmt.Sprintf("ssm.%s.amazonaws.com", *stack.Region()),
			}},
		}))
	}
	// PutMetricData has no resource-level permissions; the namespace condition limits it
	// to the spend metric's namespace.
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:    jsii.Strings("cloudwatch:PutMetricData"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": map[string]any{"cloudwatch:namespace": SpendMetricNamespace}},
	}))
}

// parameterARN is the ARN of an SSM parameter named with a leading slash.
func parameterARN(stack awscdk.Stack, name string) *string {
	return stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("ssm"), Resource: jsii.String("parameter"),
		ResourceName: jsii.String(strings.TrimPrefix(name, "/")),
		ArnFormat:    awscdk.ArnFormat_SLASH_RESOURCE_NAME,
	})
}

// grantData gives each function exactly the tables and bucket prefixes its task touches
// (internal/batch): what it reads, what it writes, nothing else.
func grantData(r *resources) {
	fn := r.functions
	batches, incoming, exports := jsii.String(PrefixBatches+"*"), jsii.String(PrefixIncoming+"*"), jsii.String(PrefixExports+"*")

	// Every pipeline task reads or updates the job record, and takes, renews or releases the
	// job's lease (item "lease#job:<id>" in the lookups table: GetItem, a conditional PutItem
	// or UpdateItem, DeleteItem). prepare also reads the answer cache ("answer#<key>" items,
	// BatchGetItem) to count what is already known; lookupchunk's further use is below.
	for _, name := range []string{FnPrepare, FnSubmit, FnPoll, FnResume, FnDownload, FnProcess, FnLeads, FnComplete, FnFail, FnLookupChunk} {
		r.jobs.GrantReadWriteData(fn[name])
		r.lookups.GrantReadWriteData(fn[name])
	}
	// prepare: the upload in, chunks, manifest and rejects out.
	r.bucket.GrantRead(fn[FnPrepare], incoming)
	r.bucket.GrantReadWrite(fn[FnPrepare], batches)
	// poll: lists batches/<job>/lookups/ to tell done from paused-by-cap; at a pause it sums
	// the chunks' tallies and re-assembles the leads export from their parts (issue 15).
	r.bucket.GrantRead(fn[FnPoll], batches)
	r.bucket.GrantPut(fn[FnPoll], exports)
	// lookupchunk: reads its chunk, writes its results, records lookups, reads and writes the
	// answer cache, holds one lease per chunk attempt (all in the lookups table, granted
	// above), reserves and settles the day's budget. Then it finishes the chunk: property
	// records and leads written (merged properties read back), the upload's header read once
	// for the export's columns, its export part and tally written under batches/.
	r.bucket.GrantReadWrite(fn[FnLookupChunk], batches)
	r.budget.GrantReadWriteData(fn[FnLookupChunk])
	r.properties.GrantReadWriteData(fn[FnLookupChunk])
	r.leads.GrantReadWriteData(fn[FnLookupChunk])
	r.bucket.GrantRead(fn[FnLookupChunk], incoming)
	// download: chunk results (batches/<job>/lookups/) in, one results file out.
	r.bucket.GrantReadWrite(fn[FnDownload], batches)
	// process: finishes the chunks the lookups left unfinished, as lookupchunk does.
	r.bucket.GrantReadWrite(fn[FnProcess], batches)
	r.bucket.GrantRead(fn[FnProcess], incoming)
	r.properties.GrantReadWriteData(fn[FnProcess])
	r.leads.GrantReadWriteData(fn[FnProcess])
	// leads: the chunks' export parts and tallies in, the CSV export out.
	r.bucket.GrantRead(fn[FnLeads], batches)
	r.bucket.GrantPut(fn[FnLeads], exports)
	// refresh: stale records in, one refresh CSV into incoming/ (it then runs through the
	// same pipeline, budget and dedupe as any upload).
	r.properties.GrantReadData(fn[FnRefresh])
	r.bucket.GrantPut(fn[FnRefresh], incoming)
	// import: the list in from imports/, property records merged and leads re-scored (or
	// created), the rejected rows out under import-results/. No lease, no job, no answer
	// cache, no budget: it never calls ATTOM.
	r.bucket.GrantRead(fn[FnImport], jsii.String(PrefixImports+"*"))
	r.bucket.GrantPut(fn[FnImport], jsii.String(PrefixImportResults+"*"))
	r.properties.GrantReadWriteData(fn[FnImport])
	r.leads.GrantReadWriteData(fn[FnImport])
}

// grantLookupMachine lets submit and resume start the lookup workflow and poll read it.
func grantLookupMachine(r *resources, lookup awsstepfunctions.StateMachine) {
	for _, name := range functionsUsingLookupMachine {
		r.functions[name].AddEnvironment(jsii.String("ATTOM_BATCH_LOOKUP_STATE_MACHINE_ARN"), lookup.StateMachineArn(), nil)
	}
	lookup.GrantStartExecution(r.functions[FnSubmit])
	lookup.GrantStartExecution(r.functions[FnResume])
	lookup.GrantExecution(r.functions[FnPoll], jsii.String("states:DescribeExecution"))
	lookup.GrantExecution(r.functions[FnResume], jsii.String("states:DescribeExecution"))
}

// newRefreshSchedule runs the refresh function on the configured rate through EventBridge
// Scheduler, with a role that may invoke only that function (and dead-letter to the DLQ).
// The input has the events/testdata/scheduled-refresh.json shape.
func newRefreshSchedule(stack awscdk.Stack, s Settings, refresh awslambda.Function, dlq awssqs.Queue) awsscheduler.CfnSchedule {
	role := awsiam.NewRole(stack, jsii.String("RefreshScheduleRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()}},
		}),
		Description: jsii.String("EventBridge Scheduler: invoke the attom-batch refresh function"),
	})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("lambda:InvokeFunction"),
		Resources: &[]*string{refresh.FunctionArn()},
	}))
	dlq.GrantSendMessages(role)
	// Scheduler invokes Lambda asynchronously: one Lambda retry, then the DLQ. A missed
	// refresh is also made up by the next run, which selects by age.
	refresh.ConfigureAsyncInvoke(&awslambda.EventInvokeConfigOptions{
		RetryAttempts: jsii.Number(1),
		MaxEventAge:   awscdk.Duration_Hours(jsii.Number(1)),
		OnFailure:     awslambdadestinations.NewSqsDestination(dlq),
	})
	input := fmt.Sprintf(`{"version":"0","id":"<aws.scheduler.execution-id>","detail-type":"Scheduled Event",`+
		`"source":"aws.scheduler","time":"<aws.scheduler.scheduled-time>","resources":["<aws.scheduler.schedule-arn>"],`+
		`"detail":{"max_age_days":%d,"limit":%d}}`, s.RefreshMaxAgeDays, s.RefreshLimit)
	return awsscheduler.NewCfnSchedule(stack, jsii.String("RefreshSchedule"), &awsscheduler.CfnScheduleProps{
		Description:                jsii.String("Refresh stale property records"),
		ScheduleExpression:         jsii.String(s.RefreshSchedule),
		ScheduleExpressionTimezone: jsii.String("UTC"),
		FlexibleTimeWindow:         &awsscheduler.CfnSchedule_FlexibleTimeWindowProperty{Mode: jsii.String("OFF")},
		Target: &awsscheduler.CfnSchedule_TargetProperty{
			Arn:              refresh.FunctionArn(),
			RoleArn:          role.RoleArn(),
			Input:            jsii.String(input),
			RetryPolicy:      &awsscheduler.CfnSchedule_RetryPolicyProperty{MaximumRetryAttempts: jsii.Number(3), MaximumEventAgeInSeconds: jsii.Number(3600)},
			DeadLetterConfig: &awsscheduler.CfnSchedule_DeadLetterConfigProperty{Arn: dlq.QueueArn()},
		},
	})
}

// Output names, read by the CLI's `--backend aws` set-up (see infra/README.md).
const (
	OutBucketName              = "BucketName"
	OutJobsTableName           = "JobsTableName"
	OutPropertiesTableName     = "PropertiesTableName"
	OutLeadsTableName          = "LeadsTableName"
	OutLookupsTableName        = "LookupsTableName"
	OutBudgetTableName         = "BudgetTableName"
	OutPipelineStateMachineARN = "PipelineStateMachineArn"
	OutLookupStateMachineARN   = "LookupStateMachineArn"
	OutAlarmTopicARN           = "AlarmTopicArn"
	OutRefreshFunctionName     = "RefreshFunctionName"
	OutImportFunctionName      = "ImportFunctionName"
)

func addOutputs(stack awscdk.Stack, r *resources, pipeline, lookup awsstepfunctions.StateMachine, topic interface{ TopicArn() *string }) {
	out := func(id, description string, value *string) {
		awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(description)})
	}
	out(OutBucketName, "ATTOM_BATCH_BUCKET: uploads go to incoming/", r.bucket.BucketName())
	out(OutJobsTableName, "ATTOM_BATCH_JOBS_TABLE", r.jobs.TableName())
	out(OutPropertiesTableName, "ATTOM_BATCH_PROPERTIES_TABLE", r.properties.TableName())
	out(OutLeadsTableName, "ATTOM_BATCH_LEADS_TABLE", r.leads.TableName())
	out(OutLookupsTableName, "ATTOM_BATCH_LOOKUPS_TABLE", r.lookups.TableName())
	out(OutBudgetTableName, "ATTOM_BATCH_BUDGET_TABLE", r.budget.TableName())
	out(OutPipelineStateMachineARN, "ATTOM_BATCH_PIPELINE_STATE_MACHINE_ARN", pipeline.StateMachineArn())
	out(OutLookupStateMachineARN, "ATTOM_BATCH_LOOKUP_STATE_MACHINE_ARN", lookup.StateMachineArn())
	out(OutAlarmTopicARN, "Alarm notifications: subscribe here", topic.TopicArn())
	out(OutRefreshFunctionName, "Invoke to run a refresh now", r.functions[FnRefresh].FunctionName())
	out(OutImportFunctionName, "Runs on every CSV dropped under imports/<source>/", r.functions[FnImport].FunctionName())
}
