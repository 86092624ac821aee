// Package dynamostore is the AWS backend's store: jobs, per-address lookups, property
// records, leads and the daily budget, each in its own DynamoDB table; the answer cache and
// leases share the lookups table under their own partition keys ("answer#<address key>",
// "lease#<name>"), so the deployed tables serve them unchanged. Items are separate
// structs with dynamodbav tags and conversion functions both ways, so the domain types stay
// free of the SDK; every condition, update and key expression is built with the expression
// package; queries use the SDK paginators; and SDK errors are told apart with errors.As on
// their typed errors, never by message.
//
// Times are stored as fixed-width RFC 3339 strings in UTC with nanoseconds (see timeLayout),
// so that string order is time order for the GSI sort keys.
package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leadflow/attom-batch/internal/batch"
)

// Tables names the five tables; the names come from configuration (the CDK stack creates
// tables with exactly these keys and indexes, CreateTables does so for tests and the local
// cloud).
type Tables struct {
	Jobs       string
	Properties string
	Leads      string
	Lookups    string
	Budget     string
}

// PrefixedTables names the tables prefix+"jobs", prefix+"properties" and so on: one set of
// tables per test, or per deployment stage.
func PrefixedTables(prefix string) Tables {
	return Tables{
		Jobs:       prefix + "jobs",
		Properties: prefix + "properties",
		Leads:      prefix + "leads",
		Lookups:    prefix + "lookups",
		Budget:     prefix + "budget",
	}
}

// Validate reports the first missing table name, so a misconfigured function fails at
// start-up rather than on its first write.
func (t Tables) Validate() error {
	for _, n := range []struct{ field, name string }{
		{"Jobs", t.Jobs}, {"Properties", t.Properties}, {"Leads", t.Leads},
		{"Lookups", t.Lookups}, {"Budget", t.Budget},
	} {
		if n.name == "" {
			return fmt.Errorf("dynamostore: table name for %s is empty", n.field)
		}
	}
	return nil
}

// Store holds the DynamoDB client and table names. It implements batch.JobStore,
// batch.LookupStore, batch.PropertyStore, batch.LeadStore, batch.AnswerStore and
// batch.LeaseStore; Budget returns the budget.
type Store struct {
	client *dynamodb.Client
	tables Tables
	now    func() time.Time
}

var (
	_ batch.JobStore      = (*Store)(nil)
	_ batch.LookupStore   = (*Store)(nil)
	_ batch.PropertyStore = (*Store)(nil)
	_ batch.LeadStore     = (*Store)(nil)
	_ batch.AnswerStore   = (*Store)(nil)
	_ batch.LeaseStore    = (*Store)(nil)
)

// New returns a Store on client's tables. Build client with NewClient (or any
// *dynamodb.Client); the tables must exist (CreateTables makes them).
func New(client *dynamodb.Client, tables Tables) (*Store, error) {
	if client == nil {
		return nil, errors.New("dynamostore: nil DynamoDB client")
	}
	if err := tables.Validate(); err != nil {
		return nil, err
	}
	return &Store{client: client, tables: tables, now: time.Now}, nil
}

// Stores bundles this store's ports with blobs and a budget capped at capCents a day, the
// shape the batch tasks and the conformance suite take.
func (s *Store) Stores(blobs batch.BlobStore, capCents int64) batch.Stores {
	return batch.Stores{
		Jobs: s, Lookups: s, Properties: s, Leads: s, Answers: s, Leases: s,
		Blobs:  blobs,
		Budget: s.Budget(capCents),
	}
}

// notFound wraps batch.ErrNotFound with what was missing.
func notFound(what, id string) error {
	return fmt.Errorf("dynamostore: %s %q: %w", what, id, batch.ErrNotFound)
}

// isConditionFailed tells a failed ConditionExpression from every other error.
// putIf puts item into table if cond holds on the stored item; put is false, with no error,
// when it does not.
func putIf(ctx context.Context, client *dynamodb.Client, table string, item map[string]types.AttributeValue, cond expression.ConditionBuilder) (put bool, err error) {
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return false, err
	}
	_, err = client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(table),
		Item:                      item,
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	})
	switch {
	case isConditionFailed(err):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// conditionFailedItem returns the item a failed condition saw, when the request asked for
// it with ReturnValuesOnConditionCheckFailure ALL_OLD (nil when there was no item).
func conditionFailedItem(err error) map[string]types.AttributeValue {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ccf.Item
	}
	return nil
}

// stringKey is the key of a table whose partition key is the string attribute name.
func stringKey(name, value string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{name: &types.AttributeValueMemberS{Value: value}}
}

// consistent is the ConsistentRead flag for reads that must see the latest write.
var consistent = aws.Bool(true)
