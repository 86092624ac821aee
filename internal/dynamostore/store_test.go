package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/leadflow/attom-batch/internal/awstest"
	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/leads"
)

func TestNewRefusesMissingTableNames(t *testing.T) {
	tables := PrefixedTables("x-")
	tables.Leads = ""
	if _, err := New(&dynamodb.Client{}, tables); err == nil || !strings.Contains(err.Error(), "Leads") {
		t.Errorf("New with no leads table: %v, want an error naming Leads", err)
	}
	if _, err := New(nil, PrefixedTables("x-")); err == nil {
		t.Error("New with a nil client succeeded")
	}
}

// TestCreateTablesSchema checks what the CDK stack must match: keys, indexes, billing, TTL;
// and that a second call is harmless.
func TestCreateTablesSchema(t *testing.T) {
	ctx := context.Background()
	client := mustClient(t)
	tables := PrefixedTables(awstest.UniqueName("schema") + "-")
	for range 2 {
		if err := CreateTables(ctx, client, tables); err != nil {
			t.Fatalf("CreateTables: %v", err)
		}
	}
	for _, tc := range []struct {
		table   string
		key     string
		indexes map[string]string // name: keys and projection
		ttl     bool
	}{
		{tables.Jobs, "id", map[string]string{"by_created": "gsi_pk/created_at ALL"}, false},
		{tables.Properties, "id", map[string]string{"by_hash": "property_hash KEYS_ONLY", "by_updated": "gsi_pk/updated_at KEYS_ONLY"}, false},
		{tables.Leads, "id", map[string]string{"by_batch": "batch_id/score ALL"}, false},
		{tables.Lookups, "job_chunk/key", nil, true},
		{tables.Budget, "day", nil, true},
	} {
		desc, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(tc.table)})
		if err != nil {
			t.Fatal(err)
		}
		td := desc.Table
		if got := keyString2(td.KeySchema); got != tc.key {
			t.Errorf("%s key = %s, want %s", tc.table, got, tc.key)
		}
		if td.BillingModeSummary == nil || td.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
			t.Errorf("%s billing = %+v, want on-demand", tc.table, td.BillingModeSummary)
		}
		got := map[string]string{}
		for _, ix := range td.GlobalSecondaryIndexes {
			got[aws.ToString(ix.IndexName)] = keyString2(ix.KeySchema) + " " + string(ix.Projection.ProjectionType)
		}
		if d := cmp.Diff(tc.indexes, got); len(tc.indexes)+len(got) > 0 && d != "" {
			t.Errorf("%s indexes (-want +got):\n%s", tc.table, d)
		}
		ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(tc.table)})
		if err != nil {
			t.Fatal(err)
		}
		on := ttl.TimeToLiveDescription != nil && ttl.TimeToLiveDescription.TimeToLiveStatus == types.TimeToLiveStatusEnabled &&
			aws.ToString(ttl.TimeToLiveDescription.AttributeName) == attrExpiresAt
		if on != tc.ttl {
			t.Errorf("%s TTL on expires_at = %v, want %v (%+v)", tc.table, on, tc.ttl, ttl.TimeToLiveDescription)
		}
	}
}

func keyString2(ks []types.KeySchemaElement) string {
	parts := make([]string, len(ks))
	for _, k := range ks {
		i := 0
		if k.KeyType == types.KeyTypeRange {
			i = 1
		}
		parts[i] = aws.ToString(k.AttributeName)
	}
	return strings.Join(parts, "/")
}

