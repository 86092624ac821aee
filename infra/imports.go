package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
)

// newImportRule runs the import function for every CSV created under imports/ (a county
// delinquent-tax list at imports/county/list.csv is imported as source "county"; see
// docs/imports.md). The function gets the whole event, as the pipeline does for uploads.
//
// Delivery: the rule retries delivery and dead-letters to the DLQ like the upload rule.
// Lambda then runs the function asynchronously: two retries of a failed import (the
// import is idempotent: its id is its source and content, and a row the source already
// said exactly is unchanged), then the event goes to the same DLQ, which is alarmed.
func newImportRule(stack awscdk.Stack, bucket awss3.Bucket, fn awslambda.Function, dlq awssqs.Queue) awsevents.Rule {
	fn.ConfigureAsyncInvoke(&awslambda.EventInvokeConfigOptions{
		RetryAttempts: jsii.Number(2),
		MaxEventAge:   awscdk.Duration_Hours(jsii.Number(6)),
		OnFailure:     awslambdadestinations.NewSqsDestination(dlq),
	})
	return awsevents.NewRule(stack, jsii.String("ImportRule"), &awsevents.RuleProps{
		Description: jsii.String("A CSV created under imports/<source>/ is merged into the property records and leads"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.s3"),
			DetailType: jsii.Strings("Object Created"),
			Detail: &map[string]any{
				"bucket": map[string]any{"name": []*string{bucket.BucketName()}},
				// As for uploads: one wildcard for prefix and suffix (two matchers would be OR-ed).
				"object": map[string]any{"key": awsevents.Match_Wildcard(jsii.String(PrefixImports + "*.csv"))},
			},
		},
		Targets: &[]awsevents.IRuleTarget{
			awseventstargets.NewLambdaFunction(fn, &awseventstargets.LambdaFunctionProps{
				// No Event: the function's input is the S3 event itself.
				DeadLetterQueue: dlq,
				RetryAttempts:   jsii.Number(20),
				MaxEventAge:     awscdk.Duration_Hours(jsii.Number(24)),
			}),
		},
	})
}
