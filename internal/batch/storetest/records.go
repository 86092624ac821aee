package storetest

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/batch"
)

// RunLookups checks a LookupStore: lookups are kept per job and chunk, keyed by address
// key, and a second put of the same key replaces the first.
func RunLookups(t *testing.T, newStore func(t *testing.T) batch.LookupStore) {
	t.Run("PerChunkRoundTrip", func(t *testing.T) { testLookupsPerChunk(t, newStore(t)) })
	t.Run("PutTwiceOverwrites", func(t *testing.T) { testLookupOverwrite(t, newStore(t)) })
	t.Run("EmptyChunk", func(t *testing.T) { testLookupsEmpty(t, newStore(t)) })
	t.Run("OptionalFieldsStayEmpty", func(t *testing.T) { testLookupOptional(t, newStore(t)) })
}

func lookup(jobID string, chunk int, key, outcome string, seed int) batch.LookupRecord {
	var rec batch.LookupRecord
	fill(&rec, seed)
	rec.JobID, rec.Chunk, rec.Key, rec.Outcome = jobID, chunk, key, outcome
	return rec
}

func wantLookup(rec batch.LookupRecord) batch.LookupRecord {
	rec.At = utc(rec.At)
	rec.FetchedAt = utcPtr(rec.FetchedAt)
	return rec
}

func putLookups(t *testing.T, s batch.LookupStore, recs ...batch.LookupRecord) {
	t.Helper()
	for _, rec := range recs {
		if err := s.PutLookup(context.Background(), rec); err != nil {
			t.Fatalf("PutLookup(%s/%d/%s): %v", rec.JobID, rec.Chunk, rec.Key, err)
		}
	}
}

func chunkLookups(t *testing.T, s batch.LookupStore, jobID string, chunk int) map[string]batch.LookupRecord {
	t.Helper()
	got, err := s.ChunkLookups(context.Background(), jobID, chunk)
	if err != nil {
		t.Fatalf("ChunkLookups(%s, %d): %v", jobID, chunk, err)
	}
	requireUTC(t, "lookups", got)
	return got
}

func testLookupsPerChunk(t *testing.T, s batch.LookupStore) {
	job, other := uniq("job"), uniq("job")
	a := lookup(job, 0, "123 MAIN ST|12345", batch.LookupFound, 1)
	b := lookup(job, 0, "9 ELM AVE|12345", batch.LookupNotFound, 2)
	c := lookup(job, 1, "1 OAK RD|54321", batch.LookupError, 3)
	d := lookup(other, 0, "123 MAIN ST|12345", batch.LookupFound, 4)
	putLookups(t, s, a, b, c, d)

	want := map[string]batch.LookupRecord{a.Key: wantLookup(a), b.Key: wantLookup(b)}
	if d := diff(want, chunkLookups(t, s, job, 0)); d != "" {
		t.Errorf("chunk 0 (-want +got):\n%s", d)
	}
	want = map[string]batch.LookupRecord{c.Key: wantLookup(c)}
	if d := diff(want, chunkLookups(t, s, job, 1)); d != "" {
		t.Errorf("chunk 1 (-want +got):\n%s", d)
	}
	want = map[string]batch.LookupRecord{d.Key: wantLookup(d)}
	if d := diff(want, chunkLookups(t, s, other, 0)); d != "" {
		t.Errorf("another job's chunk 0 (-want +got):\n%s", d)
	}
}

func testLookupOverwrite(t *testing.T, s batch.LookupStore) {
	job := uniq("job")
	first := lookup(job, 2, "5 PINE CT|10001", batch.LookupError, 1)
	second := lookup(job, 2, "5 PINE CT|10001", batch.LookupFound, 2)
	putLookups(t, s, first, second)
	got := chunkLookups(t, s, job, 2)
	if d := diff(map[string]batch.LookupRecord{second.Key: wantLookup(second)}, got); d != "" {
		t.Errorf("after two puts of one key (-want +got):\n%s", d)
	}
}

