// Package sqlitestore is the embedded backend's store: jobs, lookups, property records,
// leads and the daily budget in one SQLite file (modernc.org/sqlite, pure Go, no cgo), so the
// whole pipeline runs on one machine with no cloud. The tables mirror the seed's schema
// (attom_batch_jobs, property_records) column for column.
//
// Several processes may share the file: writes that read first run in BEGIN IMMEDIATE
// transactions, and the budget reservation is one conditional UPDATE, so the daily cap
// holds across processes too.
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/leadflow/attom-batch/internal/batch"
)

// Store is the SQLite file. It implements every store port of package batch; Budget
// returns the budget port.
type Store struct {
	db  *sql.DB
	now func() time.Time
	// stmts holds the per-record statements prepared once (query text -> *sql.Stmt).
	stmts sync.Map
}

var (
	_ batch.JobStore      = (*Store)(nil)
	_ batch.LookupStore   = (*Store)(nil)
	_ batch.PropertyStore = (*Store)(nil)
	_ batch.LeadStore     = (*Store)(nil)
	_ batch.AnswerStore   = (*Store)(nil)
	_ batch.LeaseStore    = (*Store)(nil)
)

// busyTimeout is how long a writer waits for another connection or process to finish.
const busyTimeout = 5 * time.Second

// maxOpenConns bounds the pool: WAL lets readers run beside the one writer, and more
// connections only add lock contention on two cores.
const maxOpenConns = 4

// Open opens (creating if needed) the SQLite file at path and brings its schema up to date.
func Open(path string) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlitestore: open %q: want a file path without '?' or '#'", path)
	}
	dsn := fmt.Sprintf("file:%s?_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate",
		path, busyTimeout.Milliseconds())
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(maxOpenConns)
	db.SetMaxIdleConns(maxOpenConns)
	s := &Store{db: db, now: time.Now}
	if err := s.migrateRetrying(context.Background()); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlitestore: %s: %w", path, err)
	}
	return s, nil
}

// Close closes the file.
func (s *Store) Close() error {
	s.stmts.Range(func(_, st any) bool {
		_ = st.(*sql.Stmt).Close()
		return true
	})
	return s.db.Close()
}

// prepared returns query prepared once for the life of the Store. Statements run once per
// address (lookups, records, leads, counters) go through it: parsing the SQL again on every
// call was about 10% of the CPU of a 25k-address run-all (BenchmarkRunAll100k).
func (s *Store) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.LoadOrStore(query, st); loaded {
		_ = st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// exec is db.ExecContext through a prepared statement.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := s.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// Stores bundles this file's ports with blobs and a budget capped at capCents a day, ready
// for the batch tasks.
func (s *Store) Stores(blobs batch.BlobStore, capCents int64) batch.Stores {
	return batch.Stores{
		Jobs: s, Lookups: s, Properties: s, Leads: s, Answers: s, Leases: s,
		Blobs:  blobs,
		Budget: s.Budget(capCents),
	}
}

// inTx runs f in a BEGIN IMMEDIATE transaction (the DSN's _txlock), committing when f
// succeeds: the write lock is taken up front, so a read-then-write never loses a race.
func (s *Store) inTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// notFound wraps batch.ErrNotFound with what was missing.
func notFound(what, id string) error {
	return fmt.Errorf("sqlitestore: %s %q: %w", what, id, batch.ErrNotFound)
}

// limitArg turns "0 or less means all" into SQLite's LIMIT -1.
func limitArg(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// migrateRetrying runs migrate, retrying while another process is creating the same fresh
// file: switching a new file to WAL and creating the first table can fail with SQLITE_BUSY
// without waiting on the busy timeout, which SQLite does when waiting could deadlock.
func (s *Store) migrateRetrying(ctx context.Context) error {
	var err error
	for attempt := range 20 {
		if err = s.migrate(ctx); err == nil || !isBusy(err) {
			return err
		}
		time.Sleep(time.Duration(10*(attempt+1)) * time.Millisecond)
	}
	return err
}

// isBusy reports SQLite's "database is locked" in any of its extended forms.
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}
