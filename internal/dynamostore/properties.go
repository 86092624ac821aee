package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leadflow/attom-batch/internal/batch"
)

// propertyItem is a property record (the seed's property_records row) in the properties
// table. updated_at is the by_updated sort key and so is always present: the record's
// UpdatedAt, or CreatedAt for a record never updated, which has_update tells apart so a nil
// UpdatedAt reads back nil.
type propertyItem struct {
	ID           string `dynamodbav:"id"`
	GSIPK        string `dynamodbav:"gsi_pk"`
	Source       string `dynamodbav:"source"`
	SourceID     string `dynamodbav:"source_id,omitempty"`
	Address      string `dynamodbav:"address"`
	City         string `dynamodbav:"city"`
	State        string `dynamodbav:"state"`
	ZIPCode      string `dynamodbav:"zip_code"`
	PropertyHash string `dynamodbav:"property_hash,omitempty"` // by_hash key: never ""
	Processed    bool   `dynamodbav:"processed"`
	RawData      string `dynamodbav:"raw_data,omitempty"` // items written before raw_data_z
	RawDataZ     []byte `dynamodbav:"raw_data_z,omitempty"`
	Unified      string `dynamodbav:"unified,omitempty"` // items written before unified_z
	UnifiedZ     []byte `dynamodbav:"unified_z,omitempty"`
	CreatedAt    string `dynamodbav:"created_at"`
	UpdatedAt    string `dynamodbav:"updated_at"`
	HasUpdate    bool   `dynamodbav:"has_update"`
}

const attrHasUpdate = "has_update"

// key is the item's primary key.
func (it propertyItem) key() map[string]types.AttributeValue { return stringKey(attrID, it.ID) }

func toPropertyItem(r batch.PropertyRecord) propertyItem {
	it := propertyItem{
		ID: r.ID, GSIPK: gsiPKRecord, Source: r.Source, SourceID: r.SourceID,
		Address: r.Address, City: r.City, State: r.State, ZIPCode: r.ZIPCode,
		PropertyHash: r.PropertyHash, Processed: r.Processed, RawDataZ: pack(r.RawData),
		UnifiedZ: pack(r.Unified), CreatedAt: formatTime(r.CreatedAt), UpdatedAt: formatTime(r.CreatedAt),
	}
	if r.UpdatedAt != nil {
		it.UpdatedAt, it.HasUpdate = formatTime(*r.UpdatedAt), true
	}
	return it
}

func (it propertyItem) record() (batch.PropertyRecord, error) {
	r := batch.PropertyRecord{
		ID: it.ID, Source: it.Source, SourceID: it.SourceID, Address: it.Address,
		City: it.City, State: it.State, ZIPCode: it.ZIPCode, PropertyHash: it.PropertyHash,
		Processed: it.Processed,
	}
	var err error
	if r.RawData, err = unpack("raw_data", it.RawDataZ, it.RawData); err != nil {
		return batch.PropertyRecord{}, err
	}
	if r.Unified, err = unpack("unified", it.UnifiedZ, it.Unified); err != nil {
		return batch.PropertyRecord{}, err
	}
	if r.CreatedAt, err = parseTime(attrCreatedAt, it.CreatedAt); err != nil {
		return batch.PropertyRecord{}, err
	}
	if it.HasUpdate {
		if r.UpdatedAt, err = parseTimePtr(attrUpdatedAt, it.UpdatedAt); err != nil {
			return batch.PropertyRecord{}, err
		}
	}
	return r, nil
}

func decodeRecord(av map[string]types.AttributeValue) (batch.PropertyRecord, error) {
	var it propertyItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return batch.PropertyRecord{}, fmt.Errorf("decode property record: %w", err)
	}
	return it.record()
}

// UpsertRecord implements batch.PropertyStore: a new ID is put whole; an existing one is
// updated in place keeping created_at, with updated_at set to the caller's UpdatedAt or,
// when nil, now.
func (s *Store) UpsertRecord(ctx context.Context, rec batch.PropertyRecord) error {
	if rec.ID == "" {
		return errors.New("dynamostore: upsert property record: empty id")
	}
	it := toPropertyItem(rec)
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return fmt.Errorf("dynamostore: upsert property record %q: %w", rec.ID, err)
	}
	updated := s.now()
	if rec.UpdatedAt != nil {
		updated = *rec.UpdatedAt
	}
	_, err = upsert{
		table: s.tables.Properties, key: it.key(), item: item,
		keep: []string{attrCreatedAt},
		onUpdate: map[string]types.AttributeValue{
			attrUpdatedAt: &types.AttributeValueMemberS{Value: formatTime(updated)},
			attrHasUpdate: &types.AttributeValueMemberBOOL{Value: true},
		},
		attributes: attributeNames(propertyItem{}),
	}.run(ctx, s.client)
	if err != nil {
		return fmt.Errorf("dynamostore: upsert property record %q: %w", rec.ID, err)
	}
	return nil
}

