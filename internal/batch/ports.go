package batch

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/leadflow/attom-batch/internal/budget"
	"github.com/leadflow/attom-batch/internal/leads"
)

// ErrNotFound is returned by stores for a missing job, record, lead or blob.
var ErrNotFound = errors.New("not found")

// Job statuses, in lifecycle order. Paused means the daily cap deferred some chunks.
const (
	StatusCreated           = "created"
	StatusSubmitted         = "submitted"
	StatusProcessing        = "processing" // ATTOM lookups under way
	StatusPaused            = "paused"
	StatusDownloaded        = "downloaded"
	StatusProcessingResults = "processing_results"
	StatusCompleted         = "completed"
	StatusFailed            = "failed"
	StatusCancelled         = "cancelled" // stopped by `cancel`; `resume` continues it
)

// Job is one batch: every column of the seed's attom_batch_jobs table plus the counts and
// money that make "nothing is lost" and "money is a hard limit" checkable.
type Job struct {
	ID                      string     `json:"id"`
	Name                    string     `json:"name"`
	FileName                string     `json:"file_name"`
	FilePath                string     `json:"file_path"`
	ResultFileName          string     `json:"result_file_name,omitempty"`
	ResultFilePath          string     `json:"result_file_path,omitempty"`
	Status                  string     `json:"status"`
	RecordCount             int        `json:"record_count"`
	ExternalBatchID         string     `json:"external_batch_id,omitempty"`
	Response                string     `json:"response,omitempty"`
	Error                   string     `json:"error,omitempty"`
	AttomStatus             string     `json:"attom_status,omitempty"`
	ProgressPercent         int        `json:"progress_percent"`
	RecordsFound            int        `json:"records_found"`
	ProcessedRecords        int        `json:"processed_records"`
	ErrorRecords            int        `json:"error_records"`
	LeadsCreated            int        `json:"leads_created"`
	CreatedAt               time.Time  `json:"created_at"`
	UpdatedAt               *time.Time `json:"updated_at,omitempty"`
	SubmittedAt             *time.Time `json:"submitted_at,omitempty"`
	EstimatedCompletionTime int64      `json:"estimated_completion_time,omitempty"` // unix seconds
	LastChecked             *time.Time `json:"last_checked,omitempty"`
	DownloadedAt            *time.Time `json:"downloaded_at,omitempty"`
	ProcessingStartedAt     *time.Time `json:"processing_started_at,omitempty"`
	ProcessingCompletedAt   *time.Time `json:"processing_completed_at,omitempty"`

	// Beyond the seed's columns.
	SourceKey         string   `json:"source_key,omitempty"`   // bucket/key@etag: idempotency
	ExecutionID       string   `json:"execution_id,omitempty"` // the pipeline execution that owns the job
	RejectsPath       string   `json:"rejects_path,omitempty"`
	WantLeads         bool     `json:"want_leads"`
	Endpoints         []string `json:"endpoints,omitempty"`
	RejectedRecords   int      `json:"rejected_records"`
	DuplicateRecords  int      `json:"duplicate_records"`
	NotFoundRecords   int      `json:"not_found_records"`
	LookedUpRecords   int      `json:"looked_up_records"` // addresses whose lookup finished
	UniqueRecords     int      `json:"unique_records"`    // addresses to look up
	ChunkCount        int      `json:"chunk_count"`
	ChunksDone        int      `json:"chunks_done"`
	ChunksDeferred    int      `json:"chunks_deferred"`
	CostReservedCents int64    `json:"cost_reserved_cents"`
	CostSpentCents    int64    `json:"cost_spent_cents"`
	Version           int64    `json:"version"`

	// Money and reuse beyond the first version.
	// ReusedRecords are addresses answered from the answer cache (free); they are also
	// counted as found or not found.
	ReusedRecords int `json:"reused_records"`
	// CostUncertainCents is the part of CostSpentCents that ATTOM may or may not have billed
	// (a call abandoned at its timeout, or in flight when a driver died): counted against
	// the cap, shown apart.
	CostUncertainCents int64 `json:"cost_uncertain_cents"`
	// LeadsUpdated are leads this job saved that already existed (LeadsCreated: new ones).
	LeadsUpdated int `json:"leads_updated"`
	// ReuseMaxAgeDays is the answer cache window this job reuses answers within; 0 buys
	// everything fresh.
	ReuseMaxAgeDays int `json:"reuse_max_age_days"`
	// PausedUntil is when a paused job is next tried; PauseReason says why ("daily cap" or
	// "ATTOM unavailable"); OutagePauses counts outage pauses in a row, for growing waits.
	PausedUntil  *time.Time `json:"paused_until,omitempty"`
	PauseReason  string     `json:"pause_reason,omitempty"`
	OutagePauses int        `json:"outage_pauses,omitempty"`
	// KnownRecords are the unique addresses the answer cache already answered in full when
	// the job was prepared: the estimate leaves them out of the calls to make.
	KnownRecords int `json:"known_records"`
	// Encoding says how the file's text was read when it was not plain UTF-8: "UTF-16LE",
	// "UTF-16BE", or Windows-1252 with the count of lines that were not valid UTF-8.
	Encoding string `json:"encoding,omitempty"`
	// LastNotice is what became of the job's last event's webhook delivery.
	LastNotice string `json:"last_notice,omitempty"`
}

