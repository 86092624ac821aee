package dynamostore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// maxBatchWrite is DynamoDB's limit of items in one BatchWriteItem request.
const maxBatchWrite = 25

// retryPolicy paces resending the items BatchWriteItem leaves unprocessed (throttling or
// size limits): AWS asks for exponential backoff. It gives up after attempts rounds in a
// row without progress.
type retryPolicy struct {
	attempts   int
	first, max time.Duration
}

// batchRetry is the policy the store uses.
var batchRetry = retryPolicy{attempts: 8, first: 20 * time.Millisecond, max: 2 * time.Second}

// batchWriter sends one BatchWriteItem request; *dynamodb.Client satisfies it, and tests
// substitute one that leaves items unprocessed.
type batchWriter interface {
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// batchPut writes items to table in requests of 25. A request may not name one key twice,
// so items with equal keys (the attributes keyAttrs) are reduced to the last one first.
func (s *Store) batchPut(ctx context.Context, table string, keyAttrs []string, items []map[string]types.AttributeValue) error {
	return batchPut(ctx, s.client, batchRetry, table, keyAttrs, items)
}

func batchPut(ctx context.Context, w batchWriter, retry retryPolicy, table string, keyAttrs []string, items []map[string]types.AttributeValue) error {
	items = lastPerKey(items, keyAttrs)
	for start := 0; start < len(items); start += maxBatchWrite {
		group := items[start:min(start+maxBatchWrite, len(items))]
		requests := make([]types.WriteRequest, len(group))
		for i, item := range group {
			requests[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: item}}
		}
		if err := writeAll(ctx, w, retry, map[string][]types.WriteRequest{table: requests}); err != nil {
			return err
		}
	}
	return nil
}

// writeAll sends requests and resends whatever comes back unprocessed, with jittered
// exponential backoff, until none is left or retry.attempts rounds made no progress.
func writeAll(ctx context.Context, w batchWriter, retry retryPolicy, requests map[string][]types.WriteRequest) error {
	backoff := retry.first
	for stalled := 0; len(requests) > 0; {
		before := countRequests(requests)
		out, err := w.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: requests})
		if err != nil {
			return fmt.Errorf("batch write: %w", err)
		}
		requests = out.UnprocessedItems
		left := countRequests(requests)
		if left == 0 {
			return nil
		}
		if left < before {
			stalled, backoff = 0, retry.first
		} else if stalled++; stalled >= retry.attempts {
			return fmt.Errorf("batch write: %d items still unprocessed after %d tries", left, stalled)
		}
		if err := sleep(ctx, backoff/2+rand.N(backoff)); err != nil {
			return fmt.Errorf("batch write: %d items unprocessed: %w", left, err)
		}
		backoff = min(2*backoff, retry.max)
	}
	return nil
}

func countRequests(requests map[string][]types.WriteRequest) int {
	n := 0
	for _, rs := range requests {
		n += len(rs)
	}
	return n
}

// lastPerKey keeps, for each primary key, the last item, in the order of first appearance.
func lastPerKey(items []map[string]types.AttributeValue, keyAttrs []string) []map[string]types.AttributeValue {
	index := make(map[string]int, len(items))
	out := make([]map[string]types.AttributeValue, 0, len(items))
	for _, item := range items {
		k := keyString(item, keyAttrs)
		if i, ok := index[k]; ok {
			out[i] = item
			continue
		}
		index[k] = len(out)
		out = append(out, item)
	}
	return out
}

// keyString joins an item's string key attributes into a map key.
func keyString(item map[string]types.AttributeValue, keyAttrs []string) string {
	parts := make([]string, len(keyAttrs))
	for i, a := range keyAttrs {
		if s, ok := item[a].(*types.AttributeValueMemberS); ok {
			parts[i] = s.Value
		}
	}
	return strings.Join(parts, "\x00")
}