// testLookupOptional writes a lookup bought fresh: Reused false, no FetchedAt, no Reason.
func testLookupOptional(t *testing.T, s batch.LookupStore) {
	rec := batch.LookupRecord{JobID: uniq("job"), Chunk: 3, Key: "1 A ST|75001", Outcome: batch.LookupFound, BilledCents: 20, At: base}
	putLookups(t, s, rec)
	got := chunkLookups(t, s, rec.JobID, rec.Chunk)
	if d := diff(map[string]batch.LookupRecord{rec.Key: wantLookup(rec)}, got); d != "" {
		t.Errorf("minimal lookup round trip (-want +got):\n%s", d)
	}
	if f := got[rec.Key].FetchedAt; f != nil {
		t.Errorf("FetchedAt = %v, want nil", *f)
	}
}

func testLookupsEmpty(t *testing.T, s batch.LookupStore) {
	if got := chunkLookups(t, s, uniq("job"), 7); len(got) != 0 {
		t.Errorf("ChunkLookups of a chunk never written = %v, want empty", got)
	}
}

// RunProperties checks a PropertyStore: upsert keeps CreatedAt and sets UpdatedAt, records
// are found by property hash, and stale records come oldest first.
func RunProperties(t *testing.T, newStore func(t *testing.T) batch.PropertyStore) {
	t.Run("EveryFieldRoundTrips", func(t *testing.T) { testRecordRoundTrip(t, newStore(t)) })
	t.Run("UpsertKeepsCreatedAt", func(t *testing.T) { testUpsertKeepsCreatedAt(t, newStore(t)) })
	t.Run("ByHash", func(t *testing.T) { testRecordsByHash(t, newStore(t)) })
	t.Run("StaleOldestFirst", func(t *testing.T) { testStaleRecords(t, newStore(t)) })
	t.Run("MarkProcessed", func(t *testing.T) { testMarkProcessed(t, newStore(t)) })
}