// PendingRecords are unique addresses whose lookup has not finished yet: with them
// record_count = rejected + duplicates + found + not found + errors + pending for every status.
func (j Job) PendingRecords() int {
	return max(j.UniqueRecords-j.RecordsFound-j.NotFoundRecords-j.ErrorRecords, 0)
}

// Counters are deltas added atomically to a job while chunks run concurrently.
type Counters struct {
	RecordsFound      int
	NotFoundRecords   int
	ErrorRecords      int
	LookedUpRecords   int
	ChunksDone        int
	CostReservedCents int64
	CostSpentCents    int64
	// ReusedRecords and CostUncertainCents add to the job's fields of the same names.
	ReusedRecords      int
	CostUncertainCents int64
	// ProcessedRecords, LeadsCreated and LeadsUpdated grow as each chunk's leads are saved
	// (issue 15), so a running or paused job shows its leads so far.
	ProcessedRecords int
	LeadsCreated     int
	LeadsUpdated     int
}

// JobStore keeps jobs. CreateJob is conditional: a job id that exists is not overwritten and
// created is false, which makes a twice-delivered S3 event create one job.
type JobStore interface {
	CreateJob(ctx context.Context, job Job) (created bool, err error)
	GetJob(ctx context.Context, id string) (Job, error)
	// UpdateJob reads the job, applies mutate and writes it back if nobody wrote in between
	// (optimistic locking on Version), retrying a few times.
	UpdateJob(ctx context.Context, id string, mutate func(*Job) error) (Job, error)
	AddCounters(ctx context.Context, id string, delta Counters) error
	// ListJobs returns jobs newest first.
	ListJobs(ctx context.Context, limit int) ([]Job, error)
}

// Lookup outcomes.
const (
	LookupFound    = "found"
	LookupNotFound = "not_found"
	LookupError    = "error"
)

// LookupRecord is one address's ATTOM answer inside a job, written right after the call so a
// crash mid-chunk never pays for the same address twice.
type LookupRecord struct {
	JobID       string    `json:"job_id"`
	Chunk       int       `json:"chunk"`
	Key         string    `json:"key"` // the address dedupe key
	Outcome     string    `json:"outcome"`
	Reason      string    `json:"reason,omitempty"`
	BilledCents int64     `json:"billed_cents"`
	Raw         string    `json:"raw,omitempty"` // JSON: endpoint -> ATTOM property block
	At          time.Time `json:"at"`
	// Reused is true when every answer came from the answer cache; FetchedAt is then when
	// the oldest of them was bought.
	Reused    bool       `json:"reused,omitempty"`
	FetchedAt *time.Time `json:"fetched_at,omitempty"`
}

// Answer outcomes beyond LookupFound and LookupNotFound: a 200 ATTOM billed whose body could
// not be read. A broken answer is never reused; it is kept for diagnosis until a good answer
// replaces it.
const AnswerBroken = "broken"

// Answer is one endpoint's ATTOM answer for one address, kept across jobs: any job reuses an
// answer younger than its reuse window instead of buying it again.
type Answer struct {
	Key         string    `json:"key"` // the normalized address key
	Endpoint    string    `json:"endpoint"`
	Outcome     string    `json:"outcome"` // found, not_found or broken
	Raw         string    `json:"raw,omitempty"`
	BilledCents int64     `json:"billed_cents"`
	Simulated   bool      `json:"simulated,omitempty"`
	FetchedAt   time.Time `json:"fetched_at"`
	JobID       string    `json:"job_id,omitempty"`  // the job that bought it
	Attempt     string    `json:"attempt,omitempty"` // the chunk attempt that bought it
}

// AnswerStore is the answer cache, keyed by address key and endpoint.
type AnswerStore interface {
	// PutAnswer stores an answer, replacing the one for the same key and endpoint.
	PutAnswer(ctx context.Context, a Answer) error
	// Answers returns the stored answers of keys on endpoints, by key then endpoint; keys
	// and endpoints with none are absent. Any number of keys.
	Answers(ctx context.Context, keys, endpoints []string) (map[string]map[string]Answer, error)
}

// Lease is a named, expiring claim: one driver per job, one attempt per chunk. The holder
// renews it while working; once it expires anyone may take it over.
type Lease struct {
	Name    string    `json:"name"`
	Owner   string    `json:"owner"`  // unique per driver or attempt
	Holder  string    `json:"holder"` // for people: "run-all (pid 123 on host)", an execution ARN
	Since   time.Time `json:"since"`  // when Owner first took it
	Expires time.Time `json:"expires"`
	// Data is the owner's own state, JSON (a chunk attempt's open reservation).
	Data string `json:"data,omitempty"`
}

