package batch

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path"
	"strings"
	"time"
)

// IncomingPrefix is where uploads land: a CSV created under it starts a pipeline execution.
const IncomingPrefix = "incoming/"

// MaxExecutionName is Step Functions' limit on an execution's name.
const MaxExecutionName = 80

// Runs: what started a pipeline execution, the last part of its name (ExecutionName).
const (
	RunUpload = "s3"     // the start function, for an upload's "Object Created" event
	RunCLI    = "cli"    // submit, run-all and a refresh run from the CLI on AWS
	RunWeb    = "web"    // an upload through `serve --backend aws`
	RunResume = "resume" // `resume` on AWS
)

// ExecutionName names a pipeline execution after the job it drives, so the Step Functions
// console reads like the job list: "job-0123456789abcdef-May-list-s3-1a2b3c4d" is the job's
// id, as much of the job's name as fits, and run, what started it (UploadRun,
// ClientRun). Only [A-Za-z0-9_-] (what Step Functions' CloudWatch logging accepts), at most
// 80 characters.
//
// Step Functions keeps a name for 90 days after its execution ended. The same name with the
// same input, while it runs, finds the running execution; otherwise it is refused
// (ExecutionAlreadyExists). So run decides what is one start: an upload's run is the same
// for every delivery of one PUT (a redelivered event starts nothing), and a new PUT, a
// submit or a resume has a run of its own, so a job re-driven later gets a new execution.
func ExecutionName(jobID, jobName, run string) string {
	jobID, run = nameSafe(jobID), nameSafe(run)
	fixed := jobID + "-" + run
	if len(fixed) > MaxExecutionName {
		sum := sha256.Sum256([]byte(fixed))
		return fixed[:MaxExecutionName-9] + "-" + hex.EncodeToString(sum[:4])
	}
	room := MaxExecutionName - len(fixed) - 1
	slug := strings.Trim(truncate(nameSafe(jobName), room), "-")
	if slug == "" {
		return fixed
	}
	return jobID + "-" + slug + "-" + run
}

// UploadRun is the run of the execution an upload event starts: "s3-" and 8 hex digits of
// the object's S3 sequencer, which every delivery of one PUT shares and a later PUT of the
// same key does not (or of the event's id, when the event has no sequencer).
func UploadRun(sequencer, eventID string) string {
	id := sequencer
	if id == "" {
		id = "event:" + eventID
	}
	sum := sha256.Sum256([]byte(id))
	return RunUpload + "-" + hex.EncodeToString(sum[:4])
}

// ClientRun is the run of an execution a person starts (RunCLI, RunWeb, RunResume) at a
// time, to the second in UTC: "cli-20260602T140311Z".
func ClientRun(kind string, at time.Time) string {
	return kind + "-" + at.UTC().Format("20060102T150405Z")
}

// nameSafe replaces every run of characters outside [A-Za-z0-9_-] with one "-".
func nameSafe(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range s {
		ok := r == '_' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		switch {
		case ok:
			b.WriteRune(r)
			dash = r == '-'
		case !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	return b.String()
}

func truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) > n {
		return s[:n] // nameSafe left ASCII only
	}
	return s
}

// jobName is the name a job gets from its event: the CLI's --name, else the file's name
// without its extension.
func jobName(ev eventWithOptions) string {
	if o := ev.Options; o != nil && o.Name != "" {
		return o.Name
	}
	key := ev.Detail.Object.Key
	return strings.TrimSuffix(path.Base(key), path.Ext(key))
}

// EventExecutionName names the job an upload event makes (EventJobID) and the pipeline
// execution that drives it: ExecutionName of the job's id and name with run, or with the
// upload's own run (UploadRun) when run is empty.
func EventExecutionName(raw json.RawMessage, run string) (jobID, name string, err error) {
	ev, err := decodeEvent(raw)
	if err != nil {
		return "", "", err
	}
	if jobID, err = EventJobID(raw); err != nil {
		return "", "", err
	}
	if run == "" {
		run = UploadRun(ev.Detail.Object.Sequencer, ev.ID)
	}
	return jobID, ExecutionName(jobID, jobName(ev), run), nil
}

// PipelineStarter starts a pipeline execution under a name (sfnlaunch.Pipeline on AWS).
type PipelineStarter interface {
	// StartPipeline starts the execution, or finds the one of that name Step Functions
	// already has (already is then true) and returns its ARN.
	StartPipeline(ctx context.Context, name string, input []byte) (arn string, already bool, err error)
}

// Started is the start function's answer: the job, its execution, and whether that
// execution had already been started (a redelivered event starts nothing).
type Started struct {
	JobID          string `json:"job_id"`
	Execution      string `json:"execution"`
	ExecutionARN   string `json:"execution_arn"`
	AlreadyStarted bool   `json:"already_started"`
}

// Starter is the start function: on AWS the upload rule invokes it with the "Object
// Created" event of a CSV under incoming/ instead of starting the pipeline itself, so the
// execution is named after its job (ExecutionName) and a redelivered event starts nothing.
type Starter struct {
	Bucket   string // the data bucket; events of other buckets are refused
	Pipeline PipelineStarter
	// Metadata reads the user metadata of an object's version ("" for the latest), where a
	// client that uploads and starts the job itself leaves its options (UploadMetadata);
	// nil reads none.
	Metadata func(ctx context.Context, key, version string) (map[string]string, error)
	Log      *slog.Logger
}

