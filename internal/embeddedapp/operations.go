package embeddedapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/localrun"
	"github.com/leadflow/attom-batch/statemachine"
)

// Submit is the seed's createBatchRequest + submitBatchRequest on this machine: upload,
// prepare and run the lookups (the local lookup workflow runs to the end, or to the cap).
// A file already submitted under the same name names its existing job.
func (e *Embedded) Submit(ctx context.Context, path string, opts batch.SubmitOptions) (string, error) {
	ev, err := e.Upload(ctx, path, opts)
	if err != nil {
		return "", err
	}
	jobID, err := batch.EventJobID(ev)
	if err != nil {
		return "", err
	}
	execID := e.executionID("submit")
	err = e.drive(ctx, jobID, execID, func(ctx context.Context) error {
		step, err := e.Tasks.Prepare(ctx, batch.PrepareInput{Event: ev, ExecutionID: execID})
		if err != nil || step.Duplicate {
			return err
		}
		_, err = e.Tasks.Submit(ctx, step)
		return err
	})
	return jobID, err
}

// RunAll runs the whole pipeline state machine for a file, as AWS would for an upload. An
// interrupted run leaves the job as it was: running the same command again (or `resume`)
// continues it.
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
	var exec *statemachine.Execution
	name := e.executionID("run-all")
	err = e.drive(ctx, jobID, e.Runner.PipelineExecutionID(name), func(ctx context.Context) error {
		var runErr error
		exec, runErr = e.Runner.RunPipeline(ctx, name, ev)
		return runErr
	})
	return jobID, exec, err
}

// drive runs fn as this machine's one driver of the job: it takes the job's lease first
// (refusing, with who holds it, when another live driver does), renews it while fn runs,
// and lets it go after, also when fn is interrupted. A driver killed outright simply stops
// renewing: once its lease expires, the next run-all or resume takes the job over.
func (e *Embedded) drive(ctx context.Context, jobID, execID string, fn func(ctx context.Context) error) error {
	lease := batch.Lease{Name: batch.JobLeaseName(jobID), Owner: execID, Holder: e.Tasks.Holder}
	if err := e.takeOver(ctx, &lease); err != nil {
		return err
	}
	e.current.Store(jobID)
	ctx, lost := context.WithCancelCause(ctx)
	defer lost(nil)
	stop := e.keepRenewing(ctx, &lease, lost)
	defer func() {
		stop()
		_ = e.Tasks.Leases.ReleaseLease(context.WithoutCancel(ctx), lease.Name, lease.Owner)
	}()
	return fn(ctx)
}

// JobBusy refuses a second driver of a job.
type JobBusy struct {
	JobID string
	Held  *batch.LeaseHeld
}

func (e *JobBusy) Error() string {
	return fmt.Sprintf("job %s is being run by %s since %s: not starting a second driver (nothing is ever looked up twice). "+
		"Wait for it to finish; if that process is gone, run this again after %s, when its lease expires",
		e.JobID, e.Held.Lease.Holder, e.Held.Lease.Since.UTC().Format(time.RFC3339), e.Held.Lease.Expires.UTC().Format(time.RFC3339))
}

func (e *Embedded) renew(ctx context.Context, lease *batch.Lease) error {
	now := e.Tasks.Now()
	lease.Since, lease.Expires = now, now.Add(e.Tasks.Settings.LeaseTTL)
	_, err := e.Tasks.Leases.AcquireLease(context.WithoutCancel(ctx), *lease, now)
	var held *batch.LeaseHeld
	if errors.As(err, &held) {
		return &JobBusy{JobID: strings.TrimPrefix(lease.Name, "job:"), Held: held}
	}
	return err
}

// takeOver takes the job's lease. When a process of this machine that is gone holds it (a
// run killed outright), it waits for that lease to expire instead of refusing, so running
// the same command again after a kill -9 just continues the job.
func (e *Embedded) takeOver(ctx context.Context, lease *batch.Lease) error {
	err := e.renew(ctx, lease)
	var busy *JobBusy
	if !errors.As(err, &busy) || !deadLocalHolder(busy.Held.Lease.Holder) {
		return err
	}
	e.Tasks.Log.Warn("waiting for the lease of a driver that is gone to expire",
		"job_id", busy.JobID, "holder", busy.Held.Lease.Holder, "expires", busy.Held.Lease.Expires)
	wait := time.Until(busy.Held.Lease.Expires) + 50*time.Millisecond
	select {
	case <-time.After(min(max(wait, 0), 2*e.Tasks.Settings.LeaseTTL)):
	case <-ctx.Done():
		return ctx.Err()
	}
	return e.renew(ctx, lease)
}

