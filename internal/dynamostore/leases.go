package dynamostore

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leadflow/attom-batch/internal/batch"
)

// Leases live in the lookups table, one item each: partition "lease#<name>", sort key
// "lease". ("#" never follows "lease" in a job's "<job id>#<chunk>" unless a job were named
// "lease", which job ids, derived from the upload, are not.)
const (
	leasePrefix  = "lease#"
	leaseSortKey = "lease"
)

// leaseKeep is how long after it expires a lease item stays before the table's TTL may
// delete it: a lease is deleted on release, so this only clears those of owners that died
// and were never taken over, long after the day whose reservation their Data may hold.
const leaseKeep = lookupTTL

// Lease attributes that conditions and updates name.
const (
	attrOwner   = "owner"
	attrHolder  = "holder"
	attrExpires = "expires"
	attrData    = "data"
)

// leaseItem is a lease as stored. Since and Expires use timeLayout, so "expires <= :now"
// compares them as times.
type leaseItem struct {
	JobChunk  string `dynamodbav:"job_chunk"`
	Key       string `dynamodbav:"key"`
	Name      string `dynamodbav:"name"`
	Owner     string `dynamodbav:"owner"`
	Holder    string `dynamodbav:"holder"`
	Since     string `dynamodbav:"since"`
	Expires   string `dynamodbav:"expires"`
	Data      string `dynamodbav:"data,omitempty"`
	ExpiresAt int64  `dynamodbav:"expires_at"`
}

// leaseKey is the primary key of the lease called name.
func leaseKey(name string) map[string]types.AttributeValue {
	return lookupsKey(leasePrefix+name, leaseSortKey)
}

func toLeaseItem(l batch.Lease) leaseItem {
	return leaseItem{
		JobChunk: leasePrefix + l.Name, Key: leaseSortKey, Name: l.Name, Owner: l.Owner,
		Holder: l.Holder, Since: formatTime(l.Since), Expires: formatTime(l.Expires), Data: l.Data,
		ExpiresAt: l.Expires.Add(leaseKeep).Unix(),
	}
}

func (it leaseItem) lease() (batch.Lease, error) {
	since, err := parseTime("since", it.Since)
	if err != nil {
		return batch.Lease{}, err
	}
	expires, err := parseTime(attrExpires, it.Expires)
	if err != nil {
		return batch.Lease{}, err
	}
	return batch.Lease{
		Name: it.Name, Owner: it.Owner, Holder: it.Holder, Since: since, Expires: expires, Data: it.Data,
	}, nil
}

// decodeLease reads a stored lease item; no item is nil.
func decodeLease(av map[string]types.AttributeValue) (*batch.Lease, error) {
	if len(av) == 0 {
		return nil, nil
	}
	var it leaseItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return nil, fmt.Errorf("dynamostore: decode lease: %w", err)
	}
	l, err := it.lease()
	if err != nil {
		return nil, err
	}
	return &l, nil
}

// leaseRounds bounds AcquireLease's tries: each failed condition returns the item that
// failed it, which decides the next try, so only a name changing hands on every try needs
// more than two.
const leaseRounds = 4

// AcquireLease implements batch.LeaseStore with conditional writes, each atomic in DynamoDB:
// a renewal is an UpdateItem on condition owner = :me (it leaves since as stored); taking
// a free or expired name is a PutItem on condition attribute_not_exists OR expires <= :now.
// Both return the item they replaced (ReturnValues ALL_OLD) or, failing their condition,
// the item that failed it (ReturnValuesOnConditionCheckFailure ALL_OLD), which picks the
// next step: our own lease is renewed, a free or expired one taken, another owner's live
// one is *batch.LeaseHeld.
func (s *Store) AcquireLease(ctx context.Context, l batch.Lease, now time.Time) (*batch.Lease, error) {
	if l.Name == "" || l.Owner == "" {
		return nil, fmt.Errorf("dynamostore: acquire lease %q for %q: name and owner are required", l.Name, l.Owner)
	}
	item := toLeaseItem(l)
	write := s.renewLease
	for range leaseRounds {
		old, err := write(ctx, item, now)
		if !isConditionFailed(err) {
			if err != nil {
				return nil, fmt.Errorf("dynamostore: acquire lease %q for %q: %w", l.Name, l.Owner, err)
			}
			return decodeLease(old)
		}
		cur, err := decodeLease(conditionFailedItem(err))
		switch {
		case err != nil:
			return nil, err
		case cur != nil && cur.Owner == l.Owner:
			write = s.renewLease
		case cur != nil && cur.Expires.After(now):
			return nil, fmt.Errorf("dynamostore: acquire lease %q for %q: %w", l.Name, l.Owner, &batch.LeaseHeld{Lease: *cur})
		default: // free or expired
			write = s.takeLease
		}
	}
	return nil, fmt.Errorf("dynamostore: acquire lease %q for %q: changed hands on each of %d tries", l.Name, l.Owner, leaseRounds)
}

