package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/leadflow/attom-batch/internal/batch"
)

// jobsTable maps batch.Job onto attom_batch_jobs (column names are the Job's JSON names).
var jobsTable = table{name: "attom_batch_jobs", columns: []column{
	{"id", text}, {"name", text}, {"file_name", text}, {"file_path", text},
	{"result_file_name", textNull}, {"result_file_path", textNull}, {"status", text},
	{"record_count", integer}, {"external_batch_id", textNull}, {"response", textNull},
	{"error", textNull}, {"attom_status", textNull}, {"progress_percent", integer},
	{"records_found", integer}, {"processed_records", integer}, {"error_records", integer},
	{"leads_created", integer}, {"created_at", timestamp}, {"updated_at", timestamp},
	{"submitted_at", timestamp}, {"estimated_completion_time", intNull}, {"last_checked", timestamp},
	{"downloaded_at", timestamp}, {"processing_started_at", timestamp}, {"processing_completed_at", timestamp},
	{"source_key", textNull}, {"execution_id", textNull}, {"rejects_path", textNull},
	{"want_leads", boolean}, {"endpoints", document}, {"rejected_records", integer},
	{"duplicate_records", integer}, {"not_found_records", integer}, {"looked_up_records", integer},
	{"unique_records", integer}, {"chunk_count", integer}, {"chunks_done", integer},
	{"chunks_deferred", integer}, {"cost_reserved_cents", integer}, {"cost_spent_cents", integer},
	{"version", integer}, {"reused_records", integer}, {"cost_uncertain_cents", integer},
	{"leads_updated", integer}, {"reuse_max_age_days", integer}, {"paused_until", timestamp},
	{"pause_reason", textNull}, {"outage_pauses", integer}, {"known_records", integer},
}}

// CreateJob implements batch.JobStore: an existing id is left alone and created is false.
func (s *Store) CreateJob(ctx context.Context, job batch.Job) (bool, error) {
	job.Version = 1
	args, err := jobsTable.toRow(job)
	if err != nil {
		return false, fmt.Errorf("sqlitestore: create job %s: %w", job.ID, err)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO attom_batch_jobs (`+jobsTable.names()+`) VALUES (`+
		jobsTable.placeholders()+`) ON CONFLICT (id) DO NOTHING`, args...)
	if err != nil {
		return false, fmt.Errorf("sqlitestore: create job %s: %w", job.ID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// GetJob implements batch.JobStore.
func (s *Store) GetJob(ctx context.Context, id string) (batch.Job, error) {
	return getJob(ctx, s.db, id)
}

// querier is *sql.DB or *sql.Tx.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func getJob(ctx context.Context, q querier, id string) (batch.Job, error) {
	return getRow[batch.Job](ctx, q, jobsTable, "job", id)
}

// getRow reads the row of t whose first column (its primary key) is id; a missing row is
// batch.ErrNotFound naming what.
func getRow[T any](ctx context.Context, q querier, t table, what, id string) (T, error) {
	var v T
	row := q.QueryRowContext(ctx, `SELECT `+t.names()+` FROM `+t.name+` WHERE `+t.columns[0].name+` = ?`, id)
	if err := t.scanInto(row, &v); err != nil {
		var zero T
		if isNoRows(err) {
			return zero, notFound(what, id)
		}
		return zero, fmt.Errorf("sqlitestore: get %s %s: %w", what, id, err)
	}
	return v, nil
}

// UpdateJob implements batch.JobStore. The read, mutate and write run in one BEGIN
// IMMEDIATE transaction, so no other writer (thread or process) comes in between; the
// version check stays as a guard.
func (s *Store) UpdateJob(ctx context.Context, id string, mutate func(*batch.Job) error) (batch.Job, error) {
	var out batch.Job
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		job, err := getJob(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := mutate(&job); err != nil {
			return err
		}
		job.ID = id
		prev := job.Version
		job.Version++
		args, err := jobsTable.toRow(job)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE attom_batch_jobs SET (`+jobsTable.names()+`) = (`+
			jobsTable.placeholders()+`) WHERE id = ? AND version = ?`, append(args, id, prev)...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("sqlitestore: job %s changed under a write lock (rows %d, %v)", id, n, err)
		}
		out = job
		return nil
	})
	if err != nil {
		return batch.Job{}, fmt.Errorf("sqlitestore: update job %s: %w", id, err)
	}
	return out, nil
}

// AddCounters implements batch.JobStore with one UPDATE, which SQLite applies atomically;
// it bumps the version so an UpdateJob in flight elsewhere cannot write back stale counts.
func (s *Store) AddCounters(ctx context.Context, id string, d batch.Counters) error {
	res, err := s.exec(ctx, `UPDATE attom_batch_jobs SET
  records_found = coalesce(records_found, 0) + ?,
  not_found_records = not_found_records + ?,
  error_records = coalesce(error_records, 0) + ?,
  looked_up_records = looked_up_records + ?,
  chunks_done = chunks_done + ?,
  cost_reserved_cents = cost_reserved_cents + ?,
  cost_spent_cents = cost_spent_cents + ?,
  reused_records = reused_records + ?,
  cost_uncertain_cents = cost_uncertain_cents + ?,
  processed_records = coalesce(processed_records, 0) + ?,
  leads_created = coalesce(leads_created, 0) + ?,
  leads_updated = coalesce(leads_updated, 0) + ?,
  version = version + 1
WHERE id = ?`, d.RecordsFound, d.NotFoundRecords, d.ErrorRecords, d.LookedUpRecords,
		d.ChunksDone, d.CostReservedCents, d.CostSpentCents, d.ReusedRecords, d.CostUncertainCents,
		d.ProcessedRecords, d.LeadsCreated, d.LeadsUpdated, id)
	if err != nil {
		return fmt.Errorf("sqlitestore: add counters to job %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return notFound("job", id)
	}
	return nil
}

// ListJobs implements batch.JobStore: newest first; limit 0 or less lists all.
func (s *Store) ListJobs(ctx context.Context, limit int) ([]batch.Job, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+jobsTable.names()+
		` FROM attom_batch_jobs ORDER BY created_at DESC, id DESC LIMIT ?`, limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list jobs: %w", err)
	}
	defer rows.Close()
	var jobs []batch.Job
	for rows.Next() {
		var job batch.Job
		if err := jobsTable.scanInto(rows, &job); err != nil {
			return nil, fmt.Errorf("sqlitestore: list jobs: %w", err)
		}
		jobs = append(jobs, job)
	}
	return jobs, rows.Err()
}