// deadLocalHolder tells a lease holder that names a process of this machine which no longer
// runs ("attom-batch run-all (pid 42 on host)", as processHolder writes it).
func deadLocalHolder(holder string) bool {
	i := strings.LastIndex(holder, "(pid ")
	if i < 0 {
		return false
	}
	var pid int
	var host string
	if _, err := fmt.Sscanf(holder[i:], "(pid %d on %s", &pid, &host); err != nil {
		return false
	}
	if me, _ := os.Hostname(); strings.TrimSuffix(host, ")") != me {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return true
	}
	return errors.Is(p.Signal(syscall.Signal(0)), os.ErrProcessDone)
}

// keepRenewing renews the lease every third of its life until stopped; it stops the run when
// the job is taken over or cancelled.
func (e *Embedded) keepRenewing(ctx context.Context, lease *batch.Lease, lost context.CancelCauseFunc) func() {
	jobID := strings.TrimPrefix(lease.Name, "job:")
	return batch.Every(e.Tasks.Settings.LeaseTTL/3, func() bool {
		lease.Expires = e.Tasks.Now().Add(e.Tasks.Settings.LeaseTTL)
		err := e.Tasks.Leases.RenewLease(context.WithoutCancel(ctx), *lease)
		var held *batch.LeaseHeld
		if errors.As(err, &held) || errors.Is(err, batch.ErrNotFound) {
			// This process stalled past its lease and another driver took the job: stop.
			lost(fmt.Errorf("job %s was taken over: %w", jobID, err))
			return false
		}
		// A job cancelled while its run waits (for the cap's reset, for ATTOM) ends now, not
		// when the wait does, and lets go of its lease so `resume` can take it.
		if job, err := e.Tasks.Jobs.GetJob(ctx, jobID); err == nil && job.Status == batch.StatusCancelled {
			lost(fmt.Errorf("job %s was cancelled", jobID))
			return false
		}
		return true
	})
}

// CurrentJob is the job this process drives now, or last drove.
func (e *Embedded) CurrentJob() string {
	id, _ := e.current.Load().(string)
	return id
}

func (e *Embedded) executionID(kind string) string {
	return fmt.Sprintf("local:%s:%d", kind, time.Now().UnixNano())
}

// Resume continues a job through to completed (lookups, download, process, leads): one
// paused by the cap or an outage, cancelled, failed, or whose driver died. It re-drives the
// job's pipeline, as running the same run-all again would.
func (e *Embedded) Resume(ctx context.Context, jobID string) (*statemachine.Execution, error) {
	job, err := e.Tasks.Jobs.GetJob(ctx, jobID)
	if err != nil {
		return nil, err
	}
	ev, err := e.eventForJob(ctx, job)
	if err != nil {
		return nil, err
	}
	_, exec, err := e.runEvent(ctx, ev)
	return exec, err
}

// eventForJob rebuilds the upload event that created the job; the upload must still be
// the same file.
func (e *Embedded) eventForJob(ctx context.Context, job batch.Job) (json.RawMessage, error) {
	leads := job.WantLeads
	for _, opts := range []batch.SubmitOptions{{Leads: &leads}, {Name: job.Name, Leads: &leads}} {
		ev, err := e.EventFor(ctx, job.FilePath, opts)
		if err != nil {
			return nil, err
		}
		if id, err := batch.EventJobID(ev); err == nil && id == job.ID {
			return ev, nil
		}
	}
	return nil, fmt.Errorf("job %s: its upload %s has changed since; run-all the original file again to continue it", job.ID, job.FilePath)
}

// Cancel stops a job: its driver stops feeding lookups at its next address (calls in
// flight finish and are kept), settles its reservations and ends the pipeline; the job is
// cancelled and `resume` continues it later.
func (e *Embedded) Cancel(ctx context.Context, jobID string) error {
	_, err := e.Tasks.Cancel(ctx, jobID)
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
