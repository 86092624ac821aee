package dynamostore

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/leads"
)

// zone is not UTC, so conversions must normalize.
var zone = time.FixedZone("UTC+3", 3*3600)

// fillAll sets every exported field of *ptr to a distinct non-zero value (times with
// nanoseconds in a non-UTC zone), so a field the conversion forgets shows up as a diff.
func fillAll(ptr any) {
	var fill func(v reflect.Value, n int)
	fill = func(v reflect.Value, n int) {
		if _, ok := v.Interface().(time.Time); ok {
			v.Set(reflect.ValueOf(time.Date(2025, 1, 2, 3, 4, 5, 600000000+n, zone)))
			return
		}
		switch v.Kind() {
		case reflect.String:
			v.SetString(fmt.Sprintf("v%d", n))
		case reflect.Int, reflect.Int64:
			v.SetInt(int64(1000 + n))
		case reflect.Float64:
			v.SetFloat(float64(n) + 0.25)
		case reflect.Bool:
			v.SetBool(true)
		case reflect.Pointer:
			v.Set(reflect.New(v.Type().Elem()))
			fill(v.Elem(), n)
		case reflect.Slice:
			v.Set(reflect.MakeSlice(v.Type(), 2, 2))
			fill(v.Index(0), n*10)
			fill(v.Index(1), n*10+1)
		case reflect.Map:
			v.Set(reflect.MakeMap(v.Type()))
			v.SetMapIndex(reflect.ValueOf(fmt.Sprintf("k%d", n)), reflect.ValueOf(fmt.Sprintf("v%d", n)))
		case reflect.Struct:
			for i := range v.NumField() {
				fill(v.Field(i), n*100+i)
			}
		}
	}
	fill(reflect.ValueOf(ptr).Elem(), 1)
}

// jsonNames are a struct's JSON field names: for Job and PropertyRecord, the seed's columns.
func jsonNames(v any) []string {
	t := reflect.TypeOf(v)
	var names []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		names = append(names, name)
	}
	return names
}

func attributeSet(t *testing.T, item any) []string {
	t.Helper()
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(av))
	for k := range av {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func sorted(names ...[]string) []string {
	out := slices.Concat(names...)
	sort.Strings(out)
	return out
}

// storeAndLoad marshals item and unmarshals it into a fresh value of the same type, as a
// put and a get would.
func storeAndLoad[T any](t *testing.T, item T) T {
	t.Helper()
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		t.Fatal(err)
	}
	var back T
	if err := attributevalue.UnmarshalMap(av, &back); err != nil {
		t.Fatal(err)
	}
	return back
}

// utcTimes fails for any time in v not in UTC.
func utcTimes(t *testing.T, v any) {
	t.Helper()
	var walk func(reflect.Value, string)
	walk = func(v reflect.Value, path string) {
		if tm, ok := v.Interface().(time.Time); ok {
			if tm.Location() != time.UTC {
				t.Errorf("%s is in %v, want UTC", path, tm.Location())
			}
			return
		}
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem(), path)
			}
		case reflect.Struct:
			for i := range v.NumField() {
				walk(v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		}
	}
	walk(reflect.ValueOf(v), reflect.TypeOf(v).Name())
}

func TestJobItemRoundTripsEverySeedColumn(t *testing.T) {
	var job batch.Job
	fillAll(&job)
	item := toJobItem(job)
	if d := cmp.Diff(sorted(jsonNames(batch.Job{}), []string{attrGSIPK}), attributeSet(t, item)); d != "" {
		t.Errorf("job attributes are not the seed's columns plus gsi_pk (-want +got):\n%s", d)
	}
	got, err := storeAndLoad(t, item).job()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(job, got); d != "" {
		t.Errorf("job round trip (-want +got):\n%s", d)
	}
	utcTimes(t, got)
}

