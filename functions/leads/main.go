// Command leads is the leads Lambda: it scores each property and saves one lead per property, then exports the leads CSV.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/leadflow/attom-batch/internal/app"
)

func main() {
	tasks := app.MustLambdaTasks(context.Background())
	lambda.Start(tasks.Leads)
}