// RenewLease implements batch.LeaseStore: the UpdateItem on condition owner = :me that
// AcquireLease renews with, and no taking over when it fails.
func (s *Store) RenewLease(ctx context.Context, l batch.Lease) error {
	_, err := s.renewLease(ctx, toLeaseItem(l), time.Time{})
	if !isConditionFailed(err) {
		if err != nil {
			return fmt.Errorf("dynamostore: renew lease %q for %q: %w", l.Name, l.Owner, err)
		}
		return nil
	}
	cur, err := decodeLease(conditionFailedItem(err))
	switch {
	case err != nil:
		return err
	case cur == nil:
		return fmt.Errorf("dynamostore: renew lease %q for %q: %w", l.Name, l.Owner, batch.ErrNotFound)
	default:
		return fmt.Errorf("dynamostore: renew lease %q for %q: %w", l.Name, l.Owner, &batch.LeaseHeld{Lease: *cur})
	}
}

// renewLease replaces holder, expires and data of the lease if it is item.Owner's,
// returning the item as it was; a failed condition is returned as the SDK's error.
func (s *Store) renewLease(ctx context.Context, item leaseItem, _ time.Time) (map[string]types.AttributeValue, error) {
	update := expression.Set(expression.Name(attrHolder), expression.Value(item.Holder)).
		Set(expression.Name(attrExpires), expression.Value(item.Expires)).
		Set(expression.Name(attrExpiresAt), expression.Value(item.ExpiresAt))
	if item.Data != "" {
		update = update.Set(expression.Name(attrData), expression.Value(item.Data))
	} else {
		update = update.Remove(expression.Name(attrData))
	}
	expr, err := expression.NewBuilder().WithUpdate(update).
		WithCondition(expression.Name(attrOwner).Equal(expression.Value(item.Owner))).Build()
	if err != nil {
		return nil, err
	}
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           aws.String(s.tables.Lookups),
		Key:                                 leaseKey(item.Name),
		UpdateExpression:                    expr.Update(),
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValues:                        types.ReturnValueAllOld,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err != nil {
		return nil, err
	}
	return out.Attributes, nil
}

// takeLease puts item if the name is free or its lease expired at now, returning the item
// it replaced; a failed condition is returned as the SDK's error.
func (s *Store) takeLease(ctx context.Context, item leaseItem, now time.Time) (map[string]types.AttributeValue, error) {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return nil, err
	}
	cond := expression.AttributeNotExists(expression.Name(attrJobChunk)).
		Or(expression.Name(attrExpires).LessThanEqual(expression.Value(formatTime(now))))
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return nil, err
	}
	out, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(s.tables.Lookups),
		Item:                                av,
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValues:                        types.ReturnValueAllOld,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err != nil {
		return nil, err
	}
	return out.Attributes, nil
}

// ReleaseLease implements batch.LeaseStore with a DeleteItem on condition owner = :owner;
// a failed condition (another owner's lease, or none) is no error.
func (s *Store) ReleaseLease(ctx context.Context, name, owner string) error {
	expr, err := expression.NewBuilder().
		WithCondition(expression.Name(attrOwner).Equal(expression.Value(owner))).Build()
	if err == nil {
		_, err = s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName:                 aws.String(s.tables.Lookups),
			Key:                       leaseKey(name),
			ConditionExpression:       expr.Condition(),
			ExpressionAttributeNames:  expr.Names(),
			ExpressionAttributeValues: expr.Values(),
		})
	}
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("dynamostore: release lease %q of %q: %w", name, owner, err)
	}
	return nil
}

// GetLease implements batch.LeaseStore with a consistent read.
func (s *Store) GetLease(ctx context.Context, name string) (batch.Lease, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.tables.Lookups),
		Key:            leaseKey(name),
		ConsistentRead: consistent,
	})
	if err != nil {
		return batch.Lease{}, fmt.Errorf("dynamostore: get lease %q: %w", name, err)
	}
	l, err := decodeLease(out.Item)
	switch {
	case err != nil:
		return batch.Lease{}, err
	case l == nil:
		return batch.Lease{}, notFound("lease", name)
	}
	return *l, nil
}