func TestJobItemNilTimesStayAbsent(t *testing.T) {
	job := batch.Job{ID: "j", Status: batch.StatusCreated, CreatedAt: time.Now()}
	av, err := attributevalue.MarshalMap(toJobItem(job))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"updated_at", "submitted_at", "last_checked", "downloaded_at", "processing_started_at", "processing_completed_at", "endpoints"} {
		if _, ok := av[name]; ok {
			t.Errorf("attribute %s is stored for a job without it", name)
		}
	}
	got, err := storeAndLoad(t, toJobItem(job)).job()
	if err != nil {
		t.Fatal(err)
	}
	if got.SubmittedAt != nil || got.UpdatedAt != nil || got.ProcessingCompletedAt != nil {
		t.Errorf("nil times came back set: %+v", got)
	}
}

func TestPropertyItemRoundTripsEverySeedColumn(t *testing.T) {
	var rec batch.PropertyRecord
	fillAll(&rec)
	item := toPropertyItem(rec)
	// The keys, times and processed on their own, the rest in one deflated document.
	want := sorted([]string{attrID, attrPropertyHash, "processed", attrCreatedAt, attrUpdatedAt}, []string{attrGSIPK, attrHasUpdate, "doc_z"})
	if d := cmp.Diff(want, attributeSet(t, item)); d != "" {
		t.Errorf("record attributes (-want +got):\n%s", d)
	}
	got, err := storeAndLoad(t, item).record()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(rec, got); d != "" {
		t.Errorf("record round trip (-want +got):\n%s", d)
	}
	utcTimes(t, got)

	// Never updated: the index key falls back to created_at, UpdatedAt stays nil.
	rec.UpdatedAt = nil
	item = toPropertyItem(rec)
	if item.UpdatedAt != item.CreatedAt || item.HasUpdate {
		t.Errorf("never-updated record: updated_at %q has_update %v, want created_at %q and false", item.UpdatedAt, item.HasUpdate, item.CreatedAt)
	}
	if got, err := storeAndLoad(t, item).record(); err != nil || got.UpdatedAt != nil {
		t.Errorf("never-updated record reads back UpdatedAt %v, %v; want nil", got.UpdatedAt, err)
	}
}

func TestLeadItemRoundTripsEveryField(t *testing.T) {
	var l leads.Lead
	fillAll(&l)
	item, err := toLeadItem(l)
	if err != nil {
		t.Fatal(err)
	}
	want := sorted([]string{attrID, attrScore, attrStatus, attrBatchID, attrCreatedAt, attrUpdatedAt, "doc_z"})
	if d := cmp.Diff(want, attributeSet(t, item)); d != "" {
		t.Errorf("lead attributes (-want +got):\n%s", d)
	}
	got, err := storeAndLoad(t, item).lead()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(l, got); d != "" {
		t.Errorf("lead round trip (-want +got):\n%s", d)
	}
	utcTimes(t, got)
}

func TestLookupItemRoundTripsEveryField(t *testing.T) {
	var rec batch.LookupRecord
	fillAll(&rec)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	item := toLookupItem(rec, now)
	if d := cmp.Diff(sorted(jsonNames(batch.LookupRecord{}), []string{attrJobChunk, attrExpiresAt}), attributeSet(t, item)); d != "" {
		t.Errorf("lookup attributes (-want +got):\n%s", d)
	}
	if want := now.Add(lookupTTL).Unix(); item.ExpiresAt != want {
		t.Errorf("expires_at = %d, want %d (90 days on)", item.ExpiresAt, want)
	}
	if item.JobChunk != rec.JobID+"#"+fmt.Sprint(rec.Chunk) {
		t.Errorf("job_chunk = %q", item.JobChunk)
	}
	got, err := storeAndLoad(t, item).lookup()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(rec, got); d != "" {
		t.Errorf("lookup round trip (-want +got):\n%s", d)
	}
	utcTimes(t, got)
}

