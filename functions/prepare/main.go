// Command prepare is the prepare Lambda: createBatchRequest. It reads the uploaded CSV, rejects bad rows, dedupes addresses, writes the chunks and the manifest, and creates the job (once per uploaded object).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/leadflow/attom-batch/internal/app"
)

func main() {
	tasks := app.MustLambdaTasks(context.Background())
	lambda.Start(tasks.Prepare)
}
