package batch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"path"
	"strings"

	"github.com/leadflow/attom-batch/events"
	"github.com/leadflow/attom-batch/internal/csvin"
)

// PrepareInput is the pipeline's first task input: the EventBridge event that started the
// execution and the execution's id (from the context object).
type PrepareInput struct {
	Event       json.RawMessage `json:"event"`
	ExecutionID string          `json:"execution_id"`
}

// SubmitOptions ride along in a locally started event ("attom_batch" next to "detail"): the
// CLI's --name and --leads. Uploads through EventBridge carry none and get the defaults.
type SubmitOptions struct {
	Name  string `json:"name,omitempty"`
	Leads *bool  `json:"leads,omitempty"`
	// MaxAgeDays overrides the answer cache window (ATTOM_REUSE_MAX_AGE_DAYS); 0 buys
	// everything fresh.
	MaxAgeDays *int `json:"max_age_days,omitempty"`
}

type eventWithOptions struct {
	events.ObjectCreated
	Options *SubmitOptions `json:"attom_batch,omitempty"`
}

// EventInput is the pipeline's input for an upload: S3's "Object Created" event with the
// job's options alongside (the CLI's --name, --leads, --max-age-days).
func EventInput(ev events.ObjectCreated, opts SubmitOptions) (json.RawMessage, error) {
	return json.Marshal(eventWithOptions{ev, &opts})
}

// JobID derives a job's id from the uploaded object, so the same upload delivered twice
// names the same job. A new upload of the same key has a new ETag (or version) and so a new
// job.
func JobID(bucket, key, version string) string {
	sum := sha256.Sum256([]byte(bucket + "/" + key + "@" + version))
	return "job-" + hex.EncodeToString(sum[:8])
}

// Prepare is createBatchRequest: it reads the CSV, normalizes and dedupes the addresses,
// writes rejects, address chunks and the manifest, and records the job. A second delivery of
// the same event returns Duplicate; a failed job is taken over and re-driven.
func (t *Tasks) Prepare(ctx context.Context, in PrepareInput) (Step, error) {
	ev, err := decodeEvent(in.Event)
	if err != nil {
		return Step{}, err
	}
	id, _ := EventJobID(in.Event)
	job, fresh, err := t.claimJob(ctx, id, in.ExecutionID, ev)
	if err != nil || job == nil {
		return Step{JobID: id, Duplicate: job == nil && err == nil}, err
	}
	if !fresh && job.ChunkCount > 0 && job.RecordCount > 0 {
		return t.stepFor(*job), nil // re-drive: the chunks are already written
	}
	if err := t.prepareChunks(ctx, job); err != nil {
		return Step{}, err
	}
	return t.stepFor(*job), nil
}

func decodeEvent(raw json.RawMessage) (eventWithOptions, error) {
	var ev eventWithOptions
	if err := json.Unmarshal(raw, &ev); err != nil {
		return ev, &InvalidInput{File: "event", Reason: "not an S3 Object Created event: " + err.Error()}
	}
	if err := ev.Validate(); err != nil {
		return ev, &InvalidInput{File: "event", Reason: err.Error()}
	}
	return ev, nil
}

// claimJob creates the job, or takes it over: a retried Prepare of the same execution, a
// re-drive after a failure or a cancel, or a driver that died (its lease expired). It
// returns nil for a job that is completed or that a live driver holds: the event is a
// duplicate.
func (t *Tasks) claimJob(ctx context.Context, id, execID string, ev eventWithOptions) (*Job, bool, error) {
	job := t.newJob(id, execID, ev)
	created, err := t.Jobs.CreateJob(ctx, job)
	if err != nil {
		return nil, false, &StoreUnavailable{Op: "create job " + id, Err: err}
	}
	if err := t.takeJob(ctx, id, execID, t.Settings.PollMax); err != nil {
		var lost *LeaseLost
		if errors.As(err, &lost) {
			t.log().Info("duplicate event: job held by another driver", "job_id", id, "holder", lost.Err.Lease.Holder)
			return nil, false, nil
		}
		return nil, false, err
	}
	if created {
		return &job, true, nil
	}
	var before string
	existing, err := t.Jobs.UpdateJob(ctx, id, func(j *Job) error {
		if j.Status == StatusCompleted {
			return errDuplicate
		}
		before = j.Status
		j.ExecutionID = execID
		j.Error = ""
		if j.Status == StatusFailed || j.Status == StatusCancelled {
			j.Status = StatusCreated
		}
		return nil
	})
	if errors.Is(err, errDuplicate) {
		t.log().Info("duplicate event: job already completed", "job_id", id)
		_ = t.Leases.ReleaseLease(ctx, JobLeaseName(id), execID)
		return nil, false, nil
	}
	if err != nil {
		return nil, false, &StoreUnavailable{Op: "claim job " + id, Err: err}
	}
	if before != StatusCreated {
		t.notify(ctx, EventResumed, existing, execID, "", nil) // a re-drive: after a failure, a cancel, a dead driver
	}
	return &existing, false, nil
}

