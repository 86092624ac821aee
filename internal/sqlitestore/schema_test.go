package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/budget"
)

func TestReopenIsNoOpAndVersionRecorded(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if created, err := s.CreateJob(ctx, batch.Job{ID: "j1", Name: "n", FileName: "f", FilePath: "p", Status: batch.StatusCreated, CreatedAt: time.Now()}); err != nil || !created {
		t.Fatalf("CreateJob = %v, %v", created, err)
	}
	s.Close()
	for range 2 {
		s, err = Open(path)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		v, err := s.Version(ctx)
		if err != nil || v != SchemaVersion() {
			t.Errorf("Version = %d, %v; want %d", v, err, SchemaVersion())
		}
		var rows int
		if err := s.db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&rows); err != nil || rows != len(migrations) {
			t.Errorf("schema_migrations has %d rows (%v), want one per migration (%d)", rows, err, len(migrations))
		}
		if _, err := s.GetJob(ctx, "j1"); err != nil {
			t.Errorf("data lost on reopen: %v", err)
		}
		s.Close()
	}
}

func TestConcurrentOpenMigratesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(path)
			if err != nil {
				errs <- err
				return
			}
			s.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Open: %v", err)
	}
}

// seedColumns are the columns of the seed's CREATE TABLE statements, in order.
var seedColumns = map[string][]string{
	"attom_batch_jobs": strings.Fields(`id name file_name file_path result_file_name result_file_path
status record_count external_batch_id response error attom_status progress_percent records_found
processed_records error_records leads_created created_at updated_at submitted_at
estimated_completion_time last_checked downloaded_at processing_started_at processing_completed_at`),
	"property_records": strings.Fields(`id source source_id address city state zip_code property_hash
processed raw_data created_at updated_at`),
}

func TestTablesMirrorTheSeedSchema(t *testing.T) {
	s := openTemp(t)
	for table, want := range seedColumns {
		rows, err := s.db.Query(`SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var name string
			_ = rows.Scan(&name)
			got = append(got, name)
		}
		rows.Close()
		if len(got) < len(want) || strings.Join(got[:len(want)], " ") != strings.Join(want, " ") {
			t.Errorf("%s columns start %v, want the seed's %v", table, got, want)
		}
	}
}

// TestEveryJobFieldHasAColumn keeps the table and batch.Job in step: a field added to Job
// still round-trips through "extra", but should get its own column by a new migration.
func TestEveryJobFieldHasAColumn(t *testing.T) {
	for _, tc := range []struct {
		table table
		value any
	}{
		{jobsTable, batch.Job{}},
		{recordsTable, batch.PropertyRecord{}},
		{lookupsTable, batch.LookupRecord{}},
		{answersTable, batch.Answer{}},
		{leasesTable, batch.Lease{}},
	} {
		raw, _ := json.Marshal(tc.value)
		var fields map[string]any
		_ = json.Unmarshal(raw, &fields)
		for _, c := range tc.table.columns {
			delete(fields, c.name)
		}
		for name := range fields {
			t.Logf("%s: field %q has no column yet and is kept in extra; add a migration", tc.table.name, name)
		}
	}
}

func TestFieldsWithoutColumnRoundTripThroughExtra(t *testing.T) {
	s := openTemp(t)
	narrow := table{name: "lookups", columns: lookupsTable.columns[:4]} // job_id, chunk, key, outcome
	type wider struct {
		batch.LookupRecord
		Future string `json:"future_field"`
	}
	in := wider{LookupRecord: batch.LookupRecord{JobID: "j", Chunk: 1, Key: "k", Outcome: batch.LookupFound, BilledCents: 20,
		At: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)}, Future: "kept"}
	args, err := narrow.toRow(in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`INSERT INTO lookups (job_id, chunk, key, outcome, extra, at) VALUES (?, ?, ?, ?, ?, '')`, args...); err != nil {
		t.Fatal(err)
	}
	var out wider
	if err := narrow.scanInto(s.db.QueryRow(`SELECT `+narrow.names()+` FROM lookups`), &out); err != nil {
		t.Fatal(err)
	}
	if out.Future != "kept" || out.BilledCents != 20 || !out.At.Equal(in.At) || out.Key != "k" {
		t.Errorf("round trip through extra: got %+v, want %+v", out, in)
	}
}

// TestBudgetAcrossHandles opens the file twice, as two processes would, and reserves from
// both at once: the cap holds because each reservation is one conditional UPDATE.
func TestBudgetAcrossHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	const capCents = 1000
	var budgets []*Budget
	for _, s := range openHandles(t, path, 3) {
		budgets = append(budgets, s.Budget(capCents))
	}
	var granted atomic.Int64
	var wg sync.WaitGroup
	for i := range 150 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := budgets[i%len(budgets)].Reserve(context.Background(), "2026-05-01", 10)
			var ex *budget.Exhausted
			switch {
			case err == nil:
				granted.Add(10)
			case !errors.As(err, &ex):
				t.Errorf("Reserve: %v", err)
			}
		}()
	}
	wg.Wait()
	u, err := budgets[0].Usage(context.Background(), "2026-05-01")
	if err != nil {
		t.Fatal(err)
	}
	if granted.Load() != capCents || u.ReservedCents != capCents {
		t.Errorf("granted %d, reserved %d; want exactly the cap %d", granted.Load(), u.ReservedCents, capCents)
	}
}

func TestSettleMoreThanReservedFails(t *testing.T) {
	b := openTemp(t).Budget(100)
	ctx := context.Background()
	if err := b.Reserve(ctx, "2026-05-01", 10); err != nil {
		t.Fatal(err)
	}
	if err := b.Settle(ctx, "2026-05-01", 20, 0); err == nil {
		t.Error("settling 20 of 10 reserved cents succeeded")
	}
	if u, _ := b.Usage(ctx, "2026-05-01"); u.ReservedCents != 10 {
		t.Errorf("a refused settle changed the counter: %+v", u)
	}
}

func TestOpenRejectsBadPath(t *testing.T) {
	for _, p := range []string{"", "a.db?mode=ro"} {
		if _, err := Open(p); err == nil {
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

// TestMigration2PromotesExtra opens a file at version 1 holding a job and a lookup written
// after the fields were added to the types but before their columns existed (so they are
// in "extra"): after the upgrade they read back the same, from their new columns.
func TestMigration2PromotesExtra(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`,
		migrations[0],
		`INSERT INTO schema_migrations VALUES (1, '2026-01-01T00:00:00.000000000Z')`,
		`INSERT INTO attom_batch_jobs (id, name, file_name, file_path, status, record_count, created_at, extra)
VALUES ('j1', 'n', 'f', 'p', 'paused', 3, '2026-01-01T00:00:00.000000000Z',
  '{"reused_records":2,"cost_uncertain_cents":40,"leads_updated":1,"reuse_max_age_days":30,"outage_pauses":3,"pause_reason":"ATTOM unavailable","paused_until":"2026-01-02T03:04:05.123456789Z","future":"kept"}')`,
		`INSERT INTO lookups (job_id, chunk, key, outcome, at, extra)
VALUES ('j1', 0, 'k', 'found', '2026-01-01T00:00:00.000000000Z', '{"reused":true,"fetched_at":"2025-12-01T00:00:00.000000001Z"}')`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%.60s: %v", stmt, err)
		}
	}
	db.Close()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	job, err := s.GetJob(ctx, "j1")
	if err != nil {
		t.Fatal(err)
	}
	paused := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	if job.ReusedRecords != 2 || job.CostUncertainCents != 40 || job.LeadsUpdated != 1 || job.ReuseMaxAgeDays != 30 ||
		job.OutagePauses != 3 || job.PauseReason != "ATTOM unavailable" || job.PausedUntil == nil || !job.PausedUntil.Equal(paused) {
		t.Errorf("job after migration 2: %+v", job)
	}
	var extra sql.NullString
	if err := s.db.QueryRow(`SELECT extra FROM attom_batch_jobs WHERE id = 'j1'`).Scan(&extra); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(extra.String, "reused_records") || !strings.Contains(extra.String, "future") {
		t.Errorf("extra after migration 2 = %q, want the promoted numbers gone and the rest kept", extra.String)
	}
	if err := s.AddCounters(ctx, "j1", batch.Counters{ReusedRecords: 1, CostUncertainCents: 2}); err != nil {
		t.Fatal(err)
	}
	if job, _ := s.GetJob(ctx, "j1"); job.ReusedRecords != 3 || job.CostUncertainCents != 42 {
		t.Errorf("counters added to promoted values: reused %d uncertain %d, want 3 and 42", job.ReusedRecords, job.CostUncertainCents)
	}
	recs, err := s.ChunkLookups(ctx, "j1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if rec := recs["k"]; !rec.Reused || rec.FetchedAt == nil || rec.FetchedAt.Nanosecond() != 1 {
		t.Errorf("lookup after migration 2: %+v", rec)
	}
	var rows int
	if err := s.db.QueryRow(`SELECT count(*) FROM lookups WHERE json_extract(extra, '$.reused') IS NULL AND reused = 1`).Scan(&rows); err != nil || rows != 1 {
		t.Errorf("lookup's reused not promoted to its column (%d rows, %v)", rows, err)
	}
}

