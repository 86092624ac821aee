// Command start is the start function: run by the EventBridge rule on a CSV created under incoming/, it starts the pipeline state machine with the event as its input, under an execution name made from the job (batch.ExecutionName), so the Step Functions console reads like the job list and a redelivered event starts nothing.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/leadflow/attom-batch/internal/app"
)

func main() {
	starter := app.MustLambdaStarter(context.Background())
	lambda.Start(starter.StartUpload)
}