// RecordsByHash implements batch.PropertyStore with a Query on the by_hash index.
func (s *Store) RecordsByHash(ctx context.Context, propertyHash string) ([]batch.PropertyRecord, error) {
	if propertyHash == "" {
		return nil, nil // such records are not in the index
	}
	keyCond := expression.Key(attrPropertyHash).Equal(expression.Value(propertyHash))
	recs, err := s.queryRecords(ctx, indexByHash, keyCond, 0)
	if err != nil {
		return nil, fmt.Errorf("dynamostore: records by hash %q: %w", propertyHash, err)
	}
	return recs, nil
}

// MarkProcessed implements batch.PropertyStore with a conditional UpdateItem that sets only
// processed; a record that does not exist is left alone.
func (s *Store) MarkProcessed(ctx context.Context, id string) error {
	expr, err := expression.NewBuilder().
		WithUpdate(expression.Set(expression.Name("processed"), expression.Value(true))).
		WithCondition(expression.AttributeExists(expression.Name(attrID))).Build()
	if err != nil {
		return fmt.Errorf("dynamostore: mark record %q processed: %w", id, err)
	}
	_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.tables.Properties),
		Key:                       propertyItem{ID: id}.key(),
		UpdateExpression:          expr.Update(),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("dynamostore: mark record %q processed: %w", id, err)
	}
	return nil
}

// StaleRecords implements batch.PropertyStore with a Query on the by_updated index for
// updated_at before olderThan, oldest first; limit 0 or less returns all.
func (s *Store) StaleRecords(ctx context.Context, olderThan time.Time, limit int) ([]batch.PropertyRecord, error) {
	keyCond := expression.Key(attrGSIPK).Equal(expression.Value(gsiPKRecord)).
		And(expression.Key(attrUpdatedAt).LessThan(expression.Value(formatTime(olderThan))))
	recs, err := s.queryRecords(ctx, indexByUpdated, keyCond, limit)
	if err != nil {
		return nil, fmt.Errorf("dynamostore: stale records before %s: %w", formatTime(olderThan), err)
	}
	return recs, nil
}

// queryRecords queries an index of the properties table, which may project keys only (the
// CDK stack keeps the large raw_data and unified payloads out of its indexes), then reads
// the full records with BatchGetItem, in the index's order.
func (s *Store) queryRecords(ctx context.Context, index string, keyCond expression.KeyConditionBuilder, limit int) ([]batch.PropertyRecord, error) {
	expr, err := expression.NewBuilder().WithKeyCondition(keyCond).Build()
	if err != nil {
		return nil, err
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.tables.Properties),
		IndexName:                 aws.String(index),
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ScanIndexForward:          aws.Bool(true), // oldest first on by_updated
	}
	var ids []string
	err = queryAll(ctx, s.client, in, limit, func(av map[string]types.AttributeValue) error {
		id, ok := av[attrID].(*types.AttributeValueMemberS)
		if !ok {
			return fmt.Errorf("index %s returned an item without a string id", index)
		}
		ids = append(ids, id.Value)
		return nil
	})
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	return s.recordsByID(ctx, ids)
}

// recordsByID reads records by id in that order; one deleted since the index was read is
// left out.
func (s *Store) recordsByID(ctx context.Context, ids []string) ([]batch.PropertyRecord, error) {
	keys := make([]map[string]types.AttributeValue, len(ids))
	for i, id := range ids {
		keys[i] = propertyItem{ID: id}.key()
	}
	items, err := batchGet(ctx, s.client, batchRetry, s.tables.Properties, []string{attrID}, keys)
	if err != nil {
		return nil, err
	}
	recs := make([]batch.PropertyRecord, 0, len(ids))
	for _, id := range ids {
		av, ok := items[id]
		if !ok {
			continue
		}
		rec, err := decodeRecord(av)
		if err != nil {
			return nil, fmt.Errorf("record %q: %w", id, err)
		}
		recs = append(recs, rec)
	}
	return recs, nil
}
