package sqlitestore

import (
	"context"
	"fmt"
	"time"

	"github.com/leadflow/attom-batch/internal/batch"
)

var lookupsTable = table{name: "lookups", columns: []column{
	{"job_id", text}, {"chunk", integer}, {"key", text}, {"outcome", text},
	{"reason", textNull}, {"billed_cents", integer}, {"raw", textNull}, {"at", timestamp},
	{"reused", boolean}, {"fetched_at", timestamp},
}}

// PutLookup implements batch.LookupStore; a second put of the same job, chunk and key
// replaces the first.
func (s *Store) PutLookup(ctx context.Context, rec batch.LookupRecord) error {
	args, err := lookupsTable.toRow(rec)
	if err == nil {
		_, err = s.exec(ctx, `INSERT OR REPLACE INTO lookups (`+lookupsTable.names()+
			`) VALUES (`+lookupsTable.placeholders()+`)`, args...)
	}
	if err != nil {
		return fmt.Errorf("sqlitestore: put lookup %s/%d/%s: %w", rec.JobID, rec.Chunk, rec.Key, err)
	}
	return nil
}

// ChunkLookups implements batch.LookupStore.
func (s *Store) ChunkLookups(ctx context.Context, jobID string, chunk int) (map[string]batch.LookupRecord, error) {
	out := make(map[string]batch.LookupRecord)
	err := s.query(ctx, lookupsTable, `WHERE job_id = ? AND chunk = ?`, []any{jobID, chunk}, func(row scanner) error {
		var rec batch.LookupRecord
		if err := lookupsTable.scanInto(row, &rec); err != nil {
			return err
		}
		out[rec.Key] = rec
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: lookups of %s chunk %d: %w", jobID, chunk, err)
	}
	return out, nil
}

var recordsTable = table{name: "property_records", columns: []column{
	{"id", text}, {"source", text}, {"source_id", textNull}, {"address", text}, {"city", text},
	{"state", text}, {"zip_code", text}, {"property_hash", text}, {"processed", boolean},
	{"raw_data", textNull}, {"created_at", timestamp}, {"updated_at", timestamp}, {"unified", textNull},
}}

// UpsertRecord implements batch.PropertyStore: on an existing id every column but
// created_at is replaced, and updated_at is the record's UpdatedAt or, when nil, now.
func (s *Store) UpsertRecord(ctx context.Context, rec batch.PropertyRecord) error {
	args, err := recordsTable.toRow(rec)
	if err == nil {
		_, err = s.exec(ctx, `INSERT INTO property_records (`+recordsTable.names()+`) VALUES (`+
			recordsTable.placeholders()+`) ON CONFLICT (id) DO UPDATE SET
  source = excluded.source, source_id = excluded.source_id, address = excluded.address,
  city = excluded.city, state = excluded.state, zip_code = excluded.zip_code,
  property_hash = excluded.property_hash, processed = excluded.processed,
  raw_data = excluded.raw_data, unified = excluded.unified, extra = excluded.extra,
  updated_at = coalesce(excluded.updated_at, ?)`, append(args, formatTime(s.now()))...)
	}
	if err != nil {
		return fmt.Errorf("sqlitestore: upsert record %s: %w", rec.ID, err)
	}
	return nil
}

// RecordsByHash implements batch.PropertyStore.
func (s *Store) RecordsByHash(ctx context.Context, propertyHash string) ([]batch.PropertyRecord, error) {
	recs, err := s.records(ctx, `WHERE property_hash = ? ORDER BY id`, propertyHash)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: records of %s: %w", propertyHash, err)
	}
	return recs, nil
}

// MarkProcessed implements batch.PropertyStore.
func (s *Store) MarkProcessed(ctx context.Context, id string) error {
	if _, err := s.exec(ctx, `UPDATE property_records SET processed = 1 WHERE id = ?`, id); err != nil {
		return fmt.Errorf("sqlitestore: mark record %s processed: %w", id, err)
	}
	return nil
}

// StaleRecords implements batch.PropertyStore: "last written" is updated_at, else created_at.
func (s *Store) StaleRecords(ctx context.Context, olderThan time.Time, limit int) ([]batch.PropertyRecord, error) {
	recs, err := s.records(ctx, `WHERE coalesce(updated_at, created_at) < ?
ORDER BY coalesce(updated_at, created_at), id LIMIT ?`, formatTime(olderThan), limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: stale records: %w", err)
	}
	return recs, nil
}

func (s *Store) records(ctx context.Context, where string, args ...any) ([]batch.PropertyRecord, error) {
	var recs []batch.PropertyRecord
	err := s.query(ctx, recordsTable, where, args, func(row scanner) error {
		var rec batch.PropertyRecord
		if err := recordsTable.scanInto(row, &rec); err != nil {
			return err
		}
		recs = append(recs, rec)
		return nil
	})
	return recs, err
}

// query runs SELECT of t's columns with the given WHERE/ORDER clause and calls each per row.
func (s *Store) query(ctx context.Context, t table, where string, args []any, each func(scanner) error) error {
	st, err := s.prepared(ctx, `SELECT `+t.names()+` FROM `+t.name+` `+where)
	if err != nil {
		return err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
