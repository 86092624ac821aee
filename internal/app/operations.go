package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/localrun"
	"github.com/leadflow/attom-batch/statemachine"
)

// Submit is the seed's createBatchRequest + submitBatchRequest on this machine: upload,
// prepare and run the lookups (the local lookup workflow runs to the end, or to the cap).
// A file already submitted names its existing job.
func (e *Embedded) Submit(ctx context.Context, path string, opts batch.SubmitOptions) (string, error) {
	ev, err := e.Upload(ctx, path, opts)
	if err != nil {
		return "", err
	}
	step, err := e.Tasks.Prepare(ctx, batch.PrepareInput{Event: ev, ExecutionID: e.executionID("submit")})
	if err != nil || step.Duplicate {
		return step.JobID, err
	}
	_, err = e.Tasks.Submit(ctx, step)
	return step.JobID, err
}

// RunAll runs the whole pipeline state machine for a file, as AWS would for an upload. If
// the run is interrupted, the job is marked failed so running it again re-drives it.
func (e *Embedded) RunAll(ctx context.Context, path string, opts batch.SubmitOptions) (string, *statemachine.Execution, error) {
	ev, err := e.Upload(ctx, path, opts)
	if err != nil {
		return "", nil, err
	}
	return e.runEvent(ctx, ev)
}

// RunKey runs the pipeline for an object already under incoming/ (a refresh file).
func (e *Embedded) RunKey(ctx context.Context, key string, opts batch.SubmitOptions) (string, *statemachine.Execution, error) {
	ev, err := e.EventFor(ctx, key, opts)
	if err != nil {
		return "", nil, err
	}
	return e.runEvent(ctx, ev)
}

func (e *Embedded) runEvent(ctx context.Context, ev json.RawMessage) (string, *statemachine.Execution, error) {
	jobID, err := batch.EventJobID(ev)
	if err != nil {
		return "", nil, err
	}
	exec, err := e.Runner.RunPipeline(ctx, e.executionID("run-all"), ev)
	if ctx.Err() != nil {
		e.markInterrupted(jobID)
	}
	return jobID, exec, err
}

func (e *Embedded) markInterrupted(jobID string) {
	_, _ = e.Tasks.Fail(context.Background(), batch.FailInput{JobID: jobID,
		Error: batch.CaughtError{Error: "Interrupted", Cause: "the local run was stopped; run it again to resume"}})
}

func (e *Embedded) executionID(kind string) string {
	return fmt.Sprintf("local:%s:%d", kind, time.Now().UnixNano())
}

// Resume restarts the lookups of a job the cap paused.
func (e *Embedded) Resume(ctx context.Context, jobID string) error {
	_, err := e.Tasks.Resume(ctx, batch.Step{JobID: jobID})
	return err
}

// History returns the last local pipeline execution of a job, for `status --verbose`.
func (e *Embedded) History(ctx context.Context, jobID string) (*statemachine.Execution, error) {
	body, err := e.Blobs.Get(ctx, localrun.HistoryKey(jobID))
	if errors.Is(err, batch.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer body.Close()
	raw, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	var exec statemachine.Execution
	if err := json.Unmarshal(raw, &exec); err != nil {
		return nil, err
	}
	return &exec, nil
}

// Simulated tells whether ATTOM answers come from the simulator.
func (e *Embedded) Simulated() bool { return e.Attom.Simulated() }

// ResultsPath is where a job's results file is on disk.
func (e *Embedded) ResultsPath(jobID string) string {
	path, err := e.Blobs.Results.Path("batches/" + jobID + "/results.jsonl")
	if err != nil {
		return "batches/" + jobID + "/results.jsonl"
	}
	return path
}
