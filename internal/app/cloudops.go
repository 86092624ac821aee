package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/leadflow/attom-batch/events"
	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/sfnlaunch"
	"github.com/leadflow/attom-batch/statemachine"
)

// Submit uploads the file to incoming/ and starts the pipeline with the same event
// EventBridge would send, carrying the CLI's options. On AWS the bucket's rule also starts an
// execution for the upload (through the start function); whichever reaches Prepare second
// finds the job taken and ends as AlreadyHandled.
// It returns once the pipeline's Prepare has recorded the job, so the caller can show it.
func (c *Cloud) Submit(ctx context.Context, path string, opts batch.SubmitOptions) (string, error) {
	id, arn, err := c.start(ctx, path, opts)
	if err != nil {
		return id, err
	}
	return id, c.waitForJob(ctx, id, arn)
}

// jobWait bounds how long Submit waits for Prepare to record the job: a cold start and
// Prepare's own retries of transient errors fit well inside it.
const jobWait = 2 * time.Minute

// waitForJob waits until the job exists. Prepare creates it inside the state machine a
// moment after StartExecution returns, so reading it at once finds nothing. An execution
// that ends without the job (Prepare refused the file) is reported with its error.
func (c *Cloud) waitForJob(ctx context.Context, id, arn string) error {
	ctx, cancel := context.WithTimeout(ctx, jobWait)
	defer cancel()
	for {
		_, err := c.Tasks.Jobs.GetJob(ctx, id)
		if !errors.Is(err, batch.ErrNotFound) {
			return err
		}
		out, err := c.SFN.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			return err
		}
		if out.Status != sfntypes.ExecutionStatusRunning {
			if _, err := c.Tasks.Jobs.GetJob(ctx, id); !errors.Is(err, batch.ErrNotFound) {
				return err // written just before the execution ended
			}
			return fmt.Errorf("pipeline %s ended %s before creating job %s: %s: %s",
				arn, out.Status, id, aws.ToString(out.Error), aws.ToString(out.Cause))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("job %s: pipeline %s has not created it after %s: %w", id, arn, jobWait, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (c *Cloud) start(ctx context.Context, path string, opts batch.SubmitOptions) (string, string, error) {
	key := "incoming/" + filepath.Base(path)
	if err := c.upload(ctx, path, key, opts); err != nil {
		return "", "", err
	}
	return c.startKey(ctx, key, opts, batch.RunCLI)
}

// upload puts the file under key with the options in its metadata, so the start function
// the upload rule runs for it makes this job, not a second one (batch.UploadOptionsKey).
func (c *Cloud) upload(ctx context.Context, path, key string, opts batch.SubmitOptions) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return c.Tasks.PutUpload(ctx, key, f, opts)
}

// StartKey starts the pipeline for an object already under incoming/ (the web UI streams an
// upload there itself) and returns once Prepare has recorded the job, as Submit does.
func (c *Cloud) StartKey(ctx context.Context, key string, opts batch.SubmitOptions) (string, error) {
	id, arn, err := c.startKey(ctx, key, opts, batch.RunWeb)
	if err != nil {
		return id, err
	}
	return id, c.waitForJob(ctx, id, arn)
}

// startKey starts the pipeline for an object already in the bucket; kind says who (batch.RunCLI, ...).
func (c *Cloud) startKey(ctx context.Context, key string, opts batch.SubmitOptions, kind string) (string, string, error) {
	return c.startKeyIf(ctx, key, opts, "", kind)
}

// startKeyIf starts the pipeline for the object unless its event names another job than
// want (when want is set); it returns the event's job id either way. The execution is named
// after the job (batch.ExecutionName) with kind and the time as its run, so each submit,
// run-all or resume of a job is an execution of its own.
func (c *Cloud) startKeyIf(ctx context.Context, key string, opts batch.SubmitOptions, want, kind string) (string, string, error) {
	head, err := c.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(c.Config.AWS.Bucket), Key: aws.String(key)})
	if err != nil {
		return "", "", fmt.Errorf("read s3://%s/%s: %w", c.Config.AWS.Bucket, key, err)
	}
	ev := events.NewObjectCreated(c.Config.AWS.Bucket, key, strings.Trim(aws.ToString(head.ETag), `"`),
		aws.ToInt64(head.ContentLength), time.Now())
	ev.Detail.Object.VersionID = aws.ToString(head.VersionId)
	raw, err := batch.EventInput(ev, opts)
	if err != nil {
		return "", "", err
	}
	id, name, err := batch.EventExecutionName(raw, batch.ClientRun(kind, time.Now()))
	if err != nil || (want != "" && id != want) {
		return id, "", err
	}
	// An execution of that name already there (a second start within the same second) is
	// the one this start would have made: it drives the job.
	pipeline := &sfnlaunch.Pipeline{API: c.SFN, StateMachineARN: c.Config.AWS.PipelineStateARN}
	arn, _, err := pipeline.StartPipeline(ctx, name, raw)
	if err != nil {
		return id, "", fmt.Errorf("start the pipeline: %w", err)
	}
	return id, arn, nil
}

