package batch

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/leadflow/attom-batch/internal/attom"
)

// AttomLookup is the one ATTOM call the lookup task needs: one address on one endpoint.
type AttomLookup interface {
	Lookup(ctx context.Context, endpoint string, q attom.Query) (attom.Result, error)
}

// Launcher starts and reads the lookup workflow: Step Functions on AWS, the local runner on
// the embedded default. ExecutionID is the seed's external_batch_id.
type Launcher interface {
	StartLookup(ctx context.Context, in LookupInput) (executionID string, err error)
	// LookupStatus returns RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED, and the
	// failure's cause when there is one.
	LookupStatus(ctx context.Context, executionID string) (status, cause string, err error)
}

// Execution statuses as Step Functions names them.
const (
	ExecRunning   = "RUNNING"
	ExecSucceeded = "SUCCEEDED"
	ExecFailed    = "FAILED"
)

// Tasks is the task code behind every state of both state machines. Each method takes and
// returns plain structs so a Lambda handler, the local runner and a test can all call it.
type Tasks struct {
	Stores
	Attom    AttomLookup
	Launcher Launcher
	Settings Settings
	// Now is the clock; tests inject a fake one so waits and the daily cap are deterministic.
	Now func() time.Time
	Log *slog.Logger
	// Holder describes this process in the leases it takes ("run-all (pid 42 on host)"), so
	// a refused second driver can say who holds the job; empty on Lambda, where the
	// execution's id says it.
	Holder string
	// Notifier hears of job events (completed, failed, paused, resumed, cancelled); nil for
	// none.
	Notifier Notifier
}

func (t *Tasks) now() time.Time {
	if t.Now == nil {
		return time.Now().UTC()
	}
	return t.Now().UTC()
}

func (t *Tasks) log() *slog.Logger {
	if t.Log == nil {
		return slog.Default()
	}
	return t.Log
}

// Step is the small state the pipeline carries from task to task. Everything large lives in
// the stores and blobs, so the state stays far below Step Functions' 256 KiB.
type Step struct {
	JobID       string `json:"job_id"`
	Bucket      string `json:"bucket,omitempty"`
	ManifestKey string `json:"manifest_key,omitempty"`
	Duplicate   bool   `json:"duplicate"`
	WantLeads   bool   `json:"want_leads"`
	ChunkCount  int    `json:"chunk_count"`
	// Lookup is running, paused (the cap deferred chunks) or done.
	Lookup      string `json:"lookup,omitempty"`
	WaitSeconds int    `json:"wait_seconds"`
	Polls       int    `json:"polls"`
	// RunStarted is when the current lookup run started and RunBase how many addresses the
	// job had bought then (looked up, less reused): Poll measures the run's rate from them.
	RunStarted time.Time `json:"run_started,omitzero"`
	RunBase    int       `json:"run_base,omitempty"`
	// Cursor is the next segment of results for Process or Leads; More says one follows.
	Cursor int  `json:"cursor"`
	More   bool `json:"more"`
	// Driver is the pipeline execution that drives the job: it holds the job's lease, and
	// every task checks that it still does before it works.
	Driver string `json:"driver,omitempty"`
}

// Lookup states reported by Poll.
const (
	LookupRunning = "running"
	LookupPaused  = "paused"
	LookupDone    = "done"
	// LookupCancelled ends the pipeline without failing the job: `resume` continues it.
	LookupCancelled = "cancelled"
)

// LookupInput starts the lookup state machine: its Distributed Map reads the manifest.
type LookupInput struct {
	JobID       string `json:"job_id"`
	Bucket      string `json:"bucket"`
	ManifestKey string `json:"manifest_key"`
	// Run is the execution name: unique per pipeline execution and start.
	Run string `json:"run"`
	// Driver is the pipeline execution that started the run (see Step.Driver); always
	// present, since the Map's ItemSelector reads it.
	Driver string `json:"driver"`
}

// ChunkRef is one item of the manifest, and the lookup task's input.
type ChunkRef struct {
	JobID string `json:"job_id"`
	Chunk int    `json:"chunk"`
	Key   string `json:"key"`
	// Run is the lookup execution's name (added by the Map's ItemSelector), so a deferral is
	// recorded per run.
	Run string `json:"run,omitempty"`
	// Driver is the pipeline execution that started the run (the Map's ItemSelector adds
	// it); a chunk of a run whose driver lost the job's lease is not looked up.
	Driver string `json:"driver,omitempty"`
}

// ChunkResult is the lookup task's output: small on purpose, since a Map collects them.
type ChunkResult struct {
	Chunk    int    `json:"chunk"`
	Status   string `json:"status"` // done or deferred
	LookedUp int    `json:"looked_up"`
	Skipped  int    `json:"skipped"`
}

// Chunk statuses.
const (
	ChunkDone     = "done"
	ChunkDeferred = "deferred"
)

// ChunkAddress is one line of a chunk file: a unique address with the input row it came
// from, so the results and the leads export can carry the input's columns.
type ChunkAddress struct {
	Key   string            `json:"key"`
	Line  int               `json:"line"`
	Line1 string            `json:"line1"`
	Unit  string            `json:"unit,omitempty"`
	City  string            `json:"city"`
	State string            `json:"state"`
	ZIP   string            `json:"zip,omitempty"`
	Input map[string]string `json:"input,omitempty"`
}

// ResultLine is one line of a job's results file: the address and its lookup.
type ResultLine struct {
	Address ChunkAddress `json:"address"`
	Lookup  LookupRecord `json:"lookup"`
}

// Blob layout, shared by the filesystem and S3 (documented in docs/storage.md).
func chunkKey(jobID string, n int) string { return "batches/" + jobID + "/chunks/" + pad(n) + ".jsonl" }
func chunkResultKey(jobID string, n int) string {
	return "batches/" + jobID + "/lookups/" + pad(n) + ".jsonl"
}
func manifestKey(jobID string) string         { return "batches/" + jobID + "/manifest.json" }
func rejectsKey(jobID string) string          { return "batches/" + jobID + "/rejects.csv" }
func resultsKey(jobID string) string          { return "batches/" + jobID + "/results.jsonl" }
func leadsExportKey(jobID string) string      { return "exports/" + jobID + "/leads.csv" }
func chunkResultPrefix(jobID string) string   { return "batches/" + jobID + "/lookups/" }
func deferredPrefix(jobID, run string) string { return "batches/" + jobID + "/deferred/" + run + "/" }

func pad(n int) string { return fmt.Sprintf("%06d", n) }
