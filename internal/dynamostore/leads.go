package dynamostore

import (
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

	"github.com/leadflow/attom-batch/internal/distress"
	"github.com/leadflow/attom-batch/internal/leads"
)

// leadItem is a lead in the leads table; batch_id and score key the by_batch index. The
// key, the index's attributes, status and the times are attributes of their own; the rest
// (address, owners, the score's breakdown, the input row) is one deflated JSON document,
// doc_z (a leads.Lead), which keeps a lead within 1 KB, a single write unit (issue 12).
// Items written before doc_z have those as attributes of their own, which reads still
// accept and the next save removes.
type leadItem struct {
	ID        string `dynamodbav:"id"`
	Score     int    `dynamodbav:"score"`
	Status    string `dynamodbav:"status"`
	BatchID   string `dynamodbav:"batch_id,omitempty"` // by_batch key: never ""
	CreatedAt string `dynamodbav:"created_at"`
	UpdatedAt string `dynamodbav:"updated_at"`
	Doc       []byte `dynamodbav:"doc_z,omitempty"`
	// Before doc_z.
	PropertyKey    string            `dynamodbav:"property_key,omitempty"`
	PropertyHash   string            `dynamodbav:"property_hash,omitempty"`
	Address        string            `dynamodbav:"address,omitempty"`
	Line1          string            `dynamodbav:"line1,omitempty"`
	Unit           string            `dynamodbav:"unit,omitempty"`
	City           string            `dynamodbav:"city,omitempty"`
	State          string            `dynamodbav:"state,omitempty"`
	ZIP            string            `dynamodbav:"zip,omitempty"`
	OwnerNames     []string          `dynamodbav:"owner_names,omitempty"`
	MailingAddress string            `dynamodbav:"mailing_address,omitempty"`
	Breakdown      []factorItem      `dynamodbav:"breakdown,omitempty"`
	Value          *float64          `dynamodbav:"value,omitempty"`
	Equity         *float64          `dynamodbav:"equity,omitempty"`
	Source         string            `dynamodbav:"source,omitempty"`
	Simulated      bool              `dynamodbav:"simulated,omitempty"`
	Input          map[string]string `dynamodbav:"input,omitempty"`
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

func toLeadItem(l leads.Lead) (leadItem, error) {
	doc := l // the attributes of their own are not repeated in the document
	doc.ID, doc.Score, doc.Status, doc.BatchID = "", 0, "", ""
	doc.CreatedAt, doc.UpdatedAt = time.Time{}, time.Time{}
	b, err := json.Marshal(doc)
	if err != nil {
		return leadItem{}, err
	}
	return leadItem{
		ID: l.ID, Score: l.Score, Status: l.Status, BatchID: l.BatchID,
		CreatedAt: formatTime(l.CreatedAt), UpdatedAt: formatTime(l.UpdatedAt), Doc: pack(string(b)),
	}, nil
}

func (it leadItem) lead() (leads.Lead, error) {
	l := leads.Lead{
		PropertyKey: it.PropertyKey, PropertyHash: it.PropertyHash, Address: it.Address,
		Line1: it.Line1, Unit: it.Unit, City: it.City, State: it.State, ZIP: it.ZIP,
		OwnerNames: it.OwnerNames, MailingAddress: it.MailingAddress,
		Value: it.Value, Equity: it.Equity, Source: it.Source,
		Simulated: it.Simulated, Input: it.Input,
	}
	for _, f := range it.Breakdown {
		l.Breakdown = append(l.Breakdown, distress.Factor(f))
	}
	if len(it.Doc) > 0 {
		s, err := unpack("doc", it.Doc, "")
		if err == nil {
			l = leads.Lead{}
			err = json.Unmarshal([]byte(s), &l)
		}
		if err != nil {
			return leads.Lead{}, fmt.Errorf("lead %q: doc_z: %w", it.ID, err)
		}
	}
	l.ID, l.Score, l.Status, l.BatchID = it.ID, it.Score, it.Status, it.BatchID
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
	it, err := toLeadItem(lead)
	if err != nil {
		return false, fmt.Errorf("dynamostore: save lead %q: %w", lead.ID, err)
	}
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
