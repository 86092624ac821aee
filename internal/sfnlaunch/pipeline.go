package sfnlaunch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/leadflow/attom-batch/internal/batch"
)

// StartAPI is the part of the Step Functions client Pipeline uses: StartExecution only (the
// start function may do nothing else).
type StartAPI interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, opts ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
}

// Pipeline starts executions of the pipeline state machine under the names
// batch.ExecutionName gives them: the start function's and the CLI's on AWS.
type Pipeline struct {
	API             StartAPI
	StateMachineARN string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

var _ batch.PipelineStarter = (*Pipeline)(nil)

// startSkew is how much earlier than the call an execution's start date must be for the
// call to have found it rather than started it (clocks of Lambda and Step Functions differ
// by less).
const startSkew = time.Second

// StartPipeline starts the execution. Step Functions answers a start under the name of a
// running execution with the same input with that execution (its start date tells it was
// already running), and refuses any other reuse of a name it keeps (ExecutionAlreadyExists:
// the execution ended, or the input differs, as for a second S3 notification of one PUT):
// both are the execution that was already started, not an error.
func (p *Pipeline) StartPipeline(ctx context.Context, name string, input []byte) (string, bool, error) {
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	before := now()
	out, err := p.API.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(p.StateMachineARN),
		Name:            aws.String(name),
		Input:           aws.String(string(input)),
	})
	var exists *types.ExecutionAlreadyExists
	if errors.As(err, &exists) {
		return ExecutionARN(p.StateMachineARN, name), true, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("sfnlaunch: start %s: %w", name, err)
	}
	already := out.StartDate != nil && out.StartDate.Before(before.Add(-startSkew))
	arn := aws.ToString(out.ExecutionArn)
	if arn == "" {
		arn = ExecutionARN(p.StateMachineARN, name)
	}
	return arn, already, nil
}