// testMarkProcessed: marking sets processed and nothing else (UpdatedAt stays, so refresh
// still sees when the source last described the property), a missing id is no error, and
// writing the record again clears it.
func testMarkProcessed(t *testing.T, s batch.PropertyStore) {
	ctx := context.Background()
	hash := uniq("hash")
	rec := record(uniq("rec"), hash, 1)
	rec.Processed = false
	other := record(uniq("rec"), hash, 2)
	other.Processed = false
	upsert(t, s, rec, other)
	if err := s.MarkProcessed(ctx, rec.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkProcessed(ctx, uniq("missing")); err != nil {
		t.Fatalf("a missing record: %v", err)
	}
	got := byHash(t, s, hash)
	want := []batch.PropertyRecord{wantRecord(rec), wantRecord(other)}
	want[0].Processed = true
	sort.Slice(want, func(i, j int) bool { return want[i].ID < want[j].ID })
	if d := diff(want, got); d != "" {
		t.Errorf("after MarkProcessed (-want +got):\n%s", d)
	}
	upsert(t, s, rec)
	for _, r := range byHash(t, s, hash) {
		if r.Processed {
			t.Errorf("record %s still processed after being written again", r.ID)
		}
	}
}

func record(id, hash string, seed int) batch.PropertyRecord {
	var rec batch.PropertyRecord
	fill(&rec, seed)
	rec.ID, rec.PropertyHash = id, hash
	return rec
}

func wantRecord(rec batch.PropertyRecord) batch.PropertyRecord {
	rec.CreatedAt = utc(rec.CreatedAt)
	rec.UpdatedAt = utcPtr(rec.UpdatedAt)
	return rec
}

func upsert(t *testing.T, s batch.PropertyStore, recs ...batch.PropertyRecord) {
	t.Helper()
	for _, rec := range recs {
		if err := s.UpsertRecord(context.Background(), rec); err != nil {
			t.Fatalf("UpsertRecord(%s): %v", rec.ID, err)
		}
	}
}

func byHash(t *testing.T, s batch.PropertyStore, hash string) []batch.PropertyRecord {
	t.Helper()
	got, err := s.RecordsByHash(context.Background(), hash)
	if err != nil {
		t.Fatalf("RecordsByHash(%s): %v", hash, err)
	}
	requireUTC(t, "records", got)
	sort.Slice(got, func(i, j int) bool { return got[i].ID < got[j].ID })
	return got
}

func testRecordRoundTrip(t *testing.T, s batch.PropertyStore) {
	hash := uniq("hash")
	rec := record(uniq("rec"), hash, 1)
	upsert(t, s, rec)
	if d := diff([]batch.PropertyRecord{wantRecord(rec)}, byHash(t, s, hash)); d != "" {
		t.Errorf("record round trip (-want +got):\n%s", d)
	}
	bare := batch.PropertyRecord{ID: uniq("rec"), Source: "attom", Address: "1 A ST", City: "X", State: "TX",
		ZIPCode: "75001", PropertyHash: uniq("hash"), CreatedAt: base}
	upsert(t, s, bare)
	if d := diff([]batch.PropertyRecord{wantRecord(bare)}, byHash(t, s, bare.PropertyHash)); d != "" {
		t.Errorf("minimal record round trip, UpdatedAt stays nil (-want +got):\n%s", d)
	}
}

func testUpsertKeepsCreatedAt(t *testing.T, s batch.PropertyStore) {
	hash := uniq("hash")
	first := record(uniq("rec"), hash, 1)
	first.UpdatedAt = nil
	upsert(t, s, first)

	second := record(first.ID, hash, 2) // new payload, another CreatedAt
	second.UpdatedAt = nil
	before := time.Now()
	upsert(t, s, second)
	after := time.Now()

	got := byHash(t, s, hash)
	if len(got) != 1 {
		t.Fatalf("two upserts of one ID left %d records", len(got))
	}
	want := wantRecord(second)
	want.CreatedAt = utc(first.CreatedAt)
	want.UpdatedAt = got[0].UpdatedAt
	if d := diff(want, got[0]); d != "" {
		t.Errorf("after upsert (-want +got):\n%s", d)
	}
	if u := got[0].UpdatedAt; u == nil || u.Before(before.Add(-time.Second)) || u.After(after.Add(time.Second)) {
		t.Errorf("UpdatedAt = %v, want set to the upsert time (%v..%v)", u, before, after)
	}

	stamped := record(first.ID, hash, 3)
	upsert(t, s, stamped)
	if got := byHash(t, s, hash)[0]; got.UpdatedAt == nil || !got.UpdatedAt.Equal(*stamped.UpdatedAt) {
		t.Errorf("UpdatedAt = %v, want the caller's %v", got.UpdatedAt, *stamped.UpdatedAt)
	}
}

func testRecordsByHash(t *testing.T, s batch.PropertyStore) {
	hashA, hashB := uniq("hash"), uniq("hash")
	a1, a2, b1 := record("a1-"+hashA, hashA, 1), record("a2-"+hashA, hashA, 2), record("b1-"+hashB, hashB, 3)
	upsert(t, s, a1, a2, b1)
	if d := diff([]batch.PropertyRecord{wantRecord(a1), wantRecord(a2)}, byHash(t, s, hashA)); d != "" {
		t.Errorf("RecordsByHash(A) (-want +got):\n%s", d)
	}
	if got := byHash(t, s, uniq("hash")); len(got) != 0 {
		t.Errorf("RecordsByHash of an unknown hash = %d records, want none", len(got))
	}
}

// testStaleRecords writes records last written at base+i hours (by UpdatedAt when set, else
// CreatedAt) and asks for those older than base+3h.
func testStaleRecords(t *testing.T, s batch.PropertyStore) {
	ctx := context.Background()
	ids := make([]string, 5)
	for _, i := range []int{3, 1, 4, 0, 2} {
		ids[i] = uniq("rec")
		rec := record(ids[i], uniq("hash"), i)
		at := base.Add(time.Duration(i) * time.Hour)
		if i%2 == 0 {
			rec.CreatedAt, rec.UpdatedAt = at, nil
		} else {
			rec.CreatedAt, rec.UpdatedAt = base.Add(-48*time.Hour), &at
		}
		upsert(t, s, rec)
	}
	for _, tc := range []struct {
		limit int
		want  []string
	}{
		{10, ids[:3]},
		{2, ids[:2]},
	} {
		recs, err := s.StaleRecords(ctx, base.Add(3*time.Hour), tc.limit)
		if err != nil {
			t.Fatalf("StaleRecords: %v", err)
		}
		got := make([]string, len(recs))
		for i, r := range recs {
			got[i] = r.ID
		}
		if d := diff(tc.want, got); d != "" {
			t.Errorf("StaleRecords(limit %d), oldest first (-want +got):\n%s", tc.limit, d)
		}
	}
}
