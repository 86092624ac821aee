// Command submit is the submit Lambda: submitBatchRequest. It estimates cost and completion and starts the lookup state machine.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/leadflow/attom-batch/internal/app"
)

func main() {
	tasks := app.MustLambdaTasks(context.Background())
	lambda.Start(tasks.Submit)
}
