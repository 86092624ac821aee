// Command import is the import Lambda: run by the EventBridge rule on a CSV created under imports/<source>/, it merges that source's list into the property records and re-scores the leads, as `attom-batch import` does; no ATTOM call.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/leadflow/attom-batch/internal/app"
)

func main() {
	tasks := app.MustLambdaTasks(context.Background())
	lambda.Start(tasks.ImportObject)
}
