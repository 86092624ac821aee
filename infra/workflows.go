package main

import (
	"fmt"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"
)

// SubBucketName is an optional placeholder: a definition may take the bucket from its input
// (the lead's definitions do) or from ${BucketName}.
const SubBucketName = "BucketName"

// optionalSubstitutions are offered to every definition and substituted only when used.
var optionalSubstitutions = []string{SubBucketName}

// functionSubstitution is the placeholder of a function's ARN ("lookupchunk" ->
// "LookupChunkFunctionArn").
func functionSubstitution(name string) string {
	if name == FnLookupChunk {
		return "LookupChunkFunctionArn"
	}
	return string(name[0]-'a'+'A') + name[1:] + "FunctionArn"
}

// pipelineFunctions are the tasks of pipeline.asl.json.
var pipelineFunctions = []string{FnPrepare, FnSubmit, FnPoll, FnResume, FnDownload, FnProcess, FnLeads, FnComplete, FnFail}

// lookupFunctions are the tasks of lookup.asl.json.
var lookupFunctions = []string{FnLookupChunk}

// substitutionNames lists the placeholders a workflow must reference: its functions' ARNs.
func substitutionNames(functions []string) []string {
	var names []string
	for _, fn := range functions {
		names = append(names, functionSubstitution(fn))
	}
	return names
}

// workflowSpec is one state machine built from a definition file.
type workflowSpec struct {
	id         string
	file       string
	definition string
	functions  []string
	name       string // physical name; the lookup machine's own role must know its ARN
}

// newWorkflow builds a Standard state machine from a definition file, filling its
// placeholders, and lets it invoke exactly its own functions. Missing placeholders are
// synth errors and unused substitutions warnings, since CDK checks neither.
func newWorkflow(stack awscdk.Stack, r *resources, spec workflowSpec) awsstepfunctions.StateMachine {
	names := substitutionNames(spec.functions)
	if m := CheckSubstitutions(spec.file, spec.definition, names, optionalSubstitutions); m != nil {
		if len(m.Missing) > 0 {
			awscdk.Annotations_Of(stack).AddError(jsii.String(fmt.Sprintf("%s: no substitution for placeholders %v", spec.file, m.Missing)))
		}
		if len(m.Unused) > 0 {
			awscdk.Annotations_Of(stack).AddWarningV2(jsii.String("attom-batch:unused-substitution"),
				jsii.String(fmt.Sprintf("%s: substitutions never referenced %v", spec.file, m.Unused)), nil)
		}
	}
	subs := map[string]*string{}
	if slices.Contains(Placeholders(spec.definition), SubBucketName) {
		subs[SubBucketName] = r.bucket.BucketName()
	}
	for _, fn := range spec.functions {
		subs[functionSubstitution(fn)] = r.functions[fn].FunctionArn()
	}
	logGroup := awslogs.NewLogGroup(stack, jsii.String(spec.id+"Logs"), &awslogs.LogGroupProps{
		// The vendedlogs prefix keeps CloudWatch's log resource policy small.
		LogGroupName:  jsii.String("/aws/vendedlogs/states/" + spec.name),
		Retention:     awslogs.RetentionDays_ONE_MONTH,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	machine := awsstepfunctions.NewStateMachine(stack, jsii.String(spec.id), &awsstepfunctions.StateMachineProps{
		StateMachineName:        jsii.String(spec.name),
		StateMachineType:        awsstepfunctions.StateMachineType_STANDARD,
		DefinitionBody:          awsstepfunctions.DefinitionBody_FromString(jsii.String(spec.definition)),
		DefinitionSubstitutions: &subs,
		// ALL events (cdk-nag SF1) without execution data: the log shows the path taken, never
		// addresses or owner names.
		Logs: &awsstepfunctions.LogOptions{
			Destination:          logGroup,
			Level:                awsstepfunctions.LogLevel_ALL,
			IncludeExecutionData: jsii.Bool(false),
		},
		TracingEnabled: jsii.Bool(true),
	})
	// lambda:InvokeFunction on the unqualified ARNs only (grantInvoke would add ":*").
	arns := make([]*string, 0, len(spec.functions))
	for _, fn := range spec.functions {
		arns = append(arns, r.functions[fn].FunctionArn())
	}
	machine.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("lambda:InvokeFunction"),
		Resources: &arns,
	}))
	return machine
}

