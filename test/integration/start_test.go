//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/leadflow/attom-batch/events"
	"github.com/leadflow/attom-batch/internal/batch"
)

// invokeStart runs the start function with raw as its event, as the upload rule does on
// AWS (moto turns no S3 write into an event), and returns its answer and function error.
func (s *testSuite) invokeStart(t *testing.T, raw []byte) (batch.Started, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := lambda.NewFromConfig(s.cloud.AWSConfig()).Invoke(ctx, &lambda.InvokeInput{
		FunctionName: aws.String(s.cloud.FunctionARN("start")),
		Payload:      raw,
	})
	if err != nil {
		t.Fatalf("invoke start: %v", err)
	}
	if out.FunctionError != nil {
		return batch.Started{}, string(out.Payload)
	}
	var started batch.Started
	if err := json.Unmarshal(out.Payload, &started); err != nil {
		t.Fatalf("start answered %s: %v", out.Payload, err)
	}
	return started, ""
}

// pipelineExecutions lists the names of the pipeline's executions that start with prefix.
func (s *testSuite) pipelineExecutions(t *testing.T, prefix string) []string {
	t.Helper()
	var names []string
	pages := sfn.NewListExecutionsPaginator(s.sfn, &sfn.ListExecutionsInput{StateMachineArn: aws.String(s.pipelineARN)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatalf("list executions: %v", err)
		}
		for _, e := range page.Executions {
			if name := aws.ToString(e.Name); strings.HasPrefix(name, prefix) {
				names = append(names, name)
			}
		}
	}
	return names
}

// TestUploadDeliveredThreeTimesStartsOneExecution: the start function, invoked three times
// with one upload's "Object Created" event (twice while the execution runs, once after it
// ended), starts one pipeline execution, named after the job, which completes the job; the
// other deliveries answer with that execution, already started. Keys that are not uploads
// are refused, clearly.
func TestUploadDeliveredThreeTimesStartsOneExecution(t *testing.T) {
	event := suite.upload(t, "incoming/it-start.csv", csvFile(addresses("Juniper Lane", 4)...), nil)
	id := jobID(t, event)

	first, ferr := suite.invokeStart(t, event)
	if ferr != "" {
		t.Fatalf("start function error: %s", ferr)
	}
	valid := regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)
	if first.JobID != id || first.AlreadyStarted || !valid.MatchString(first.Execution) ||
		!strings.HasPrefix(first.Execution, id+"-it-start-s3-") || !strings.HasSuffix(first.ExecutionARN, ":"+first.Execution) {
		t.Fatalf("first delivery: %+v (job %s)", first, id)
	}
	second, ferr := suite.invokeStart(t, event)
	if ferr != "" || second.ExecutionARN != first.ExecutionARN || second.Execution != first.Execution {
		t.Fatalf("second delivery: %+v %s; the first started %s", second, ferr, first.ExecutionARN)
	}

	t.Logf("execution %s; the second delivery found it (already started: %v)", first.Execution, second.AlreadyStarted)
	exec := suite.waitExecution(t, first.ExecutionARN)
	if exec.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: %s %s (path %v)", exec.ARN, exec.Error, exec.Cause, exec.Path)
	}
	if job := suite.job(t, id); job.Status != batch.StatusCompleted || job.ExecutionID != first.ExecutionARN || job.Name != "it-start" {
		t.Fatalf("job %s: status %s, execution %s, name %q", id, job.Status, job.ExecutionID, job.Name)
	}

	third, ferr := suite.invokeStart(t, event)
	if ferr != "" || !third.AlreadyStarted || third.ExecutionARN != first.ExecutionARN {
		t.Fatalf("third delivery, after the execution ended: %+v %s", third, ferr)
	}
	if names := suite.pipelineExecutions(t, id); len(names) != 1 || names[0] != first.Execution {
		t.Fatalf("executions of job %s: %v, want only %s", id, names, first.Execution)
	}

	refused := map[string]string{
		"imports/county/it-start.csv": "not under incoming/",
		"incoming/it-start.txt":       "want a .csv file",
	}
	for key, want := range refused {
		raw, _ := json.Marshal(events.NewObjectCreated(bucket, key, "x", 1, time.Now()))
		if _, ferr := suite.invokeStart(t, raw); !strings.Contains(ferr, "InvalidInput") || !strings.Contains(ferr, want) {
			t.Errorf("%s: %q, want an InvalidInput saying %q", key, ferr, want)
		}
	}
}