func TestMissingTableIsATypedError(t *testing.T) {
	client := mustClient(t)
	s, err := New(client, PrefixedTables(awstest.UniqueName("none")+"-"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.GetJob(context.Background(), "j")
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) || errors.Is(err, batch.ErrNotFound) {
		t.Errorf("GetJob on a missing table: %v, want *types.ResourceNotFoundException, not ErrNotFound", err)
	}
}

func TestUpdateJobKeepsIDAndGivesUpOnEndlessConflict(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	if _, err := s.CreateJob(ctx, batch.Job{ID: "j", Status: batch.StatusCreated, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	got, err := s.UpdateJob(ctx, "j", func(j *batch.Job) error { j.ID = "other"; j.Name = "renamed"; return nil })
	if err != nil || got.ID != "j" || got.Name != "renamed" || got.Version != 2 {
		t.Fatalf("UpdateJob = %+v, %v; want id j, name renamed, version 2", got, err)
	}
	// A writer that lands between every read and write: UpdateJob must stop, not spin.
	calls := 0
	_, err = s.UpdateJob(ctx, "j", func(j *batch.Job) error {
		calls++
		return s.AddCounters(ctx, "j", batch.Counters{ChunksDone: 1})
	})
	if !errors.Is(err, errVersionConflict) || calls != updateAttempts {
		t.Errorf("UpdateJob against a writer always in between: %v after %d calls; want a version conflict after %d", err, calls, updateAttempts)
	}
	if j, _ := s.GetJob(ctx, "j"); j.ChunksDone != updateAttempts || j.Name != "renamed" {
		t.Errorf("job after the conflicts: chunks %d name %q", j.ChunksDone, j.Name)
	}
}

func TestListJobsLimitStopsEarly(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 12 {
		job := batch.Job{ID: fmt.Sprintf("j%02d", i), Status: batch.StatusCreated, CreatedAt: base.Add(time.Duration(i) * time.Second)}
		if _, err := s.CreateJob(ctx, job); err != nil {
			t.Fatal(err)
		}
	}
	jobs, err := s.ListJobs(ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, j := range jobs {
		ids = append(ids, j.ID)
	}
	if d := cmp.Diff([]string{"j11", "j10", "j09", "j08"}, ids); d != "" {
		t.Errorf("ListJobs(4) (-want +got):\n%s", d)
	}
}

// TestQueryAllFollowsPages reads a partition in pages of 3 through the paginator.
func TestQueryAllFollowsPages(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	var recs []batch.LookupRecord
	for i := range 10 {
		recs = append(recs, batch.LookupRecord{JobID: "j", Chunk: 1, Key: fmt.Sprintf("k%02d", i), Outcome: batch.LookupFound, At: time.Now()})
	}
	if err := s.PutLookups(ctx, recs); err != nil {
		t.Fatal(err)
	}
	pages := 0
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.tables.Lookups),
		KeyConditionExpression:    aws.String("job_chunk = :c"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": &types.AttributeValueMemberS{Value: "j#1"}},
		Limit:                     aws.Int32(3),
	}
	var keys []string
	err := queryAll(ctx, countingPages{s.client, &pages}, in, 0, func(av map[string]types.AttributeValue) error {
		keys = append(keys, av["key"].(*types.AttributeValueMemberS).Value)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 10 || keys[0] != "k00" || keys[9] != "k09" || pages < 4 {
		t.Errorf("read %d keys (%v) in %d pages; want all 10 in order over at least 4 pages", len(keys), keys, pages)
	}
}

// countingPages counts Query requests.
type countingPages struct {
	*dynamodb.Client
	n *int
}

func (c countingPages) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	*c.n++
	return c.Client.Query(ctx, in, opts...)
}

func TestRecordWithoutHashAndLeadWithoutBatch(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	rec := batch.PropertyRecord{ID: "r", Source: "csv", CreatedAt: time.Now()}
	if err := s.UpsertRecord(ctx, rec); err != nil {
		t.Fatalf("a record without a property hash (not in the by_hash index): %v", err)
	}
	if recs, err := s.RecordsByHash(ctx, ""); err != nil || len(recs) != 0 {
		t.Errorf("RecordsByHash(\"\") = %v, %v", recs, err)
	}
	l := leads.Lead{ID: "l", Status: leads.StatusNew, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if _, err := s.SaveLead(ctx, l); err != nil {
		t.Fatalf("a lead without a batch (not in the by_batch index): %v", err)
	}
	if got, err := s.GetLead(ctx, "l"); err != nil || got.BatchID != "" {
		t.Errorf("GetLead = %+v, %v", got, err)
	}
}

// TestSaveLeadClearsRemovedFields: an update removes optional attributes the new lead
// lacks, rather than keeping stale ones.
func TestSaveLeadClearsRemovedFields(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	v := 250000.0
	first := leads.Lead{ID: "l", Status: "contacted", Value: &v, OwnerNames: []string{"A"}, Unit: "2B",
		BatchID: "b1", Input: map[string]string{"x": "1"}, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if _, err := s.SaveLead(ctx, first); err != nil {
		t.Fatal(err)
	}
	second := leads.Lead{ID: "l", Status: leads.StatusNew, Score: 40, BatchID: "b2", CreatedAt: time.Now().Add(time.Hour), UpdatedAt: time.Now()}
	if created, err := s.SaveLead(ctx, second); err != nil || created {
		t.Fatalf("second SaveLead = %v, %v", created, err)
	}
	got, err := s.GetLead(ctx, "l")
	if err != nil {
		t.Fatal(err)
	}
	if got.Value != nil || got.OwnerNames != nil || got.Unit != "" || got.Input != nil || got.Score != 40 || got.Status != "contacted" {
		t.Errorf("after update: %+v; want optional fields cleared, score 40, status kept", got)
	}
	if byOld, _ := s.LeadsByBatch(ctx, "b1"); len(byOld) != 0 {
		t.Errorf("lead still listed under its old batch: %v", byOld)
	}
	if byNew, _ := s.LeadsByBatch(ctx, "b2"); len(byNew) != 1 {
		t.Errorf("lead not listed under its new batch: %v", byNew)
	}
}

func TestPutLookupsBatchesAndLastWins(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	var recs []batch.LookupRecord
	for i := range 60 { // three BatchWriteItem requests
		recs = append(recs, batch.LookupRecord{JobID: "job", Chunk: i % 2, Key: fmt.Sprintf("k%02d", i), Outcome: batch.LookupFound, At: time.Now()})
	}
	recs = append(recs, batch.LookupRecord{JobID: "job", Chunk: 0, Key: "k00", Outcome: batch.LookupError, Reason: "again", At: time.Now()})
	if err := s.PutLookups(ctx, recs); err != nil {
		t.Fatal(err)
	}
	for chunk := range 2 {
		got, err := s.ChunkLookups(ctx, "job", chunk)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 30 {
			t.Errorf("chunk %d has %d lookups, want 30", chunk, len(got))
		}
	}
	got, _ := s.ChunkLookups(ctx, "job", 0)
	if got["k00"].Outcome != batch.LookupError || got["k00"].Reason != "again" {
		t.Errorf("k00 = %+v, want the later put", got["k00"])
	}
	if err := s.PutLookups(ctx, []batch.LookupRecord{{JobID: "job"}}); err == nil {
		t.Error("PutLookups of a lookup without a key succeeded")
	}
}

// flakyWriter forwards to DynamoDB only the first accept requests of each call and hands
// the rest back as unprocessed, as DynamoDB does under throttling.
type flakyWriter struct {
	client *dynamodb.Client
	accept int
	mu     sync.Mutex
	calls  int
}

func (f *flakyWriter) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	send, keep := map[string][]types.WriteRequest{}, map[string][]types.WriteRequest{}
	for table, reqs := range in.RequestItems {
		n := min(f.accept, len(reqs))
		if n > 0 {
			send[table] = reqs[:n]
		}
		if n < len(reqs) {
			keep[table] = reqs[n:]
		}
	}
	if len(send) > 0 {
		if _, err := f.client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: send}, opts...); err != nil {
			return nil, err
		}
	}
	return &dynamodb.BatchWriteItemOutput{UnprocessedItems: keep}, nil
}

func TestBatchPutRetriesUnprocessed(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	var items []map[string]types.AttributeValue
	for i := range 40 {
		av, err := attributevalue.MarshalMap(toLookupItem(batch.LookupRecord{JobID: "j", Chunk: 3, Key: fmt.Sprintf("k%02d", i), At: time.Now()}, time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, av)
	}
	fast := retryPolicy{attempts: 3, first: time.Millisecond, max: 4 * time.Millisecond}
	w := &flakyWriter{client: s.client, accept: 7}
	if err := batchPut(ctx, w, fast, s.tables.Lookups, []string{attrJobChunk, attrKey}, items); err != nil {
		t.Fatalf("batchPut with 7 items taken per request: %v", err)
	}
	// 25 items: 4 requests of 7,7,7,4; then 15 items: 3 requests.
	if w.calls != 7 {
		t.Errorf("%d BatchWriteItem calls, want 7", w.calls)
	}
	got, err := s.ChunkLookups(ctx, "j", 3)
	if err != nil || len(got) != 40 {
		t.Errorf("after retries %d of 40 lookups stored (%v)", len(got), err)
	}

	stuck := &flakyWriter{client: s.client, accept: 0}
	err = batchPut(ctx, stuck, fast, s.tables.Lookups, []string{attrJobChunk, attrKey}, items[:5])
	if err == nil || !strings.Contains(err.Error(), "5 items still unprocessed") || stuck.calls != 1+fast.attempts-1 {
		t.Errorf("batchPut that never progresses: %v after %d calls; want it to give up after %d", err, stuck.calls, fast.attempts)
	}
}

// flakyGetter answers only the first accept keys of each BatchGetItem and hands the rest
// back as unprocessed.
type flakyGetter struct {
	client *dynamodb.Client
	accept int
	calls  int
}

func (f *flakyGetter) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	f.calls++
	send, keep := map[string]types.KeysAndAttributes{}, map[string]types.KeysAndAttributes{}
	for table, ka := range in.RequestItems {
		n := min(f.accept, len(ka.Keys))
		send[table] = types.KeysAndAttributes{Keys: ka.Keys[:n], ConsistentRead: ka.ConsistentRead}
		if n < len(ka.Keys) {
			keep[table] = types.KeysAndAttributes{Keys: ka.Keys[n:], ConsistentRead: ka.ConsistentRead}
		}
	}
	out, err := f.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: send}, opts...)
	if err != nil {
		return nil, err
	}
	out.UnprocessedKeys = keep
	return out, nil
}

// TestStaleRecordsReadsManyRecords loads 130 records with the batch writer (six requests)
// and reads them back through the keys-only index and BatchGetItem (two requests).
func TestStaleRecordsReadsManyRecords(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	base := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	var items, keys []map[string]types.AttributeValue
	for i := range 130 {
		rec := batch.PropertyRecord{ID: fmt.Sprintf("r%03d", i), Source: "attom", PropertyHash: "h",
			RawData: strings.Repeat("x", 2000), CreatedAt: base.Add(time.Duration(i) * time.Minute)}
		av, err := attributevalue.MarshalMap(toPropertyItem(rec))
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, av)
		keys = append(keys, propertyItem{ID: rec.ID}.key())
	}
	if err := s.batchPut(ctx, s.tables.Properties, []string{attrID}, items); err != nil {
		t.Fatal(err)
	}
	recs, err := s.StaleRecords(ctx, base.Add(time.Hour+30*time.Minute), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 90 || recs[0].ID != "r000" || recs[89].ID != "r089" || len(recs[89].RawData) != 2000 {
		t.Errorf("StaleRecords returned %d records; want r000..r089, oldest first, whole", len(recs))
	}
	if byHash, err := s.RecordsByHash(ctx, "h"); err != nil || len(byHash) != 130 {
		t.Errorf("RecordsByHash = %d records, %v; want 130", len(byHash), err)
	}

	g := &flakyGetter{client: s.client, accept: 40}
	fast := retryPolicy{attempts: 3, first: time.Millisecond, max: 4 * time.Millisecond}
	got, err := batchGet(ctx, g, fast, s.tables.Properties, []string{attrID}, keys)
	if err != nil || len(got) != 130 {
		t.Errorf("batchGet with 40 keys answered per request: %d items, %v; want 130", len(got), err)
	}
	if g.calls != 4 { // 100 keys: 40, 40, 20; then 30 keys: 30
		t.Errorf("%d BatchGetItem calls, want 4", g.calls)
	}
}
