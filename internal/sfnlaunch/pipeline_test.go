package sfnlaunch

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// pipelineAPI answers StartExecution like Step Functions: a name it does not know starts
// now; the name of a running execution with the same input returns that execution with
// its start date; any other known name is ExecutionAlreadyExists.
type pipelineAPI struct {
	running map[string]string // name -> input
	ended   map[string]bool
	started time.Time
	err     error
	calls   []sfn.StartExecutionInput
}

func (p *pipelineAPI) StartExecution(_ context.Context, in *sfn.StartExecutionInput, _ ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	p.calls = append(p.calls, *in)
	name := aws.ToString(in.Name)
	switch input, ok := p.running[name]; {
	case p.err != nil:
		return nil, p.err
	case p.ended[name] || (ok && input != aws.ToString(in.Input)):
		return nil, &types.ExecutionAlreadyExists{Message: aws.String("Execution Already Exists")}
	case ok:
		return &sfn.StartExecutionOutput{ExecutionArn: aws.String(ExecutionARN(*in.StateMachineArn, name)), StartDate: aws.Time(p.started)}, nil
	}
	p.running[name] = aws.ToString(in.Input)
	p.started = time.Now()
	return &sfn.StartExecutionOutput{ExecutionArn: aws.String(ExecutionARN(*in.StateMachineArn, name)), StartDate: aws.Time(p.started)}, nil
}

const pipelineMachine = "arn:aws:states:us-east-1:123456789012:stateMachine:AttomBatch-pipeline"

func TestStartPipelineTellsStartedFromFound(t *testing.T) {
	api := &pipelineAPI{running: map[string]string{}, ended: map[string]bool{}}
	now := time.Now()
	p := &Pipeline{API: api, StateMachineARN: pipelineMachine, Now: func() time.Time { return now }}
	ctx := context.Background()
	want := "arn:aws:states:us-east-1:123456789012:execution:AttomBatch-pipeline:job-1-x-s3-1"

	arn, already, err := p.StartPipeline(ctx, "job-1-x-s3-1", []byte(`{"a":1}`))
	if err != nil || already || arn != want {
		t.Fatalf("first start: %s %v %v", arn, already, err)
	}
	if in := api.calls[0]; aws.ToString(in.Name) != "job-1-x-s3-1" || aws.ToString(in.Input) != `{"a":1}` || aws.ToString(in.StateMachineArn) != pipelineMachine {
		t.Fatalf("asked %+v", in)
	}
	// The same event a minute later, still running: Step Functions returns it.
	now = now.Add(time.Minute)
	if arn, already, err = p.StartPipeline(ctx, "job-1-x-s3-1", []byte(`{"a":1}`)); err != nil || !already || arn != want {
		t.Fatalf("redelivery while running: %s %v %v", arn, already, err)
	}
	// Another notification of the same PUT (other input), or after it ended: refused, found.
	if arn, already, err = p.StartPipeline(ctx, "job-1-x-s3-1", []byte(`{"a":2}`)); err != nil || !already || arn != want {
		t.Fatalf("other input: %s %v %v", arn, already, err)
	}
	api.ended["job-1-x-s3-1"] = true
	if arn, already, err = p.StartPipeline(ctx, "job-1-x-s3-1", []byte(`{"a":1}`)); err != nil || !already || arn != want {
		t.Fatalf("after it ended: %s %v %v", arn, already, err)
	}
	api.err = errors.New("ThrottlingException")
	if _, _, err = p.StartPipeline(ctx, "job-2", []byte(`{}`)); err == nil {
		t.Fatal("a failed start is no error")
	}
}