// UploadOptionsKey is the object metadata key under which a client that uploads a file to
// incoming/ and starts its job itself (the CLI's submit and run-all, the web UI) leaves the
// job's options. The upload rule runs the start function for that object too: with the
// options it makes the same job, whose second execution ends AlreadyHandled; without them
// it would make a second job of the same file (a job's id includes its name) and buy its
// addresses again.
const UploadOptionsKey = "attom-batch-options"

// UploadMetadata is the metadata a client puts on its upload: the options as JSON in
// base64 (S3 wants US-ASCII, and keeps at most 2 KB of metadata: a 200-character name in
// any script fits).
func UploadMetadata(opts SubmitOptions) map[string]string {
	raw, _ := json.Marshal(opts) // plain fields: cannot fail
	return map[string]string{UploadOptionsKey: base64.RawURLEncoding.EncodeToString(raw)}
}

// MetadataBlobStore is a blob store that keeps user metadata with an object (S3).
type MetadataBlobStore interface {
	PutWithMetadata(ctx context.Context, key string, body io.Reader, metadata map[string]string) error
}

// PutUpload puts a file under incoming/ with its job's options where the start function
// reads them (UploadMetadata), when the store keeps metadata (S3): the upload rule then
// makes the job the caller starts, not a second one. The embedded store has no upload rule,
// so a plain put does there. The CLI, the web UI and a refresh upload through it.
func (t *Tasks) PutUpload(ctx context.Context, key string, body io.Reader, opts SubmitOptions) error {
	if m, ok := t.Blobs.(MetadataBlobStore); ok {
		return m.PutWithMetadata(ctx, key, body, UploadMetadata(opts))
	}
	return t.Blobs.Put(ctx, key, body)
}

// uploadOptions reads the options UploadMetadata left; nil when there are none.
func uploadOptions(metadata map[string]string) (*SubmitOptions, error) {
	escaped, ok := metadata[UploadOptionsKey]
	if !ok {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(escaped)
	var opts SubmitOptions
	if err == nil {
		err = json.Unmarshal(raw, &opts)
	}
	if err != nil {
		return nil, fmt.Errorf("metadata %s: %w", UploadOptionsKey, err)
	}
	return &opts, nil
}

// withUploadOptions adds the options a client left on the object to an event that carries
// none (EventBridge's never do).
func (s *Starter) withUploadOptions(ctx context.Context, ev eventWithOptions, raw json.RawMessage) (json.RawMessage, error) {
	if ev.Options != nil || s.Metadata == nil {
		return raw, nil
	}
	// The event's own version: the key may have been written again since.
	metadata, err := s.Metadata(ctx, ev.Detail.Object.Key, ev.Detail.Object.VersionID)
	if err != nil {
		return nil, &StoreUnavailable{Op: "read the metadata of " + ev.Detail.Object.Key, Err: err}
	}
	opts, err := uploadOptions(metadata)
	if err != nil || opts == nil {
		return raw, err
	}
	ev.Options = opts
	return json.Marshal(ev)
}

// StartUpload starts the pipeline with the event unchanged as its input (the CLI's
// attom_batch options, if any, included), named after the job the event makes. An
// execution of that name that already exists is success: which one it is, and that it was
// already started, is the answer. Events of another bucket, keys outside incoming/ and
// files that are not .csv are refused with the reason, nothing started.
func (s *Starter) StartUpload(ctx context.Context, raw json.RawMessage) (Started, error) {
	ev, err := decodeEvent(raw)
	if err != nil {
		return Started{}, err
	}
	key := ev.Detail.Object.Key
	switch {
	case s.Bucket != "" && ev.Detail.Bucket.Name != s.Bucket:
		return Started{}, &InvalidInput{File: "event", Reason: fmt.Sprintf("bucket %q: this function starts jobs for %q only", ev.Detail.Bucket.Name, s.Bucket)}
	case !strings.HasPrefix(key, IncomingPrefix):
		return Started{}, &InvalidInput{File: key, Reason: "not under " + IncomingPrefix + ": only files dropped there start a job"}
	case !strings.EqualFold(path.Ext(key), ".csv"):
		return Started{}, &InvalidInput{File: key, Reason: "want a .csv file under " + IncomingPrefix}
	}
	if raw, err = s.withUploadOptions(ctx, ev, raw); err != nil {
		return Started{}, err
	}
	id, name, err := EventExecutionName(raw, "")
	if err != nil {
		return Started{}, err
	}
	arn, already, err := s.Pipeline.StartPipeline(ctx, name, raw)
	if err != nil {
		return Started{JobID: id, Execution: name}, fmt.Errorf("start the pipeline for %s (job %s): %w", key, id, err)
	}
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	msg := "pipeline started"
	if already {
		msg = "pipeline already started: event delivered again"
	}
	log.Info(msg, "job_id", id, "key", key, "execution", name, "execution_arn", arn)
	return Started{JobID: id, Execution: name, ExecutionARN: arn, AlreadyStarted: already}, nil
}
