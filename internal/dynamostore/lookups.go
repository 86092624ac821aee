package dynamostore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leadflow/attom-batch/internal/batch"
)

// lookupTTL is how long a lookup item lives: long enough to resume or re-drive any job
// (a paused job resumes within days), short enough not to keep paid payloads forever.
const lookupTTL = 90 * 24 * time.Hour

// lookupItem is one address's lookup in the lookups table, keyed by job and chunk
// ("<job id>#<chunk>") and the address key, with a TTL.
type lookupItem struct {
	JobChunk    string `dynamodbav:"job_chunk"`
	Key         string `dynamodbav:"key"`
	JobID       string `dynamodbav:"job_id"`
	Chunk       int    `dynamodbav:"chunk"`
	Outcome     string `dynamodbav:"outcome"`
	Reason      string `dynamodbav:"reason,omitempty"`
	BilledCents int64  `dynamodbav:"billed_cents"`
	Raw         string `dynamodbav:"raw,omitempty"`
	At          string `dynamodbav:"at"`
	Reused      bool   `dynamodbav:"reused,omitempty"`
	FetchedAt   string `dynamodbav:"fetched_at,omitempty"`
	ExpiresAt   int64  `dynamodbav:"expires_at"`
}

// jobChunk is the partition key of a job's chunk.
func jobChunk(jobID string, chunk int) string { return jobID + "#" + strconv.Itoa(chunk) }

// key is the item's primary key.
func (it lookupItem) key() map[string]types.AttributeValue { return lookupsKey(it.JobChunk, it.Key) }

// toLookupItem converts a lookup for storage; it expires lookupTTL after now.
func toLookupItem(r batch.LookupRecord, now time.Time) lookupItem {
	return lookupItem{
		JobChunk: jobChunk(r.JobID, r.Chunk), Key: r.Key, JobID: r.JobID, Chunk: r.Chunk,
		Outcome: r.Outcome, Reason: r.Reason, BilledCents: r.BilledCents, Raw: r.Raw,
		At: formatTime(r.At), Reused: r.Reused, FetchedAt: formatTimePtr(r.FetchedAt),
		ExpiresAt: now.Add(lookupTTL).Unix(),
	}
}

func (it lookupItem) lookup() (batch.LookupRecord, error) {
	at, err := parseTime("at", it.At)
	if err != nil {
		return batch.LookupRecord{}, err
	}
	fetched, err := parseTimePtr("fetched_at", it.FetchedAt)
	if err != nil {
		return batch.LookupRecord{}, err
	}
	return batch.LookupRecord{
		JobID: it.JobID, Chunk: it.Chunk, Key: it.Key, Outcome: it.Outcome, Reason: it.Reason,
		BilledCents: it.BilledCents, Raw: it.Raw, At: at, Reused: it.Reused, FetchedAt: fetched,
	}, nil
}

func checkLookup(r batch.LookupRecord) error {
	if r.JobID == "" || r.Key == "" {
		return fmt.Errorf("dynamostore: lookup of job %q chunk %d key %q: job id and key are required", r.JobID, r.Chunk, r.Key)
	}
	return nil
}

// PutLookup implements batch.LookupStore; a second put of the same key replaces the first.
func (s *Store) PutLookup(ctx context.Context, rec batch.LookupRecord) error {
	if err := checkLookup(rec); err != nil {
		return err
	}
	item, err := attributevalue.MarshalMap(toLookupItem(rec, s.now()))
	if err != nil {
		return fmt.Errorf("dynamostore: put lookup %s/%d/%s: %w", rec.JobID, rec.Chunk, rec.Key, err)
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.tables.Lookups), Item: item})
	if err != nil {
		return fmt.Errorf("dynamostore: put lookup %s/%d/%s: %w", rec.JobID, rec.Chunk, rec.Key, err)
	}
	return nil
}

// PutLookups writes many lookups with BatchWriteItem, 25 to a request, retrying what
// DynamoDB leaves unprocessed: the bulk form of PutLookup for re-importing a chunk's results
// or loading test data. Within one call the last lookup of a key wins, as with PutLookup.
func (s *Store) PutLookups(ctx context.Context, recs []batch.LookupRecord) error {
	now := s.now()
	items := make([]map[string]types.AttributeValue, 0, len(recs))
	for _, rec := range recs {
		if err := checkLookup(rec); err != nil {
			return err
		}
		item, err := attributevalue.MarshalMap(toLookupItem(rec, now))
		if err != nil {
			return fmt.Errorf("dynamostore: put lookup %s/%d/%s: %w", rec.JobID, rec.Chunk, rec.Key, err)
		}
		items = append(items, item)
	}
	if err := s.batchPut(ctx, s.tables.Lookups, []string{attrJobChunk, attrKey}, items); err != nil {
		return fmt.Errorf("dynamostore: put %d lookups: %w", len(recs), err)
	}
	return nil
}

// ChunkLookups implements batch.LookupStore: a consistent Query of the chunk's partition,
// keyed by address key.
func (s *Store) ChunkLookups(ctx context.Context, jobID string, chunk int) (map[string]batch.LookupRecord, error) {
	keyCond := expression.Key(attrJobChunk).Equal(expression.Value(jobChunk(jobID, chunk)))
	expr, err := expression.NewBuilder().WithKeyCondition(keyCond).Build()
	if err != nil {
		return nil, fmt.Errorf("dynamostore: chunk lookups %s/%d: %w", jobID, chunk, err)
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.tables.Lookups),
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ConsistentRead:            consistent,
	}
	out := map[string]batch.LookupRecord{}
	err = queryAll(ctx, s.client, in, 0, func(av map[string]types.AttributeValue) error {
		var it lookupItem
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return err
		}
		rec, err := it.lookup()
		out[rec.Key] = rec
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("dynamostore: chunk lookups %s/%d: %w", jobID, chunk, err)
	}
	return out, nil
}
