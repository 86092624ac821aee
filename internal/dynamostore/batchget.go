package dynamostore

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// maxBatchGet is DynamoDB's limit of keys in one BatchGetItem request.
const maxBatchGet = 100

// batchGetter sends one BatchGetItem request; *dynamodb.Client satisfies it.
type batchGetter interface {
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

// batchGet reads the items of keys from table with consistent BatchGetItem requests of up
// to 100 keys, resending unprocessed keys with backoff. It returns the items keyed by
// keyString(item, keyAttrs); a key with no item is simply absent.
func batchGet(ctx context.Context, g batchGetter, retry retryPolicy, table string, keyAttrs []string, keys []map[string]types.AttributeValue) (map[string]map[string]types.AttributeValue, error) {
	found := make(map[string]map[string]types.AttributeValue, len(keys))
	keys = lastPerKey(keys, keyAttrs) // a request may not name a key twice
	for start := 0; start < len(keys); start += maxBatchGet {
		group := keys[start:min(start+maxBatchGet, len(keys))]
		request := map[string]types.KeysAndAttributes{table: {Keys: group, ConsistentRead: consistent}}
		if err := getAll(ctx, g, retry, request, func(item map[string]types.AttributeValue) {
			found[keyString(item, keyAttrs)] = item
		}); err != nil {
			return nil, err
		}
	}
	return found, nil
}

// getAll sends request and resends unprocessed keys until none is left or retry.attempts
// rounds in a row returned nothing.
func getAll(ctx context.Context, g batchGetter, retry retryPolicy, request map[string]types.KeysAndAttributes, each func(map[string]types.AttributeValue)) error {
	backoff := retry.first
	for stalled := 0; len(request) > 0; {
		out, err := g.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: request})
		if err != nil {
			return fmt.Errorf("batch get: %w", err)
		}
		got := 0
		for _, items := range out.Responses {
			for _, item := range items {
				each(item)
				got++
			}
		}
		request = out.UnprocessedKeys
		if len(request) == 0 {
			return nil
		}
		if got > 0 {
			stalled, backoff = 0, retry.first
		} else if stalled++; stalled >= retry.attempts {
			return fmt.Errorf("batch get: keys still unprocessed after %d tries", stalled)
		}
		if err := sleep(ctx, backoff/2+rand.N(backoff)); err != nil {
			return fmt.Errorf("batch get: keys unprocessed: %w", err)
		}
		backoff = min(2*backoff, retry.max)
	}
	return nil
}
