// Command fail is the fail Lambda: MarkFailed. It records the caught error on the job so the job can be re-driven.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/leadflow/attom-batch/internal/app"
)

func main() {
	tasks := app.MustLambdaTasks(context.Background())
	lambda.Start(tasks.Fail)
}
