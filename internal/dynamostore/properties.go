package dynamostore

import (
	"bytes"
	"context"
	"encoding/json"
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
// UpdatedAt reads back nil. The keys, times and processed are attributes of their own; the
// rest (source, address, raw_data and the large unified property) is one deflated JSON
// document, doc_z, which keeps a record near 1 KB, a single write unit (issue 12). Items
// written before doc_z have those as attributes of their own, which reads still accept and
// the next upsert removes.
type propertyItem struct {
	ID           string `dynamodbav:"id"`
	GSIPK        string `dynamodbav:"gsi_pk"`
	PropertyHash string `dynamodbav:"property_hash,omitempty"` // by_hash key: never ""
	Processed    bool   `dynamodbav:"processed"`
	CreatedAt    string `dynamodbav:"created_at"`
	UpdatedAt    string `dynamodbav:"updated_at"`
	HasUpdate    bool   `dynamodbav:"has_update"`
	Doc          []byte `dynamodbav:"doc_z,omitempty"`
	// Before doc_z.
	Source   string `dynamodbav:"source,omitempty"`
	SourceID string `dynamodbav:"source_id,omitempty"`
	Address  string `dynamodbav:"address,omitempty"`
	City     string `dynamodbav:"city,omitempty"`
	State    string `dynamodbav:"state,omitempty"`
	ZIPCode  string `dynamodbav:"zip_code,omitempty"`
	RawData  string `dynamodbav:"raw_data,omitempty"`
	Unified  string `dynamodbav:"unified,omitempty"`
}

// propertyDoc is what doc_z holds. raw_data and unified that are compact JSON (as the batch
// code writes them) are kept as JSON, not as strings of it, which packs smaller.
type propertyDoc struct {
	Source      string          `json:"source"`
	SourceID    string          `json:"source_id,omitempty"`
	Address     string          `json:"address"`
	City        string          `json:"city"`
	State       string          `json:"state"`
	ZIPCode     string          `json:"zip_code"`
	RawData     string          `json:"raw_data,omitempty"`
	RawDataJSON json.RawMessage `json:"raw_data_json,omitempty"`
	Unified     string          `json:"unified,omitempty"`
	UnifiedJSON json.RawMessage `json:"unified_json,omitempty"`
}

// asJSON puts s in raw when it is compact JSON (which marshals back byte for byte), else in
// text.
func asJSON(s string, text *string, raw *json.RawMessage) {
	var buf bytes.Buffer
	if s != "" && json.Compact(&buf, []byte(s)) == nil && buf.String() == s {
		*raw = json.RawMessage(s)
		return
	}
	*text = s
}

func fromJSON(text string, raw json.RawMessage) string {
	if len(raw) > 0 {
		return string(raw)
	}
	return text
}

const attrHasUpdate = "has_update"

// key is the item's primary key.
func (it propertyItem) key() map[string]types.AttributeValue { return stringKey(attrID, it.ID) }

func toPropertyItem(r batch.PropertyRecord) propertyItem {
	d := propertyDoc{
		Source: r.Source, SourceID: r.SourceID, Address: r.Address, City: r.City,
		State: r.State, ZIPCode: r.ZIPCode,
	}
	asJSON(r.RawData, &d.RawData, &d.RawDataJSON)
	asJSON(r.Unified, &d.Unified, &d.UnifiedJSON)
	doc, _ := json.Marshal(d) // strings and valid JSON only: cannot fail
	it := propertyItem{
		ID: r.ID, GSIPK: gsiPKRecord, PropertyHash: r.PropertyHash, Processed: r.Processed,
		CreatedAt: formatTime(r.CreatedAt), UpdatedAt: formatTime(r.CreatedAt), Doc: pack(string(doc)),
	}
	if r.UpdatedAt != nil {
		it.UpdatedAt, it.HasUpdate = formatTime(*r.UpdatedAt), true
	}
	return it
}

func (it propertyItem) record() (batch.PropertyRecord, error) {
	d := propertyDoc{Source: it.Source, SourceID: it.SourceID, Address: it.Address, City: it.City,
		State: it.State, ZIPCode: it.ZIPCode, RawData: it.RawData, Unified: it.Unified}
	if len(it.Doc) > 0 {
		s, err := unpack("doc", it.Doc, "")
		if err == nil {
			err = json.Unmarshal([]byte(s), &d)
		}
		if err != nil {
			return batch.PropertyRecord{}, fmt.Errorf("property record %q: doc_z: %w", it.ID, err)
		}
	}
	r := batch.PropertyRecord{
		ID: it.ID, Source: d.Source, SourceID: d.SourceID, Address: d.Address,
		City: d.City, State: d.State, ZIPCode: d.ZIPCode, PropertyHash: it.PropertyHash,
		Processed: it.Processed, RawData: fromJSON(d.RawData, d.RawDataJSON),
		Unified: fromJSON(d.Unified, d.UnifiedJSON),
	}
	var err error
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