func TestAnswerItemRoundTripsEveryField(t *testing.T) {
	var a batch.Answer
	fillAll(&a)
	item := toAnswerItem(a)
	// key is the endpoint, job_chunk holds the address key: no attribute for the key, no TTL.
	want := sorted(slices.DeleteFunc(jsonNames(batch.Answer{}), func(n string) bool { return n == "endpoint" || n == "raw" }), []string{attrJobChunk, "raw_z"})
	if d := cmp.Diff(want, attributeSet(t, item)); d != "" {
		t.Errorf("answer attributes (-want +got):\n%s", d)
	}
	if item.JobChunk != "answer#"+a.Key || item.Endpoint != a.Endpoint {
		t.Errorf("answer key = %q/%q", item.JobChunk, item.Endpoint)
	}
	got, err := storeAndLoad(t, item).answer()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(a, got); d != "" {
		t.Errorf("answer round trip (-want +got):\n%s", d)
	}
	utcTimes(t, got)
}

func TestLeaseItemRoundTripsEveryField(t *testing.T) {
	var l batch.Lease
	fillAll(&l)
	item := toLeaseItem(l)
	if d := cmp.Diff(sorted(jsonNames(batch.Lease{}), []string{attrJobChunk, attrKey, attrExpiresAt}), attributeSet(t, item)); d != "" {
		t.Errorf("lease attributes (-want +got):\n%s", d)
	}
	if want := l.Expires.Add(leaseKeep).Unix(); item.ExpiresAt != want {
		t.Errorf("expires_at = %d, want %d (90 days after the lease expires)", item.ExpiresAt, want)
	}
	got, err := storeAndLoad(t, item).lease()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(l, got); d != "" {
		t.Errorf("lease round trip (-want +got):\n%s", d)
	}
	utcTimes(t, got)
}

func TestItemKeys(t *testing.T) {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	for name, tc := range map[string]struct {
		got, want map[string]types.AttributeValue
	}{
		"job":    {jobItem{ID: "j1", Name: "x"}.key(), map[string]types.AttributeValue{"id": s("j1")}},
		"record": {propertyItem{ID: "r1", City: "x"}.key(), map[string]types.AttributeValue{"id": s("r1")}},
		"lead":   {leadItem{ID: "l1", City: "x"}.key(), map[string]types.AttributeValue{"id": s("l1")}},
		"lookup": {lookupItem{JobChunk: "j#2", Key: "k", Raw: "x"}.key(), map[string]types.AttributeValue{"job_chunk": s("j#2"), "key": s("k")}},
		"budget": {budgetItem{Day: "2026-01-02", CapCents: 5}.key(), map[string]types.AttributeValue{"day": s("2026-01-02")}},
		"answer": {answerKey("1 A ST|75001", "expandedprofile"), map[string]types.AttributeValue{"job_chunk": s("answer#1 A ST|75001"), "key": s("expandedprofile")}},
		"lease":  {leaseKey("job/j1"), map[string]types.AttributeValue{"job_chunk": s("lease#job/j1"), "key": s("lease")}},
	} {
		if d := cmp.Diff(tc.want, tc.got, cmp.Exporter(func(reflect.Type) bool { return true })); d != "" {
			t.Errorf("%s key (-want +got):\n%s", name, d)
		}
	}
}

func TestMalformedTimeNamesTheAttribute(t *testing.T) {
	_, err := jobItem{ID: "j", CreatedAt: "2026-13-45"}.job()
	if err == nil || !strings.Contains(err.Error(), "created_at") {
		t.Errorf("bad created_at: %v, want an error naming created_at", err)
	}
	_, err = jobItem{ID: "j", CreatedAt: formatTime(time.Now()), LastChecked: "yesterday"}.job()
	if err == nil || !strings.Contains(err.Error(), "last_checked") {
		t.Errorf("bad last_checked: %v, want an error naming last_checked", err)
	}
}

