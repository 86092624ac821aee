package dynamostore

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leadflow/attom-batch/internal/batch"
)

// jobItem is a job as stored in the jobs table: every batch.Job field under its seed
// column name, plus gsi_pk for the by_created index.
type jobItem struct {
	ID                      string   `dynamodbav:"id"`
	GSIPK                   string   `dynamodbav:"gsi_pk"`
	Name                    string   `dynamodbav:"name"`
	FileName                string   `dynamodbav:"file_name"`
	FilePath                string   `dynamodbav:"file_path"`
	ResultFileName          string   `dynamodbav:"result_file_name,omitempty"`
	ResultFilePath          string   `dynamodbav:"result_file_path,omitempty"`
	Status                  string   `dynamodbav:"status"`
	RecordCount             int      `dynamodbav:"record_count"`
	ExternalBatchID         string   `dynamodbav:"external_batch_id,omitempty"`
	Response                string   `dynamodbav:"response,omitempty"`
	Error                   string   `dynamodbav:"error,omitempty"`
	AttomStatus             string   `dynamodbav:"attom_status,omitempty"`
	ProgressPercent         int      `dynamodbav:"progress_percent"`
	RecordsFound            int      `dynamodbav:"records_found"`
	ProcessedRecords        int      `dynamodbav:"processed_records"`
	ErrorRecords            int      `dynamodbav:"error_records"`
	LeadsCreated            int      `dynamodbav:"leads_created"`
	CreatedAt               string   `dynamodbav:"created_at"`
	UpdatedAt               string   `dynamodbav:"updated_at,omitempty"`
	SubmittedAt             string   `dynamodbav:"submitted_at,omitempty"`
	EstimatedCompletionTime int64    `dynamodbav:"estimated_completion_time,omitempty"`
	LastChecked             string   `dynamodbav:"last_checked,omitempty"`
	DownloadedAt            string   `dynamodbav:"downloaded_at,omitempty"`
	ProcessingStartedAt     string   `dynamodbav:"processing_started_at,omitempty"`
	ProcessingCompletedAt   string   `dynamodbav:"processing_completed_at,omitempty"`
	SourceKey               string   `dynamodbav:"source_key,omitempty"`
	ExecutionID             string   `dynamodbav:"execution_id,omitempty"`
	RejectsPath             string   `dynamodbav:"rejects_path,omitempty"`
	WantLeads               bool     `dynamodbav:"want_leads"`
	Endpoints               []string `dynamodbav:"endpoints,omitempty"`
	RejectedRecords         int      `dynamodbav:"rejected_records"`
	DuplicateRecords        int      `dynamodbav:"duplicate_records"`
	NotFoundRecords         int      `dynamodbav:"not_found_records"`
	LookedUpRecords         int      `dynamodbav:"looked_up_records"`
	UniqueRecords           int      `dynamodbav:"unique_records"`
	ChunkCount              int      `dynamodbav:"chunk_count"`
	ChunksDone              int      `dynamodbav:"chunks_done"`
	ChunksDeferred          int      `dynamodbav:"chunks_deferred"`
	CostReservedCents       int64    `dynamodbav:"cost_reserved_cents"`
	CostSpentCents          int64    `dynamodbav:"cost_spent_cents"`
	Version                 int64    `dynamodbav:"version"`
	ReusedRecords           int      `dynamodbav:"reused_records"`
	CostUncertainCents      int64    `dynamodbav:"cost_uncertain_cents"`
	LeadsUpdated            int      `dynamodbav:"leads_updated"`
	ReuseMaxAgeDays         int      `dynamodbav:"reuse_max_age_days"`
	PausedUntil             string   `dynamodbav:"paused_until,omitempty"`
	PauseReason             string   `dynamodbav:"pause_reason,omitempty"`
	OutagePauses            int      `dynamodbav:"outage_pauses,omitempty"`
	KnownRecords            int      `dynamodbav:"known_records"`
	Encoding                string   `dynamodbav:"encoding,omitempty"`
	LastNotice              string   `dynamodbav:"last_notice,omitempty"`
}

// Attribute names that AddCounters and the optimistic lock touch.
const (
	attrVersion = "version"
)

// key is the item's primary key.
func (it jobItem) key() map[string]types.AttributeValue { return stringKey(attrID, it.ID) }

