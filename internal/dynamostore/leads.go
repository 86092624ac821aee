package dynamostore

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leadflow/attom-batch/internal/distress"
	"github.com/leadflow/attom-batch/internal/leads"
)

// leadItem is a lead in the leads table; batch_id and score key the by_batch index.
type leadItem struct {
	ID             string            `dynamodbav:"id"`
	PropertyKey    string            `dynamodbav:"property_key,omitempty"`
	PropertyHash   string            `dynamodbav:"property_hash,omitempty"`
	Address        string            `dynamodbav:"address"`
	Line1          string            `dynamodbav:"line1,omitempty"`
	Unit           string            `dynamodbav:"unit,omitempty"`
	City           string            `dynamodbav:"city,omitempty"`
	State          string            `dynamodbav:"state,omitempty"`
	ZIP            string            `dynamodbav:"zip,omitempty"`
	OwnerNames     []string          `dynamodbav:"owner_names,omitempty"`
	MailingAddress string            `dynamodbav:"mailing_address,omitempty"`
	Score          int               `dynamodbav:"score"`
	Breakdown      []factorItem      `dynamodbav:"breakdown,omitempty"`
	Value          *float64          `dynamodbav:"value,omitempty"`
	Equity         *float64          `dynamodbav:"equity,omitempty"`
	Status         string            `dynamodbav:"status"`
	Source         string            `dynamodbav:"source,omitempty"`
	BatchID        string            `dynamodbav:"batch_id,omitempty"` // by_batch key: never ""
	Simulated      bool              `dynamodbav:"simulated"`
	Input          map[string]string `dynamodbav:"input,omitempty"`
	CreatedAt      string            `dynamodbav:"created_at"`
	UpdatedAt      string            `dynamodbav:"updated_at"`
}

// factorItem is one line of a lead's score breakdown.
type factorItem struct {
	Name   string  `dynamodbav:"name"`
	State  string  `dynamodbav:"state"`
	Points float64 `dynamodbav:"points"`
	Detail string  `dynamodbav:"detail,omitempty"`
}

const attrStatus = "status"

// key is the item's primary key.
func (it leadItem) key() map[string]types.AttributeValue { return stringKey(attrID, it.ID) }

func toLeadItem(l leads.Lead) leadItem {
	it := leadItem{
		ID: l.ID, PropertyKey: l.PropertyKey, PropertyHash: l.PropertyHash, Address: l.Address,
		Line1: l.Line1, Unit: l.Unit, City: l.City, State: l.State, ZIP: l.ZIP,
		OwnerNames: l.OwnerNames, MailingAddress: l.MailingAddress, Score: l.Score,
		Value: l.Value, Equity: l.Equity, Status: l.Status, Source: l.Source,
		BatchID: l.BatchID, Simulated: l.Simulated, Input: l.Input,
		CreatedAt: formatTime(l.CreatedAt), UpdatedAt: formatTime(l.UpdatedAt),
	}
	for _, f := range l.Breakdown {
		it.Breakdown = append(it.Breakdown, factorItem(f))
	}
	return it
}

func (it leadItem) lead() (leads.Lead, error) {
	l := leads.Lead{
		ID: it.ID, PropertyKey: it.PropertyKey, PropertyHash: it.PropertyHash, Address: it.Address,
		Line1: it.Line1, Unit: it.Unit, City: it.City, State: it.State, ZIP: it.ZIP,
		OwnerNames: it.OwnerNames, MailingAddress: it.MailingAddress, Score: it.Score,
		Value: it.Value, Equity: it.Equity, Status: it.Status, Source: it.Source,
		BatchID: it.BatchID, Simulated: it.Simulated, Input: it.Input,
	}
	for _, f := range it.Breakdown {
		l.Breakdown = append(l.Breakdown, distress.Factor(f))
	}
	var err error
	if l.CreatedAt, err = parseTime(attrCreatedAt, it.CreatedAt); err != nil {
		return leads.Lead{}, err
	}
	if l.UpdatedAt, err = parseTime(attrUpdatedAt, it.UpdatedAt); err != nil {
		return leads.Lead{}, err
	}
	return l, nil
}

func decodeLead(av map[string]types.AttributeValue) (leads.Lead, error) {
	var it leadItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return leads.Lead{}, fmt.Errorf("decode lead: %w", err)
	}
	return it.lead()
}

// SaveLead implements batch.LeadStore: the first save of an ID creates the lead (created
// is true, for exactly one of any concurrent saves); a later one updates it in place and
// keeps created_at and the status a sales person may have set.
func (s *Store) SaveLead(ctx context.Context, lead leads.Lead) (bool, error) {
	if lead.ID == "" {
		return false, errors.New("dynamostore: save lead: empty id")
	}
	it := toLeadItem(lead)
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return false, fmt.Errorf("dynamostore: save lead %q: %w", lead.ID, err)
	}
	created, err := upsert{
		table: s.tables.Leads, key: it.key(), item: item,
		keep:       []string{attrCreatedAt, attrStatus},
		attributes: attributeNames(leadItem{}),
	}.run(ctx, s.client)
	if err != nil {
		return false, fmt.Errorf("dynamostore: save lead %q: %w", lead.ID, err)
	}
	return created, nil
}

// GetLead implements batch.LeadStore; a missing lead wraps batch.ErrNotFound.
func (s *Store) GetLead(ctx context.Context, id string) (leads.Lead, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.tables.Leads),
		Key:            leadItem{ID: id}.key(),
		ConsistentRead: consistent,
	})
	if err != nil {
		return leads.Lead{}, fmt.Errorf("dynamostore: get lead %q: %w", id, err)
	}
	if out.Item == nil {
		return leads.Lead{}, notFound("lead", id)
	}
	l, err := decodeLead(out.Item)
	if err != nil {
		return leads.Lead{}, fmt.Errorf("dynamostore: get lead %q: %w", id, err)
	}
	return l, nil
}

// LeadsByBatch implements batch.LeadStore with a Query on the by_batch index, highest
// score first.
func (s *Store) LeadsByBatch(ctx context.Context, batchID string) ([]leads.Lead, error) {
	return s.leadsOfBatch(ctx, batchID, 0)
}

// TopLeads implements batch.LeadStore: the same Query, stopped after n items.
func (s *Store) TopLeads(ctx context.Context, batchID string, n int) ([]leads.Lead, error) {
	if n <= 0 {
		return nil, nil
	}
	return s.leadsOfBatch(ctx, batchID, n)
}

// leadsOfBatch queries the by_batch index, highest score first, for at most limit leads
// (0: all).
func (s *Store) leadsOfBatch(ctx context.Context, batchID string, limit int) ([]leads.Lead, error) {
	if batchID == "" {
		return nil, nil // leads without a batch are not in the index
	}
	keyCond := expression.Key(attrBatchID).Equal(expression.Value(batchID))
	expr, err := expression.NewBuilder().WithKeyCondition(keyCond).Build()
	if err != nil {
		return nil, fmt.Errorf("dynamostore: leads of batch %q: %w", batchID, err)
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.tables.Leads),
		IndexName:                 aws.String(indexByBatch),
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ScanIndexForward:          aws.Bool(false),
	}
	var out []leads.Lead
	err = queryAll(ctx, s.client, in, limit, func(av map[string]types.AttributeValue) error {
		l, err := decodeLead(av)
		out = append(out, l)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("dynamostore: leads of batch %q: %w", batchID, err)
	}
	return out, nil
}