// allowDistributedMap lets the lookup machine run its Distributed Map: read the manifest
// (and chunk items) from the bucket's batches/ prefix, and start, describe and stop its own
// child executions. The ARNs are built from the machine's name, not its Ref, because the
// machine depends on its role's policy.
func allowDistributedMap(stack awscdk.Stack, machine awsstepfunctions.StateMachine, name string, bucket awss3.Bucket) {
	bucket.GrantRead(machine, jsii.String(PrefixBatches+"*"))
	self := stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("states"), Resource: jsii.String("stateMachine"),
		ResourceName: jsii.String(name), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
	children := stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("states"), Resource: jsii.String("execution"),
		ResourceName: jsii.String(name + "/*"), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
	machine.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("states:StartExecution"),
		Resources: &[]*string{self},
	}))
	machine.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("states:DescribeExecution", "states:StopExecution"),
		Resources: &[]*string{children},
	}))
}

// newUploadRule runs the start function for every CSV created under incoming/, which
// starts the pipeline with the event as its input (an S3 upload still triggers the state
// machine, through the starter).
//
// Duplicate delivery: S3 and EventBridge deliver at least once, and a rule cannot set the
// execution name, so the rule targets the start function, which can: it names the
// execution after the job (batch.ExecutionName: job id, job name, and the S3 sequencer
// that every delivery of one PUT shares), so a redelivered event finds the execution
// already started and starts nothing. Prepare still derives the job id from bucket, key
// and version and creates the job conditionally, so a second execution of one job (the
// CLI's own start, a re-drive) ends as AlreadyHandled while the first holds it.
//
// Delivery: the rule retries delivery for 24 hours and dead-letters to the DLQ; Lambda then
// runs the function asynchronously, with two retries of a failed start (a throttled
// StartExecution) before the event goes to the same DLQ, which is alarmed.
func newUploadRule(stack awscdk.Stack, bucket awss3.Bucket, start awslambda.Function, dlq awssqs.Queue) awsevents.Rule {
	return newCSVRule(stack, "UploadRule", "A CSV created under incoming/ starts the attom-batch pipeline (through the start function)",
		bucket, PrefixIncoming, start, dlq)
}

// newCSVRule invokes fn with the S3 "Object Created" event itself (no Event: the function's
// input is the event) for every CSV created under prefix. Delivery is retried for 24 hours
// and dead-lettered to dlq; Lambda then runs fn asynchronously with two retries of a failed
// invocation before the event goes to the same DLQ.
func newCSVRule(stack awscdk.Stack, id, description string, bucket awss3.Bucket, prefix string, fn awslambda.Function, dlq awssqs.Queue) awsevents.Rule {
	fn.ConfigureAsyncInvoke(&awslambda.EventInvokeConfigOptions{
		RetryAttempts: jsii.Number(2),
		MaxEventAge:   awscdk.Duration_Hours(jsii.Number(6)),
		OnFailure:     awslambdadestinations.NewSqsDestination(dlq),
	})
	return awsevents.NewRule(stack, jsii.String(id), &awsevents.RuleProps{
		Description: jsii.String(description),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.s3"),
			DetailType: jsii.Strings("Object Created"),
			Detail: &map[string]any{
				"bucket": map[string]any{"name": []*string{bucket.BucketName()}},
				// Prefix and suffix on the same field cannot be two matchers (they would be
				// OR-ed), so one wildcard expresses both: prefix ... .csv.
				"object": map[string]any{"key": awsevents.Match_Wildcard(jsii.String(prefix + "*.csv"))},
			},
		},
		Targets: &[]awsevents.IRuleTarget{
			awseventstargets.NewLambdaFunction(fn, &awseventstargets.LambdaFunctionProps{
				DeadLetterQueue: dlq,
				RetryAttempts:   jsii.Number(20),
				MaxEventAge:     awscdk.Duration_Hours(jsii.Number(24)),
			}),
		},
	})
}

// grantStartPipeline lets the start function start the pipeline and read its uploads'
// metadata, and nothing else: no table, no other prefix, no describe (StartExecution itself
// tells a start from a redelivery).
func grantStartPipeline(start awslambda.Function, pipeline awsstepfunctions.StateMachine, bucket awss3.Bucket) {
	start.AddEnvironment(jsii.String("ATTOM_BATCH_PIPELINE_STATE_MACHINE_ARN"), pipeline.StateMachineArn(), nil)
	pipeline.GrantStartExecution(start)
	// HeadObject of the upload: the options a client (CLI, web UI) left in its metadata,
	// so the rule's start makes the client's job, not a second one.
	bucket.GrantRead(start, jsii.String(PrefixIncoming+"*"))
}