// toJobItem converts a job for storage.
func toJobItem(j batch.Job) jobItem {
	return jobItem{
		ID: j.ID, GSIPK: gsiPKJob, Name: j.Name, FileName: j.FileName, FilePath: j.FilePath,
		ResultFileName: j.ResultFileName, ResultFilePath: j.ResultFilePath, Status: j.Status,
		RecordCount: j.RecordCount, ExternalBatchID: j.ExternalBatchID, Response: j.Response,
		Error: j.Error, AttomStatus: j.AttomStatus, ProgressPercent: j.ProgressPercent,
		RecordsFound: j.RecordsFound, ProcessedRecords: j.ProcessedRecords,
		ErrorRecords: j.ErrorRecords, LeadsCreated: j.LeadsCreated,
		CreatedAt:               formatTime(j.CreatedAt),
		UpdatedAt:               formatTimePtr(j.UpdatedAt),
		SubmittedAt:             formatTimePtr(j.SubmittedAt),
		EstimatedCompletionTime: j.EstimatedCompletionTime,
		LastChecked:             formatTimePtr(j.LastChecked),
		DownloadedAt:            formatTimePtr(j.DownloadedAt),
		ProcessingStartedAt:     formatTimePtr(j.ProcessingStartedAt),
		ProcessingCompletedAt:   formatTimePtr(j.ProcessingCompletedAt),
		SourceKey:               j.SourceKey, ExecutionID: j.ExecutionID, RejectsPath: j.RejectsPath,
		WantLeads: j.WantLeads, Endpoints: j.Endpoints,
		RejectedRecords: j.RejectedRecords, DuplicateRecords: j.DuplicateRecords,
		NotFoundRecords: j.NotFoundRecords, LookedUpRecords: j.LookedUpRecords,
		UniqueRecords: j.UniqueRecords, ChunkCount: j.ChunkCount, ChunksDone: j.ChunksDone,
		ChunksDeferred: j.ChunksDeferred, CostReservedCents: j.CostReservedCents,
		CostSpentCents: j.CostSpentCents, Version: j.Version,
		ReusedRecords: j.ReusedRecords, CostUncertainCents: j.CostUncertainCents,
		LeadsUpdated: j.LeadsUpdated, ReuseMaxAgeDays: j.ReuseMaxAgeDays,
		PausedUntil: formatTimePtr(j.PausedUntil), PauseReason: j.PauseReason,
		OutagePauses: j.OutagePauses, KnownRecords: j.KnownRecords, Encoding: j.Encoding, LastNotice: j.LastNotice,
	}
}

// job converts a stored item back; a malformed time is an error naming the attribute.
func (it jobItem) job() (batch.Job, error) {
	j := batch.Job{
		ID: it.ID, Name: it.Name, FileName: it.FileName, FilePath: it.FilePath,
		ResultFileName: it.ResultFileName, ResultFilePath: it.ResultFilePath, Status: it.Status,
		RecordCount: it.RecordCount, ExternalBatchID: it.ExternalBatchID, Response: it.Response,
		Error: it.Error, AttomStatus: it.AttomStatus, ProgressPercent: it.ProgressPercent,
		RecordsFound: it.RecordsFound, ProcessedRecords: it.ProcessedRecords,
		ErrorRecords: it.ErrorRecords, LeadsCreated: it.LeadsCreated,
		EstimatedCompletionTime: it.EstimatedCompletionTime,
		SourceKey:               it.SourceKey, ExecutionID: it.ExecutionID, RejectsPath: it.RejectsPath,
		WantLeads: it.WantLeads, Endpoints: it.Endpoints,
		RejectedRecords: it.RejectedRecords, DuplicateRecords: it.DuplicateRecords,
		NotFoundRecords: it.NotFoundRecords, LookedUpRecords: it.LookedUpRecords,
		UniqueRecords: it.UniqueRecords, ChunkCount: it.ChunkCount, ChunksDone: it.ChunksDone,
		ChunksDeferred: it.ChunksDeferred, CostReservedCents: it.CostReservedCents,
		CostSpentCents: it.CostSpentCents, Version: it.Version,
		ReusedRecords: it.ReusedRecords, CostUncertainCents: it.CostUncertainCents,
		LeadsUpdated: it.LeadsUpdated, ReuseMaxAgeDays: it.ReuseMaxAgeDays,
		PauseReason: it.PauseReason, OutagePauses: it.OutagePauses, KnownRecords: it.KnownRecords, Encoding: it.Encoding, LastNotice: it.LastNotice,
	}
	var err error
	if j.CreatedAt, err = parseTime(attrCreatedAt, it.CreatedAt); err != nil {
		return batch.Job{}, err
	}
	for _, f := range []struct {
		name string
		src  string
		dst  **time.Time
	}{
		{"updated_at", it.UpdatedAt, &j.UpdatedAt},
		{"submitted_at", it.SubmittedAt, &j.SubmittedAt},
		{"last_checked", it.LastChecked, &j.LastChecked},
		{"downloaded_at", it.DownloadedAt, &j.DownloadedAt},
		{"processing_started_at", it.ProcessingStartedAt, &j.ProcessingStartedAt},
		{"processing_completed_at", it.ProcessingCompletedAt, &j.ProcessingCompletedAt},
		{"paused_until", it.PausedUntil, &j.PausedUntil},
	} {
		if *f.dst, err = parseTimePtr(f.name, f.src); err != nil {
			return batch.Job{}, err
		}
	}
	return j, nil
}
