// Command resume is the resume Lambda: it starts the lookup state machine again after the daily cap resets; finished chunks are skipped.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/leadflow/attom-batch/internal/app"
)

func main() {
	tasks := app.MustLambdaTasks(context.Background())
	lambda.Start(tasks.Resume)
}