var errDuplicate = errors.New("job is already completed")

func (t *Tasks) newJob(id, execID string, ev eventWithOptions) Job {
	key := ev.Detail.Object.Key
	name := jobName(ev)
	wantLeads := t.Settings.WantLeadsByDefault
	maxAge := t.Settings.ReuseMaxAgeDays
	if strings.HasPrefix(key, refreshPrefix) {
		maxAge = 0
	}
	if o := ev.Options; o != nil {
		if o.Leads != nil {
			wantLeads = *o.Leads
		}
		if o.MaxAgeDays != nil {
			maxAge = *o.MaxAgeDays
		}
	}
	return Job{
		ID:          id,
		Name:        name,
		FileName:    path.Base(key),
		FilePath:    key,
		Status:      StatusCreated,
		CreatedAt:   t.now(),
		SourceKey:   ev.Detail.Bucket.Name + "/" + key + "@" + ev.Detail.Object.ETag,
		ExecutionID: execID,
		WantLeads:   wantLeads,
		Endpoints:   t.Settings.Endpoints,

		ReuseMaxAgeDays: maxAge,
	}
}

func (t *Tasks) stepFor(j Job) Step {
	return Step{
		Driver:      j.ExecutionID,
		JobID:       j.ID,
		Bucket:      t.Settings.Bucket,
		ManifestKey: manifestKey(j.ID),
		WantLeads:   j.WantLeads,
		ChunkCount:  j.ChunkCount,
	}
}

// prepareCounts are what reading the file found.
type prepareCounts struct {
	rows, rejected, duplicates, unique, chunks int
	known                                      Estimate // what the answer cache already answers
	encoding                                   string   // csvin.Reader.Encoding
}

// prepareChunks streams the CSV once: bad rows to the rejects file, repeated addresses
// counted as duplicates, unique ones into chunk files of ChunkSize, then the manifest.
func (t *Tasks) prepareChunks(ctx context.Context, job *Job) error {
	body, err := t.Blobs.Get(ctx, job.FilePath)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return &InvalidInput{File: job.FilePath, Reason: "file not found"}
		}
		return &StoreUnavailable{Op: "read " + job.FilePath, Err: err}
	}
	defer body.Close()
	counts, err := t.splitIntoChunks(ctx, job, body)
	if err != nil {
		return err
	}
	updated, err := t.Jobs.UpdateJob(ctx, job.ID, func(j *Job) error {
		j.RecordCount = counts.rows
		j.RejectedRecords = counts.rejected
		j.DuplicateRecords = counts.duplicates
		j.UniqueRecords = counts.unique
		j.ChunkCount = counts.chunks
		j.KnownRecords = counts.known.AlreadyKnown
		j.Encoding = counts.encoding
		j.RejectsPath = rejectsKey(j.ID)
		now := t.now()
		j.UpdatedAt = &now
		t.reestimate(ctx, j)
		return nil
	})
	if err != nil {
		return &StoreUnavailable{Op: "record prepared job", Err: err}
	}
	*job = updated
	return nil
}

func (t *Tasks) splitIntoChunks(ctx context.Context, job *Job, body io.Reader) (prepareCounts, error) {
	var c prepareCounts
	reader, err := csvin.NewReader(body, job.FileName, csvin.Options{})
	if err != nil {
		return c, invalidFile(job.FileName, err)
	}
	defer reader.Close()
	rejects := newRejectsSink(ctx, t.Blobs, rejectsKey(job.ID), reader.Header())
	chunks := &chunkWriter{ctx: ctx, blobs: t.Blobs, jobID: job.ID, size: t.chunkSize(),
		onChunk: func(addrs []ChunkAddress) error { return t.tallyKnown(ctx, *job, addrs, &c.known) }}
	var row csvin.Row
	for {
		err := reader.NextInto(&row)
		if err == io.EOF {
			break
		}
		if err != nil {
			rejects.abort(err)
			return c, invalidFile(job.FileName, err)
		}
		c.rows++
		switch {
		case row.Reject != nil:
			c.rejected++
			rejects.write(row)
		case row.DuplicateOf > 0:
			c.duplicates++
		default:
			c.unique++
			if err := chunks.add(chunkAddressFrom(&row)); err != nil {
				rejects.abort(err)
				return c, err
			}
		}
	}
	if err := chunks.flush(); err != nil {
		rejects.abort(err)
		return c, err
	}
	if err := rejects.close(); err != nil {
		return c, &StoreUnavailable{Op: "write rejects", Err: err}
	}
	c.chunks = len(chunks.manifest)
	c.encoding = reader.Encoding()
	return c, t.putJSON(ctx, manifestKey(job.ID), chunks.manifest)
}