// RunAll submits and waits for the pipeline execution to end.
func (c *Cloud) RunAll(ctx context.Context, path string, opts batch.SubmitOptions) (string, *statemachine.Execution, error) {
	id, arn, err := c.start(ctx, path, opts)
	if err != nil {
		return id, nil, err
	}
	exec, err := c.waitJob(ctx, id, arn)
	return id, exec, err
}

// RunKey runs the pipeline for an object already under incoming/ (a refresh file).
func (c *Cloud) RunKey(ctx context.Context, key string, opts batch.SubmitOptions) (string, *statemachine.Execution, error) {
	id, arn, err := c.startKey(ctx, key, opts, batch.RunCLI)
	if err != nil {
		return id, nil, err
	}
	exec, err := c.waitJob(ctx, id, arn)
	return id, exec, err
}

// waitJob waits for the execution arn, then, when another execution owns the job (the
// upload rule's start reached Prepare first and arn ended AlreadyHandled), for that one:
// the caller waits for the job, not for whichever execution it started.
func (c *Cloud) waitJob(ctx context.Context, id, arn string) (*statemachine.Execution, error) {
	exec, err := c.wait(ctx, arn)
	if err != nil {
		return exec, err
	}
	job, err := c.Tasks.Jobs.GetJob(ctx, id)
	if err != nil || job.ExecutionID == arn || !strings.HasPrefix(job.ExecutionID, "arn:") {
		return exec, nil
	}
	return c.wait(ctx, job.ExecutionID)
}

// wait polls the execution until it ends and returns its outcome and path.
func (c *Cloud) wait(ctx context.Context, arn string) (*statemachine.Execution, error) {
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		out, err := c.SFN.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			return nil, err
		}
		if out.Status != sfntypes.ExecutionStatusRunning {
			return c.execution(ctx, arn, out)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// History returns the job's pipeline execution with the path it took.
func (c *Cloud) History(ctx context.Context, jobID string) (*statemachine.Execution, error) {
	job, err := c.Tasks.Jobs.GetJob(ctx, jobID)
	if err != nil || !strings.HasPrefix(job.ExecutionID, "arn:") {
		return nil, err
	}
	out, err := c.SFN.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(job.ExecutionID)})
	if err != nil {
		return nil, err
	}
	return c.execution(ctx, job.ExecutionID, out)
}

// execution turns Step Functions' description and history into the local runner's shape,
// so the CLI prints both alike.
func (c *Cloud) execution(ctx context.Context, arn string, d *sfn.DescribeExecutionOutput) (*statemachine.Execution, error) {
	exec := &statemachine.Execution{
		Name:   aws.ToString(d.Name),
		Status: statemachine.Status(d.Status),
		Error:  aws.ToString(d.Error),
		Cause:  aws.ToString(d.Cause),
	}
	if d.Output != nil {
		exec.Output = json.RawMessage(aws.ToString(d.Output))
	}
	history, err := ExecutionPath(ctx, c.SFN, arn)
	exec.History = history
	return exec, err
}

