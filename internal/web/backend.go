package web

import (
	"context"
	"fmt"
	"slices"

	"github.com/leadflow/attom-batch/internal/app"
	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/embeddedapp"
	"github.com/leadflow/attom-batch/statemachine"
)

// Backend is what the UI needs of a backend: the task code's stores, and starting, resuming
// and cancelling jobs. Embedded and Cloud adapt the app's two, so the UI drives jobs exactly
// as the CLI does.
type Backend interface {
	Tasks() *batch.Tasks
	// Start starts a job for an object already under incoming/ and returns its ID. run, when
	// not nil, drives the job to its end (the embedded backend) and the server calls it in
	// the background; on AWS the deployed state machine drives and run is nil.
	Start(ctx context.Context, key string, opts batch.SubmitOptions) (id string, run Run, err error)
	// Resume returns the run that continues a job through to completed.
	Resume(ctx context.Context, id string) (Run, error)
	Cancel(ctx context.Context, id string) error
	// History is the job's last pipeline execution with the path it took; nil when none is
	// known yet.
	History(ctx context.Context, id string) (*statemachine.Execution, error)
	// Drives is true when this process drives jobs (embedded): the server then also picks up
	// jobs whose driver is gone.
	Drives() bool
	Simulated() bool
}

// Run drives a job until its pipeline ends (completed, paused past the server's life,
// cancelled or failed). Cancelling ctx stops it where it is; the job stays resumable.
type Run func(ctx context.Context) error

// Embedded adapts the embedded backend: this process runs each job's pipeline.
func Embedded(e *embeddedapp.Embedded) Backend { return embedded{e} }

type embedded struct{ e *embeddedapp.Embedded }

func (b embedded) Tasks() *batch.Tasks { return b.e.Tasks }
func (b embedded) Drives() bool        { return true }
func (b embedded) Simulated() bool     { return b.e.Simulated() }

func (b embedded) Start(ctx context.Context, key string, opts batch.SubmitOptions) (string, Run, error) {
	ev, err := b.e.EventFor(ctx, key, opts)
	if err != nil {
		return "", nil, err
	}
	id, err := batch.EventJobID(ev)
	if err != nil {
		return "", nil, err
	}
	return id, func(ctx context.Context) error {
		_, exec, err := b.e.RunKey(ctx, key, opts)
		if err != nil {
			return err
		}
		return executionError(exec)
	}, nil
}

func (b embedded) Resume(_ context.Context, id string) (Run, error) {
	return func(ctx context.Context) error {
		exec, err := b.e.Resume(ctx, id)
		if err != nil {
			return err
		}
		return executionError(exec)
	}, nil
}

func (b embedded) Cancel(ctx context.Context, id string) error { return b.e.Cancel(ctx, id) }

func (b embedded) History(ctx context.Context, id string) (*statemachine.Execution, error) {
	return b.e.History(ctx, id)
}

// Cloud adapts the AWS backend: the deployed state machine drives jobs; the UI uploads to
// the bucket, starts executions and reads DynamoDB.
func Cloud(c *app.Cloud) Backend { return cloud{c} }

type cloud struct{ c *app.Cloud }

func (b cloud) Tasks() *batch.Tasks { return b.c.Tasks }
func (b cloud) Drives() bool        { return false }
func (b cloud) Simulated() bool     { return b.c.Simulated() }

func (b cloud) Start(ctx context.Context, key string, opts batch.SubmitOptions) (string, Run, error) {
	id, err := b.c.StartKey(ctx, key, opts)
	return id, nil, err
}

// Resume starts a new execution for the job; the returned run waits for it to end, so the
// page can say a resume is under way.
func (b cloud) Resume(_ context.Context, id string) (Run, error) {
	return func(ctx context.Context) error {
		exec, err := b.c.Resume(ctx, id)
		if err != nil {
			return err
		}
		return executionError(exec)
	}, nil
}

func (b cloud) Cancel(ctx context.Context, id string) error { return b.c.Cancel(ctx, id) }

func (b cloud) History(ctx context.Context, id string) (*statemachine.Execution, error) {
	return b.c.History(ctx, id)
}

// executionError turns a failed pipeline execution into an error the job page shows.
func executionError(exec *statemachine.Execution) error {
	if exec == nil || exec.Status == statemachine.StatusSucceeded {
		return nil
	}
	if slices.Contains(exec.Path(), "Cancelled") {
		return nil
	}
	return fmt.Errorf("pipeline %s: %s %s", exec.Status, exec.Error, exec.Cause)
}
