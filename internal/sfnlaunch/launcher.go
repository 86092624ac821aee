// Package sfnlaunch starts and reads the lookup state machine on AWS Step Functions (or any
// engine that speaks its API, such as moto's). It is the AWS side of batch.Launcher.
package sfnlaunch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/leadflow/attom-batch/internal/batch"
)

// API is the part of the Step Functions client the launcher uses.
type API interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, opts ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, opts ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
}

// Launcher starts lookup executions on one state machine.
type Launcher struct {
	API             API
	StateMachineARN string
}

var _ batch.Launcher = (*Launcher)(nil)

// StartLookup starts an execution named after the run, so a retried Submit finds the
// execution it already started instead of starting a second one.
func (l *Launcher) StartLookup(ctx context.Context, in batch.LookupInput) (string, error) {
	input, err := json.Marshal(in)
	if err != nil {
		return "", err
	}
	out, err := l.API.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(l.StateMachineARN),
		Name:            aws.String(in.Run),
		Input:           aws.String(string(input)),
	})
	var exists *types.ExecutionAlreadyExists
	if errors.As(err, &exists) {
		return l.executionARN(in.Run), nil
	}
	if err != nil {
		return "", fmt.Errorf("sfnlaunch: start %s: %w", in.Run, err)
	}
	return aws.ToString(out.ExecutionArn), nil
}

// LookupStatus reads the execution's status and, when it failed, its error and cause.
func (l *Launcher) LookupStatus(ctx context.Context, executionARN string) (string, string, error) {
	out, err := l.API.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(executionARN)})
	if err != nil {
		return "", "", fmt.Errorf("sfnlaunch: describe %s: %w", executionARN, err)
	}
	cause := aws.ToString(out.Error)
	if c := aws.ToString(out.Cause); c != "" {
		cause += ": " + c
	}
	return string(out.Status), cause, nil
}

// executionARN derives an execution's ARN from its state machine's ARN and its name, which
// is how Step Functions builds it.
func (l *Launcher) executionARN(name string) string {
	return ExecutionARN(l.StateMachineARN, name)
}

// ExecutionARN turns arn:aws:states:R:A:stateMachine:M into arn:aws:states:R:A:execution:M:name.
func ExecutionARN(stateMachineARN, name string) string {
	const marker = ":stateMachine:"
	for i := 0; i+len(marker) <= len(stateMachineARN); i++ {
		if stateMachineARN[i:i+len(marker)] == marker {
			return stateMachineARN[:i] + ":execution:" + stateMachineARN[i+len(marker):] + ":" + name
		}
	}
	return stateMachineARN + ":" + name
}
