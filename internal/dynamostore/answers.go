package dynamostore

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leadflow/attom-batch/internal/batch"
)

// answerPrefix starts the partition key of an address's answers in the lookups table. A
// job's lookups are under "<job id>#<chunk number>", so an address key (never a bare
// number) cannot meet them.
const answerPrefix = "answer#"

// answerItem is one cached answer in the lookups table: partition "answer#<address key>",
// sort key the endpoint, so an address's answers sit together and one BatchGetItem key
// names one answer.
//
// It has no expires_at, so the table's TTL never deletes it: an answer is paid data that a
// later job may reuse for as long as that job's own window (Job.ReuseMaxAgeDays) allows,
// and a newer answer replaces it in place, so the cache holds at most one item per address
// and endpoint.
type answerItem struct {
	JobChunk    string `dynamodbav:"job_chunk"`
	Endpoint    string `dynamodbav:"key"`
	Outcome     string `dynamodbav:"outcome"`
	Raw         string `dynamodbav:"raw,omitempty"` // items written before raw_z
	RawZ        []byte `dynamodbav:"raw_z,omitempty"`
	BilledCents int64  `dynamodbav:"billed_cents"`
	Simulated   bool   `dynamodbav:"simulated,omitempty"`
	FetchedAt   string `dynamodbav:"fetched_at"`
	JobID       string `dynamodbav:"job_id,omitempty"`
	Attempt     string `dynamodbav:"attempt,omitempty"`
}

// answerKey is the primary key of the answer of address key on endpoint.
func answerKey(key, endpoint string) map[string]types.AttributeValue {
	return lookupsKey(answerPrefix+key, endpoint)
}

// lookupsKey is a primary key of the lookups table.
func lookupsKey(jobChunk, key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrJobChunk: &types.AttributeValueMemberS{Value: jobChunk},
		attrKey:      &types.AttributeValueMemberS{Value: key},
	}
}

func toAnswerItem(a batch.Answer) answerItem {
	return answerItem{
		JobChunk: answerPrefix + a.Key, Endpoint: a.Endpoint, Outcome: a.Outcome, RawZ: pack(a.Raw),
		BilledCents: a.BilledCents, Simulated: a.Simulated, FetchedAt: formatTime(a.FetchedAt),
		JobID: a.JobID, Attempt: a.Attempt,
	}
}

func (it answerItem) answer() (batch.Answer, error) {
	fetched, err := parseTime("fetched_at", it.FetchedAt)
	if err != nil {
		return batch.Answer{}, err
	}
	raw, err := unpack("raw", it.RawZ, it.Raw)
	if err != nil {
		return batch.Answer{}, err
	}
	return batch.Answer{
		Key: strings.TrimPrefix(it.JobChunk, answerPrefix), Endpoint: it.Endpoint,
		Outcome: it.Outcome, Raw: raw, BilledCents: it.BilledCents, Simulated: it.Simulated,
		FetchedAt: fetched, JobID: it.JobID, Attempt: it.Attempt,
	}, nil
}

// PutAnswer implements batch.AnswerStore with one PutItem, which replaces the answer of the
// same key and endpoint.
func (s *Store) PutAnswer(ctx context.Context, a batch.Answer) error {
	if a.Key == "" || a.Endpoint == "" {
		return fmt.Errorf("dynamostore: put answer %q/%q: key and endpoint are required", a.Key, a.Endpoint)
	}
	item, err := attributevalue.MarshalMap(toAnswerItem(a))
	if err == nil {
		_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.tables.Lookups), Item: item})
	}
	if err != nil {
		return fmt.Errorf("dynamostore: put answer %s/%s: %w", a.Key, a.Endpoint, err)
	}
	return nil
}

// Answers implements batch.AnswerStore: consistent BatchGetItem requests over every key and
// endpoint pair, 100 pairs to a request.
func (s *Store) Answers(ctx context.Context, keys, endpoints []string) (map[string]map[string]batch.Answer, error) {
	pairs := make([]map[string]types.AttributeValue, 0, len(keys)*len(endpoints))
	for _, k := range keys {
		for _, e := range endpoints {
			pairs = append(pairs, answerKey(k, e))
		}
	}
	items, err := batchGet(ctx, s.client, batchRetry, s.tables.Lookups, []string{attrJobChunk, attrKey}, pairs)
	if err != nil {
		return nil, fmt.Errorf("dynamostore: answers of %d keys on %d endpoints: %w", len(keys), len(endpoints), err)
	}
	out := make(map[string]map[string]batch.Answer)
	for _, av := range items {
		var it answerItem
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return nil, fmt.Errorf("dynamostore: decode answer: %w", err)
		}
		a, err := it.answer()
		if err != nil {
			return nil, err
		}
		if out[a.Key] == nil {
			out[a.Key] = make(map[string]batch.Answer)
		}
		out[a.Key][a.Endpoint] = a
	}
	return out, nil
}
