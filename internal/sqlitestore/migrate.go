package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// migrations are the schema's history, oldest first; migration i brings the file to version
// i+1. Append only: a released migration is never edited, a change is a new entry.
var migrations = []string{
	// 1: the seed's attom_batch_jobs and property_records, column for column, plus the job
	// fields beyond the seed, and the tables the seed lacked. "extra" holds, as JSON, any
	// field added to a type later that has no column yet, so it round-trips without a
	// migration until one promotes it.
	`CREATE TABLE attom_batch_jobs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  file_name TEXT NOT NULL,
  file_path TEXT NOT NULL,
  result_file_name TEXT,
  result_file_path TEXT,
  status TEXT NOT NULL,
  record_count INTEGER NOT NULL,
  external_batch_id TEXT,
  response TEXT,
  error TEXT,
  attom_status TEXT,
  progress_percent INTEGER,
  records_found INTEGER,
  processed_records INTEGER,
  error_records INTEGER,
  leads_created INTEGER,
  created_at TEXT NOT NULL,
  updated_at TEXT,
  submitted_at TEXT,
  estimated_completion_time INTEGER,
  last_checked TEXT,
  downloaded_at TEXT,
  processing_started_at TEXT,
  processing_completed_at TEXT,
  source_key TEXT,
  execution_id TEXT,
  rejects_path TEXT,
  want_leads INTEGER NOT NULL DEFAULT 0,
  endpoints TEXT,
  rejected_records INTEGER NOT NULL DEFAULT 0,
  duplicate_records INTEGER NOT NULL DEFAULT 0,
  not_found_records INTEGER NOT NULL DEFAULT 0,
  looked_up_records INTEGER NOT NULL DEFAULT 0,
  unique_records INTEGER NOT NULL DEFAULT 0,
  chunk_count INTEGER NOT NULL DEFAULT 0,
  chunks_done INTEGER NOT NULL DEFAULT 0,
  chunks_deferred INTEGER NOT NULL DEFAULT 0,
  cost_reserved_cents INTEGER NOT NULL DEFAULT 0,
  cost_spent_cents INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL DEFAULT 1,
  extra TEXT
);
CREATE INDEX attom_batch_jobs_created ON attom_batch_jobs (created_at DESC, id DESC);

CREATE TABLE property_records (
  id TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  source_id TEXT,
  address TEXT NOT NULL,
  city TEXT NOT NULL,
  state TEXT NOT NULL,
  zip_code TEXT NOT NULL,
  property_hash TEXT NOT NULL,
  processed INTEGER NOT NULL DEFAULT 0,
  raw_data TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT,
  unified TEXT,
  extra TEXT
);
CREATE INDEX property_records_hash ON property_records (property_hash);
CREATE INDEX property_records_written ON property_records (coalesce(updated_at, created_at));

CREATE TABLE lookups (
  job_id TEXT NOT NULL,
  chunk INTEGER NOT NULL,
  key TEXT NOT NULL,
  outcome TEXT NOT NULL,
  reason TEXT,
  billed_cents INTEGER NOT NULL DEFAULT 0,
  raw TEXT,
  at TEXT NOT NULL,
  extra TEXT,
  PRIMARY KEY (job_id, chunk, key)
);

CREATE TABLE leads (
  id TEXT PRIMARY KEY,
  property_key TEXT,
  property_hash TEXT,
  address TEXT NOT NULL,
  line1 TEXT,
  unit TEXT,
  city TEXT,
  state TEXT,
  zip TEXT,
  owner_names TEXT,
  mailing_address TEXT,
  score INTEGER NOT NULL DEFAULT 0,
  breakdown TEXT,
  value REAL,
  equity REAL,
  status TEXT NOT NULL,
  source TEXT,
  batch_id TEXT,
  simulated INTEGER NOT NULL DEFAULT 0,
  input TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  extra TEXT
);
CREATE INDEX leads_batch ON leads (batch_id);

CREATE TABLE budget_days (
  day TEXT PRIMARY KEY,
  cap INTEGER NOT NULL,
  reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  spent INTEGER NOT NULL DEFAULT 0 CHECK (spent >= 0)
);`,

	// 2: the answer cache and leases, the job fields for reuse, uncertain cost and pauses,
	// and the lookup's reuse fields. Rows written before it keep those fields in "extra";
	// the numbers are promoted to their NOT NULL columns here (a NULL column falls back to
	// extra when read, so the optional ones need no promotion and move on the next write).
	`CREATE TABLE answers (
  key TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  outcome TEXT NOT NULL,
  raw TEXT,
  billed_cents INTEGER NOT NULL DEFAULT 0,
  simulated INTEGER NOT NULL DEFAULT 0,
  fetched_at TEXT NOT NULL,
  job_id TEXT,
  attempt TEXT,
  extra TEXT,
  PRIMARY KEY (key, endpoint)
);

CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  holder TEXT NOT NULL,
  since TEXT NOT NULL,
  expires TEXT NOT NULL,
  data TEXT,
  extra TEXT
);

ALTER TABLE attom_batch_jobs ADD COLUMN reused_records INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attom_batch_jobs ADD COLUMN cost_uncertain_cents INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attom_batch_jobs ADD COLUMN leads_updated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attom_batch_jobs ADD COLUMN reuse_max_age_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attom_batch_jobs ADD COLUMN paused_until TEXT;
ALTER TABLE attom_batch_jobs ADD COLUMN pause_reason TEXT;
ALTER TABLE attom_batch_jobs ADD COLUMN outage_pauses INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attom_batch_jobs ADD COLUMN known_records INTEGER NOT NULL DEFAULT 0;
UPDATE attom_batch_jobs SET
  reused_records = coalesce(json_extract(extra, '$.reused_records'), 0),
  cost_uncertain_cents = coalesce(json_extract(extra, '$.cost_uncertain_cents'), 0),
  leads_updated = coalesce(json_extract(extra, '$.leads_updated'), 0),
  reuse_max_age_days = coalesce(json_extract(extra, '$.reuse_max_age_days'), 0),
  outage_pauses = coalesce(json_extract(extra, '$.outage_pauses'), 0),
  known_records = coalesce(json_extract(extra, '$.known_records'), 0),
  extra = nullif(json_remove(extra, '$.reused_records', '$.cost_uncertain_cents',
    '$.leads_updated', '$.reuse_max_age_days', '$.outage_pauses', '$.known_records'), '{}')
WHERE extra IS NOT NULL;

ALTER TABLE lookups ADD COLUMN reused INTEGER NOT NULL DEFAULT 0;
ALTER TABLE lookups ADD COLUMN fetched_at TEXT;
UPDATE lookups SET
  reused = coalesce(json_extract(extra, '$.reused'), 0),
  extra = nullif(json_remove(extra, '$.reused'), '{}')
WHERE extra IS NOT NULL;`,
}

// SchemaVersion is the version Open brings a file to.
func SchemaVersion() int { return len(migrations) }

// migrate applies the migrations the file lacks, each in its own transaction together with
// its schema_migrations row, so a crash leaves the file at a whole version and two
// processes opening a fresh file apply each migration once.
func (s *Store) migrate(ctx context.Context) error {
	// In a BEGIN IMMEDIATE transaction: an autocommit CREATE would read the schema and then
	// upgrade its lock, which SQLite refuses at once (SQLITE_BUSY, no busy wait) when another
	// process opening the same fresh file holds a read lock.
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  applied_at TEXT NOT NULL
)`)
		return err
	})
	if err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for i, stmt := range migrations {
		version := i + 1
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			var done int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&done); err != nil {
				return err
			}
			if done > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
				version, formatTime(s.now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %d: %w", version, err)
		}
	}
	return nil
}

// Version reads the schema version recorded in the file.
func (s *Store) Version(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v)
	return int(v.Int64), err
}

// timeLayout is RFC 3339 in UTC with a fixed nine-digit fraction, so that text order is
// time order in ORDER BY and comparisons.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }
