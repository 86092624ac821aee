// Command refresh is the refresh Lambda: run by the EventBridge schedule, it drops a CSV of stale property records under incoming/, which starts the pipeline like any upload.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/leadflow/attom-batch/internal/app"
)

func main() {
	tasks := app.MustLambdaTasks(context.Background())
	lambda.Start(tasks.Refresh)
}
