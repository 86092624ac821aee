// Command download is the download Lambda: downloadBatchResults. It assembles the chunk results into one results file in S3.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/leadflow/attom-batch/internal/app"
)

func main() {
	tasks := app.MustLambdaTasks(context.Background())
	lambda.Start(tasks.Download)
}