// LeaseHeld is returned when a live lease belongs to another owner.
type LeaseHeld struct{ Lease Lease }

func (e *LeaseHeld) Error() string {
	return "held by " + e.Lease.Holder + " since " + e.Lease.Since.UTC().Format(time.RFC3339) +
		" (until " + e.Lease.Expires.UTC().Format(time.RFC3339) + " unless renewed)"
}

// LeaseStore keeps leases with conditional writes.
type LeaseStore interface {
	// AcquireLease writes l if the name is free, expired at now, or already l.Owner's (a
	// renewal: Since is kept, Expires, Holder and Data replaced). It returns the lease it
	// replaced, if any (an expired one of another owner carries what that owner left in
	// Data), or *LeaseHeld when another owner's lease is live at now.
	AcquireLease(ctx context.Context, l Lease, now time.Time) (previous *Lease, err error)
	// RenewLease extends a lease l.Owner still holds, live or expired (Holder, Expires and
	// Data replaced, Since kept). When another owner took it over it returns *LeaseHeld
	// naming them, and ErrNotFound when it is gone: unlike AcquireLease it never takes a
	// free or expired lease, so a holder that lost its lease learns it.
	RenewLease(ctx context.Context, l Lease) error
	// ReleaseLease deletes the lease if owner holds it; otherwise it does nothing.
	ReleaseLease(ctx context.Context, name, owner string) error
	// GetLease returns the lease, live or expired, or ErrNotFound.
	GetLease(ctx context.Context, name string) (Lease, error)
}

// LookupStore keeps per-address lookup results of a job.
type LookupStore interface {
	PutLookup(ctx context.Context, rec LookupRecord) error
	// ChunkLookups returns the chunk's finished lookups keyed by address key.
	ChunkLookups(ctx context.Context, jobID string, chunk int) (map[string]LookupRecord, error)
}

// PropertyRecord is one source's record of a property: the seed's property_records table.
// Records of one property from several sources share PropertyHash and merge into one
// unified property.
type PropertyRecord struct {
	ID           string     `json:"id"` // hash of source + source id (or address key)
	Source       string     `json:"source"`
	SourceID     string     `json:"source_id,omitempty"`
	Address      string     `json:"address"`
	City         string     `json:"city"`
	State        string     `json:"state"`
	ZIPCode      string     `json:"zip_code"`
	PropertyHash string     `json:"property_hash"`
	Processed    bool       `json:"processed"`
	RawData      string     `json:"raw_data,omitempty"` // the source's payload
	Unified      string     `json:"unified,omitempty"`  // property.Property as JSON
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    *time.Time `json:"updated_at,omitempty"`
}

// PropertyStore keeps property records.
type PropertyStore interface {
	// UpsertRecord writes a record; on an existing ID it keeps CreatedAt and sets UpdatedAt.
	UpsertRecord(ctx context.Context, rec PropertyRecord) error
	RecordsByHash(ctx context.Context, propertyHash string) ([]PropertyRecord, error)
	// MarkProcessed sets processed on a record (its property has become its lead) and
	// changes nothing else: not UpdatedAt, which says when the source last described it.
	// A missing id is no error. Any later UpsertRecord of the record clears it again.
	MarkProcessed(ctx context.Context, id string) error
	// StaleRecords returns records last written before olderThan, oldest first.
	StaleRecords(ctx context.Context, olderThan time.Time, limit int) ([]PropertyRecord, error)
}

// LeadStore keeps leads, one per property (ID = property hash).
type LeadStore interface {
	// SaveLead inserts or updates; created tells which. An update keeps CreatedAt and Status.
	SaveLead(ctx context.Context, lead leads.Lead) (created bool, err error)
	GetLead(ctx context.Context, id string) (leads.Lead, error)
	LeadsByBatch(ctx context.Context, batchID string) ([]leads.Lead, error)
	// TopLeads returns at most n of the batch's leads, highest score first, reading no more:
	// a summary of a million-address job must not load every lead to show ten.
	TopLeads(ctx context.Context, batchID string, n int) ([]leads.Lead, error)
}

// BlobStore keeps files: uploads, chunks, results, rejects and exports. Keys use '/'.
type BlobStore interface {
	Put(ctx context.Context, key string, body io.Reader) error
	Get(ctx context.Context, key string) (io.ReadCloser, error) // ErrNotFound when missing
	List(ctx context.Context, prefix string) ([]string, error)
}

// Stores bundles the ports a backend provides.
type Stores struct {
	Jobs       JobStore
	Lookups    LookupStore
	Properties PropertyStore
	Leads      LeadStore
	Blobs      BlobStore
	Budget     budget.Budget
	Answers    AnswerStore
	Leases     LeaseStore
}
