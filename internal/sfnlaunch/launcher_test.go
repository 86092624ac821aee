package sfnlaunch

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/leadflow/attom-batch/internal/batch"
)

// recordingAPI answers like Step Functions and remembers what it was asked.
type recordingAPI struct {
	started []sfn.StartExecutionInput
	exists  bool
	status  types.ExecutionStatus
}

func (r *recordingAPI) StartExecution(_ context.Context, in *sfn.StartExecutionInput, _ ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	r.started = append(r.started, *in)
	if r.exists {
		return nil, &types.ExecutionAlreadyExists{Message: aws.String("exists")}
	}
	return &sfn.StartExecutionOutput{ExecutionArn: aws.String(ExecutionARN(*in.StateMachineArn, *in.Name))}, nil
}

func (r *recordingAPI) DescribeExecution(_ context.Context, in *sfn.DescribeExecutionInput, _ ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	return &sfn.DescribeExecutionOutput{Status: r.status, ExecutionArn: in.ExecutionArn,
		Error: aws.String("AttomUnavailable"), Cause: aws.String("ATTOM down")}, nil
}

const machine = "arn:aws:states:us-east-1:123456789012:stateMachine:attom-lookup"

func TestStartLookupNamesTheExecutionAfterTheRun(t *testing.T) {
	api := &recordingAPI{}
	l := &Launcher{API: api, StateMachineARN: machine}
	arn, err := l.StartLookup(context.Background(), batch.LookupInput{JobID: "job-1", Bucket: "b", ManifestKey: "m", Run: "job-1-abcd-1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "arn:aws:states:us-east-1:123456789012:execution:attom-lookup:job-1-abcd-1"; arn != want {
		t.Fatalf("arn %s, want %s", arn, want)
	}
	var in batch.LookupInput
	if err := json.Unmarshal([]byte(*api.started[0].Input), &in); err != nil || in.ManifestKey != "m" || in.Bucket != "b" {
		t.Fatalf("input %s (%v)", *api.started[0].Input, err)
	}
}

func TestStartLookupTwiceFindsTheFirstExecution(t *testing.T) {
	l := &Launcher{API: &recordingAPI{exists: true}, StateMachineARN: machine}
	arn, err := l.StartLookup(context.Background(), batch.LookupInput{JobID: "j", Run: "j-1"})
	if err != nil || arn != ExecutionARN(machine, "j-1") {
		t.Fatalf("arn %q err %v", arn, err)
	}
}

func TestLookupStatusCarriesTheCause(t *testing.T) {
	l := &Launcher{API: &recordingAPI{status: types.ExecutionStatusFailed}, StateMachineARN: machine}
	status, cause, err := l.LookupStatus(context.Background(), "arn")
	if err != nil || status != batch.ExecFailed || cause != "AttomUnavailable: ATTOM down" {
		t.Fatalf("%q %q %v", status, cause, err)
	}
}
