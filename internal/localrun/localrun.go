// Package localrun runs both state machines on this machine: the project's ASL interpreter
// executes the same definitions AWS runs, and every Task resource dispatches in-process to
// the same task code the Lambdas run. It is the embedded default's "Step Functions".
package localrun

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/statemachine"
)

// FunctionARN is the local stand-in ARN of a task function.
func FunctionARN(name string) string {
	return "arn:aws:lambda:local:000000000000:function:attom-batch-" + name
}

// Runner holds both loaded machines and the task code behind them.
type Runner struct {
	tasks    *batch.Tasks
	pipeline *statemachine.Machine
	lookup   *statemachine.Machine
	clock    statemachine.Clock
	opts     statemachine.RunOptions
}

// New loads the definitions and wires every task function. It also makes itself the tasks'
// Launcher, so Submit and Resume start the lookup machine here.
func New(tasks *batch.Tasks, clock statemachine.Clock) (*Runner, error) {
	subs := map[string]string{}
	for name, placeholder := range statemachine.FunctionPlaceholders {
		subs[placeholder] = FunctionARN(name)
	}
	pipeline, err := statemachine.Load(statemachine.PipelineDefinition, subs)
	if err != nil {
		return nil, fmt.Errorf("pipeline.asl.json: %w", err)
	}
	lookup, err := statemachine.Load(statemachine.LookupDefinition, subs)
	if err != nil {
		return nil, fmt.Errorf("lookup.asl.json: %w", err)
	}
	r := &Runner{tasks: tasks, pipeline: pipeline, lookup: lookup, clock: clock}
	r.opts = statemachine.RunOptions{
		Resources:  resources(tasks),
		Clock:      clock,
		ItemReader: r.readItems,
	}
	tasks.Launcher = r
	if tasks.Now == nil {
		tasks.Now = clock.Now
	}
	return r, nil
}

// resources maps each function ARN to its task method.
func resources(t *batch.Tasks) map[string]statemachine.TaskFunc {
	return map[string]statemachine.TaskFunc{
		FunctionARN("prepare"):     handler(t.Prepare),
		FunctionARN("submit"):      handler(t.Submit),
		FunctionARN("poll"):        handler(t.Poll),
		FunctionARN("resume"):      handler(t.Resume),
		FunctionARN("download"):    handler(t.Download),
		FunctionARN("process"):     handler(t.Process),
		FunctionARN("leads"):       handler(t.Leads),
		FunctionARN("complete"):    handler(t.Complete),
		FunctionARN("fail"):        handler(t.Fail),
		FunctionARN("lookupchunk"): handler(t.LookupChunk),
	}
}

// handler adapts a typed task to the runner the way aws-lambda-go adapts it to Lambda:
// JSON in, JSON out, the error returned as is so its type name is the ASL error name.
func handler[In, Out any](fn func(context.Context, In) (Out, error)) statemachine.TaskFunc {
	return func(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
		var in In
		if err := json.Unmarshal(input, &in); err != nil {
			return nil, err
		}
		out, err := fn(ctx, in)
		if err != nil {
			return nil, err
		}
		return json.Marshal(out)
	}
}

// readItems is the Distributed Map's ItemReader: the manifest comes from the blob store
// whatever the bucket's name.
func (r *Runner) readItems(ctx context.Context, _, key string) ([]byte, error) {
	body, err := r.tasks.Blobs.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	return io.ReadAll(body)
}

// PipelineExecutionID is the id a pipeline execution named name has: the driver that owns
// the job's lease while it runs.
func (r *Runner) PipelineExecutionID(name string) string {
	return statemachine.ExecutionARN(cmp.Or(r.opts.StateMachineName, statemachine.DefaultMachineName), name)
}

// RunPipeline runs one pipeline execution for an uploaded object's event and keeps its
// history next to the job's files for `status --verbose`.
func (r *Runner) RunPipeline(ctx context.Context, name string, event json.RawMessage) (*statemachine.Execution, error) {
	exec, err := r.pipeline.Run(ctx, name, event, r.opts)
	if exec != nil {
		r.saveHistory(ctx, exec)
	}
	return exec, err
}

func (r *Runner) saveHistory(ctx context.Context, exec *statemachine.Execution) {
	var step batch.Step
	_ = json.Unmarshal(exec.Output, &step)
	id := step.JobID
	if id == "" {
		id = jobIDFromHistory(exec)
	}
	if id == "" {
		return
	}
	raw, err := json.MarshalIndent(exec, "", "  ")
	if err != nil {
		return
	}
	_ = r.tasks.Blobs.Put(ctx, HistoryKey(id), bytes.NewReader(raw))
}

// HistoryKey is where the last local execution's history of a job is kept.
func HistoryKey(jobID string) string { return "batches/" + jobID + "/history.json" }

func jobIDFromHistory(exec *statemachine.Execution) string {
	for _, ev := range exec.History {
		var step batch.Step
		if json.Unmarshal(ev.Output, &step) == nil && step.JobID != "" {
			return step.JobID
		}
	}
	return ""
}

// lookupRun is what a finished local lookup execution left behind, so a later process
// (`attom-batch status` after `submit`) can read it.
type lookupRun struct {
	Status string `json:"status"`
	Cause  string `json:"cause,omitempty"`
}

// StartLookup runs the lookup machine to the end before returning: on one machine there is
// nothing to gain from running it in the background, and a synchronous run makes every
// local execution deterministic. Poll then finds it finished.
func (r *Runner) StartLookup(ctx context.Context, in batch.LookupInput) (string, error) {
	input, err := json.Marshal(in)
	if err != nil {
		return "", err
	}
	opts := r.opts
	opts.LeanDistributedMaps = true // the execution is not kept: only its status below
	exec, err := r.lookup.Run(ctx, in.Run, input, opts)
	if err != nil && exec == nil {
		return "", err
	}
	run := lookupRun{Status: string(exec.Status)}
	if run.Status != batch.ExecSucceeded {
		run.Cause = exec.Error + ": " + exec.Cause
	}
	id := "local/" + in.JobID + "/" + in.Run
	raw, _ := json.Marshal(run)
	if err := r.tasks.Blobs.Put(ctx, runKey(id), bytes.NewReader(raw)); err != nil {
		return "", err
	}
	return id, nil
}

// LookupStatus reads what StartLookup left behind.
func (r *Runner) LookupStatus(ctx context.Context, executionID string) (string, string, error) {
	if !strings.HasPrefix(executionID, "local/") {
		return "", "", fmt.Errorf("localrun: %q is not a local execution", executionID)
	}
	body, err := r.tasks.Blobs.Get(ctx, runKey(executionID))
	if errors.Is(err, batch.ErrNotFound) {
		return batch.ExecRunning, "", nil
	}
	if err != nil {
		return "", "", err
	}
	defer body.Close()
	var run lookupRun
	if err := json.NewDecoder(body).Decode(&run); err != nil {
		return "", "", err
	}
	return run.Status, run.Cause, nil
}

// runKey keeps a run's outcome beside its job: local/<job>/<run> -> batches/<job>/runs/<run>.json.
func runKey(executionID string) string {
	parts := strings.SplitN(strings.TrimPrefix(executionID, "local/"), "/", 2)
	if len(parts) != 2 {
		return "batches/unknown/runs/" + executionID + ".json"
	}
	return "batches/" + parts[0] + "/runs/" + parts[1] + ".json"
}