// TestLeaseAcrossHandles opens the file several times, as processes would, and acquires
// one free name from all at once: exactly one wins.
func TestLeaseAcrossHandles(t *testing.T) {
	stores := openHandles(t, filepath.Join(t.TempDir(), "shared.db"), 3)
	now := time.Now()
	var won atomic.Int32
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := batch.Lease{Name: "job/j1", Owner: fmt.Sprintf("driver-%d", i), Holder: "test", Since: now, Expires: now.Add(time.Minute)}
			_, err := stores[i%len(stores)].AcquireLease(context.Background(), l, now)
			var held *batch.LeaseHeld
			switch {
			case err == nil:
				won.Add(1)
			case !errors.As(err, &held):
				t.Errorf("AcquireLease: %v", err)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Errorf("%d acquires won, want 1", won.Load())
	}
}

// TestAnswersBeyondOneQuery asks for more keys and endpoints than one query's IN lists hold.
func TestAnswersBeyondOneQuery(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	fetched := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	var keys, endpoints []string
	for e := range answerEndpointsPerQuery + 3 {
		endpoints = append(endpoints, fmt.Sprintf("e%03d", e))
	}
	for k := range 2*answerKeysPerQuery + 7 {
		keys = append(keys, fmt.Sprintf("k%04d", k))
	}
	want := map[string]string{} // key -> its one endpoint
	for k, key := range keys {
		if k%5 == 0 {
			continue
		}
		e := endpoints[k%len(endpoints)]
		want[key] = e
		if err := s.PutAnswer(ctx, batch.Answer{Key: key, Endpoint: e, Outcome: batch.LookupFound, FetchedAt: fetched}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Answers(ctx, keys, endpoints)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("Answers returned %d keys, want %d", len(got), len(want))
	}
	for key, e := range want {
		if a, ok := got[key][e]; !ok || len(got[key]) != 1 || !a.FetchedAt.Equal(fetched) {
			t.Errorf("answers of %s = %v, want one on %s", key, got[key], e)
		}
	}
}

// openHandles opens the file at path n times, as n processes would.
func openHandles(t *testing.T, path string, n int) []*Store {
	t.Helper()
	stores := make([]*Store, n)
	for i := range stores {
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	return stores
}
