// Command poll is the poll Lambda: checkBatchStatus. It reads the lookup execution and the job's progress and tells the pipeline to wait, pause for the cap, or go on.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/leadflow/attom-batch/internal/app"
)

func main() {
	tasks := app.MustLambdaTasks(context.Background())
	lambda.Start(tasks.Poll)
}