// TestTimeStringsSortAsTimes checks the property the GSI sort keys need, including whole
// seconds (which RFC3339Nano would print without a fraction, out of order).
func TestTimeStringsSortAsTimes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 5, 6, 7, 8, 9, 0, zone)
	times := []time.Time{base, base.Add(time.Nanosecond), base.Add(500 * time.Millisecond), base.Add(time.Second), base.Add(-time.Nanosecond)}
	for range 200 {
		times = append(times, base.Add(time.Duration(r.Int64N(int64(48*time.Hour)))-24*time.Hour).Truncate(time.Duration(1+r.IntN(3))*time.Second/time.Duration(1+r.IntN(1000))))
	}
	for i, a := range times {
		for _, b := range times[i+1:] {
			if (a.Before(b)) != (formatTime(a) < formatTime(b)) {
				t.Fatalf("order differs: %v vs %v as %q vs %q", a, b, formatTime(a), formatTime(b))
			}
		}
		if back, err := parseTime("t", formatTime(a)); err != nil || !back.Equal(a) || back.Location() != time.UTC {
			t.Fatalf("formatTime(%v) = %q reads back as %v, %v", a, formatTime(a), back, err)
		}
	}
}

// TestItemsWrittenBeforeDocZStillRead: records, leads and answers stored with every field
// as an attribute of its own (before doc_z and raw_z) read back whole.
func TestItemsWrittenBeforeDocZStillRead(t *testing.T) {
	created := "2026-03-14T14:26:53.000000000Z"
	rec, err := storeAndLoad(t, propertyItem{
		ID: "r1", GSIPK: gsiPKRecord, PropertyHash: "h1", CreatedAt: created, UpdatedAt: created,
		Source: "attom", SourceID: "42", Address: "1 Main St", City: "Austin", State: "TX",
		ZIPCode: "78701", RawData: `{"a":1}`, Unified: `{"key":"k"}`,
	}).record()
	if err != nil {
		t.Fatal(err)
	}
	if rec.Source != "attom" || rec.SourceID != "42" || rec.Address != "1 Main St" || rec.City != "Austin" ||
		rec.State != "TX" || rec.ZIPCode != "78701" || rec.RawData != `{"a":1}` || rec.Unified != `{"key":"k"}` {
		t.Errorf("old record read back as %+v", rec)
	}
	l, err := storeAndLoad(t, leadItem{
		ID: "l1", Score: 40, Status: "new", BatchID: "b", CreatedAt: created, UpdatedAt: created,
		Address: "1 Main St", City: "Austin", OwnerNames: []string{"A"},
		Breakdown: []factorItem{{Name: "vacant", State: "present", Points: 10}}, Input: map[string]string{"c": "v"},
	}).lead()
	if err != nil {
		t.Fatal(err)
	}
	if l.Address != "1 Main St" || l.City != "Austin" || len(l.OwnerNames) != 1 || len(l.Breakdown) != 1 ||
		l.Breakdown[0].Points != 10 || l.Input["c"] != "v" || l.Score != 40 || l.Status != "new" || l.BatchID != "b" {
		t.Errorf("old lead read back as %+v", l)
	}
	a, err := storeAndLoad(t, answerItem{JobChunk: answerPrefix + "k", Endpoint: "e", Outcome: "found",
		Raw: `{"b":2}`, FetchedAt: created}).answer()
	if err != nil || a.Raw != `{"b":2}` {
		t.Errorf("old answer read back raw %q, %v", a.Raw, err)
	}
}

// TestPackDictionaryNeverChanges: items packed with format 1 can only be read with exactly
// this dictionary. A better one is a new format, not an edit.
func TestPackDictionaryNeverChanges(t *testing.T) {
	sum := sha256.Sum256(packDict1)
	if got := hex.EncodeToString(sum[:]); got != packDict1SHA256 {
		t.Fatalf("packdict.txt changed (sha256 %s): items already stored with format 1 could no longer be read; add a new format instead", got)
	}
	for _, s := range []string{"x", `{"a":1}`, strings.Repeat("é", 5000)} {
		if got, err := unpack("t", pack(s), ""); err != nil || got != s {
			t.Errorf("pack/unpack of %d bytes: %v", len(s), err)
		}
	}
	if _, err := unpack("t", []byte{9, 1, 2}, ""); err == nil {
		t.Error("an unknown format unpacked")
	}
}

const packDict1SHA256 = "3a7866b55274682b29e59cb28f0ebebe80b1a24977bc9265acd69e6df9a9753d"
