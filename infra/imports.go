package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
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
	return newCSVRule(stack, "ImportRule", "A CSV created under imports/<source>/ is merged into the property records and leads",
		bucket, PrefixImports, fn, dlq)
}
