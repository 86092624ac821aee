// Command lookupchunk is the lookupchunk Lambda: it looks up one chunk of addresses on ATTOM at the shared rate under the daily cap. Its reserved concurrency makes its in-process rate limiter ATTOM's global one.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/leadflow/attom-batch/internal/app"
)

func main() {
	tasks := app.MustLambdaTasks(context.Background())
	lambda.Start(tasks.LookupChunk)
}