func (t *Tasks) chunkSize() int {
	if t.Settings.ChunkSize <= 0 {
		return 100
	}
	return t.Settings.ChunkSize
}

func invalidFile(file string, err error) error {
	var rowErr *csvin.RowError
	if errors.As(err, &rowErr) {
		return &InvalidInput{File: file, Line: rowErr.Line, Field: rowErr.Field, Reason: rowErr.Reason}
	}
	var fileErr *csvin.FileError
	if errors.As(err, &fileErr) {
		return &InvalidInput{File: file, Line: fileErr.Line, Reason: fileErr.Reason}
	}
	return &InvalidInput{File: file, Reason: err.Error()}
}

func (t *Tasks) putJSON(ctx context.Context, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := t.Blobs.Put(ctx, key, bytes.NewReader(raw)); err != nil {
		return &StoreUnavailable{Op: "write " + key, Err: err}
	}
	return nil
}

// chunkWriter buffers unique addresses and writes a chunk file every size addresses.
type chunkWriter struct {
	ctx      context.Context
	blobs    BlobStore
	jobID    string
	size     int
	buf      bytes.Buffer
	addrs    []ChunkAddress
	manifest []ChunkRef
	// onChunk sees each chunk's addresses as it is written.
	onChunk func([]ChunkAddress) error
}

func (w *chunkWriter) add(a ChunkAddress) error {
	line, err := json.Marshal(a)
	if err != nil {
		return err
	}
	w.buf.Write(line)
	w.buf.WriteByte('\n')
	w.addrs = append(w.addrs, a)
	if len(w.addrs) >= w.size {
		return w.flush()
	}
	return nil
}

func (w *chunkWriter) flush() error {
	if len(w.addrs) == 0 {
		return nil
	}
	if w.onChunk != nil {
		if err := w.onChunk(w.addrs); err != nil {
			return err
		}
	}
	n := len(w.manifest)
	key := chunkKey(w.jobID, n)
	if err := w.blobs.Put(w.ctx, key, bytes.NewReader(w.buf.Bytes())); err != nil {
		return &StoreUnavailable{Op: "write " + key, Err: err}
	}
	w.manifest = append(w.manifest, ChunkRef{JobID: w.jobID, Chunk: n, Key: key})
	w.buf.Reset()
	w.addrs = w.addrs[:0]
	return nil
}

func chunkAddressFrom(row *csvin.Row) ChunkAddress {
	a := row.Address
	return ChunkAddress{
		Key:   row.Key,
		Line:  row.Line,
		Line1: a.Line1,
		Unit:  a.Unit,
		City:  a.City,
		State: a.State,
		ZIP:   zip(a.ZIP5, a.ZIP4),
		Input: rowFields(row),
	}
}

// rowFields pairs the row's values with the header, keeping extra columns for the outputs.
func rowFields(row *csvin.Row) map[string]string {
	m := make(map[string]string, len(row.Columns))
	for i, col := range row.Columns {
		if i < len(row.Values) {
			m[col] = row.Values[i]
		}
	}
	return m
}

func zip(zip5, zip4 string) string {
	if zip4 == "" {
		return zip5
	}
	return zip5 + "-" + zip4
}

// rejectsSink writes rejected rows, with their reasons, into the rejects blob as they come.
type rejectsSink struct {
	blob *blobWriter
	w    *csvin.RejectsWriter
	err  error
}

func newRejectsSink(ctx context.Context, blobs BlobStore, key string, header []string) *rejectsSink {
	s := &rejectsSink{blob: newBlobWriter(ctx, blobs, key)}
	s.w, s.err = csvin.NewRejectsWriter(s.blob, header)
	return s
}

func (s *rejectsSink) write(row csvin.Row) {
	if s.err == nil {
		s.err = s.w.Write(row)
	}
}

func (s *rejectsSink) close() error {
	if s.err == nil {
		s.err = s.w.Flush()
	}
	return s.blob.Close(s.err)
}

func (s *rejectsSink) abort(err error) { _ = s.blob.Close(err) }