// ExecutionPath reads an execution's history and returns one event per state entered, in
// order: the path the execution took.
func ExecutionPath(ctx context.Context, api sfn.GetExecutionHistoryAPIClient, arn string) ([]statemachine.Event, error) {
	var path []statemachine.Event
	pages := sfn.NewGetExecutionHistoryPaginator(api, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return path, err
		}
		for _, ev := range page.Events {
			if d := ev.StateEnteredEventDetails; d != nil {
				path = append(path, statemachine.Event{State: aws.ToString(d.Name), Type: enteredType(ev.Type),
					Entered: aws.ToTime(ev.Timestamp), Input: json.RawMessage(aws.ToString(d.Input))})
			}
		}
	}
	return path, nil
}

// enteredType maps "TaskStateEntered" to "Task".
func enteredType(t sfntypes.HistoryEventType) string {
	return strings.TrimSuffix(strings.TrimSuffix(string(t), "Entered"), "State")
}

// Resume re-drives a job's pipeline from where it stopped: a cancelled or failed job, or
// one whose execution was stopped. A paused job's own execution resumes by itself after the
// wait; while it holds the job, the new execution ends as AlreadyHandled.
func (c *Cloud) Resume(ctx context.Context, jobID string) (*statemachine.Execution, error) {
	job, err := c.Tasks.Jobs.GetJob(ctx, jobID)
	if err != nil {
		return nil, err
	}
	leads := job.WantLeads
	for _, opts := range []batch.SubmitOptions{{Leads: &leads}, {Name: job.Name, Leads: &leads}} {
		id, arn, err := c.startKeyIf(ctx, job.FilePath, opts, job.ID, batch.RunResume)
		if err != nil {
			return nil, err
		}
		if id == job.ID {
			return c.wait(ctx, arn)
		}
	}
	return nil, fmt.Errorf("job %s: its upload %s has changed since; upload the original file again to continue it", job.ID, job.FilePath)
}

// Cancel marks the job cancelled, stops its executions (a lookup in flight finishes its
// calls and settles) and lets go of the job's lease, so `resume` can continue it at once.
func (c *Cloud) Cancel(ctx context.Context, jobID string) error {
	job, err := c.Tasks.Cancel(ctx, jobID)
	if err != nil {
		return err
	}
	for _, arn := range []string{job.ExecutionID, job.ExternalBatchID} {
		if strings.HasPrefix(arn, "arn:") {
			_, _ = c.SFN.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(arn),
				Error: aws.String("Cancelled"), Cause: aws.String("attom-batch cancel")})
		}
	}
	return c.Tasks.Leases.ReleaseLease(ctx, batch.JobLeaseName(jobID), job.ExecutionID)
}

// CurrentJob is not tracked on AWS: progress reads the newest job.
func (c *Cloud) CurrentJob() string { return "" }

// Download copies the job's results, rejects and leads export from S3 into
// BATCH_RESULTS_DIR, keeping the bucket's layout.
func (c *Cloud) Download(ctx context.Context, job batch.Job) ([]string, error) {
	var saved []string
	for _, key := range []string{job.ResultFilePath, job.RejectsPath, "exports/" + job.ID + "/leads.csv"} {
		if key == "" {
			continue
		}
		path, err := c.copyDown(ctx, key)
		if errors.Is(err, batch.ErrNotFound) {
			continue
		}
		if err != nil {
			return saved, err
		}
		saved = append(saved, path)
	}
	return saved, nil
}

func (c *Cloud) copyDown(ctx context.Context, key string) (string, error) {
	body, err := c.Tasks.Blobs.Get(ctx, key)
	if err != nil {
		return "", err
	}
	defer body.Close()
	path := filepath.Join(c.Config.ResultsDir, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, body); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}

// Simulated tells whether ATTOM answers come from the simulator (never on a deployed stack).
func (c *Cloud) Simulated() bool { return c.Attom.Simulated() }

// Close stops the simulator, if any.
func (c *Cloud) Close() { c.Attom.Close() }
