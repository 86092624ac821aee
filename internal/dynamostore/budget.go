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

	"github.com/leadflow/attom-batch/internal/budget"
)

// budgetTTL is how long a day's counter is kept after the day: long enough for monthly
// spend reports, then DynamoDB deletes it.
const budgetTTL = 90 * 24 * time.Hour

// Budget attribute names. used_cents is reserved_cents + spent_cents kept as one number,
// because a DynamoDB condition cannot add two attributes: Reserve's condition compares it
// with cap - ask.
const (
	attrUsedCents     = "used_cents"
	attrReservedCents = "reserved_cents"
	attrSpentCents    = "spent_cents"
	attrCapCents      = "cap_cents"
)

// budgetItem is one UTC day's counter in the budget table.
type budgetItem struct {
	Day           string `dynamodbav:"day"`
	CapCents      int64  `dynamodbav:"cap_cents"` // the cap when the day was first reserved on
	UsedCents     int64  `dynamodbav:"used_cents"`
	ReservedCents int64  `dynamodbav:"reserved_cents"`
	SpentCents    int64  `dynamodbav:"spent_cents"`
	ExpiresAt     int64  `dynamodbav:"expires_at"`
}

// key is the item's primary key.
func (it budgetItem) key() map[string]types.AttributeValue { return stringKey(attrDay, it.Day) }

// Budget is the daily cap on DynamoDB: one counter item per UTC day, changed only by
// conditional atomic UpdateItem calls, so any number of concurrent Lambdas never reserve
// past the cap.
type Budget struct {
	client   *dynamodb.Client
	table    string
	capCents int64
}

var _ budget.Budget = (*Budget)(nil)

// Budget returns the store's budget with every day capped at capCents.
func (s *Store) Budget(capCents int64) *Budget {
	return &Budget{client: s.client, table: s.tables.Budget, capCents: capCents}
}

// Reserve implements budget.Budget with one UpdateItem: ADD the ask to used_cents and
// reserved_cents on condition that used_cents (absent on a fresh day) is at most cap - ask.
// A refusal returns *budget.Exhausted with the counter the condition saw.
func (b *Budget) Reserve(ctx context.Context, day string, cents int64) error {
	if err := budget.CheckAmounts(day, cents, 0); err != nil {
		return err
	}
	if cents > b.capCents {
		u, err := b.Usage(ctx, day)
		if err != nil {
			return err
		}
		return b.exhausted(day, u.ReservedCents+u.SpentCents, cents)
	}
	used := expression.Name(attrUsedCents)
	update := expression.
		Add(used, expression.Value(cents)).
		Add(expression.Name(attrReservedCents), expression.Value(cents)).
		Set(expression.Name(attrCapCents), expression.IfNotExists(expression.Name(attrCapCents), expression.Value(b.capCents))).
		Set(expression.Name(attrExpiresAt), expression.IfNotExists(expression.Name(attrExpiresAt), expression.Value(dayExpiry(day))))
	fits := expression.AttributeNotExists(used).Or(used.LessThanEqual(expression.Value(b.capCents - cents)))
	expr, err := expression.NewBuilder().WithUpdate(update).WithCondition(fits).Build()
	if err != nil {
		return fmt.Errorf("dynamostore: reserve %d cents on %s: %w", cents, day, err)
	}
	err = b.updateDay(ctx, day, expr)
	if isConditionFailed(err) {
		var seen budgetItem
		if err := attributevalue.UnmarshalMap(conditionFailedItem(err), &seen); err != nil {
			return fmt.Errorf("dynamostore: reserve on %s: decode refused counter: %w", day, err)
		}
		return b.exhausted(day, seen.UsedCents, cents)
	}
	if err != nil {
		return fmt.Errorf("dynamostore: reserve %d cents on %s: %w", cents, day, err)
	}
	return nil
}

// updateDay applies a conditional update to the day's counter item; a refused condition
// returns the item as it was, for the caller's error.
func (b *Budget) updateDay(ctx context.Context, day string, expr expression.Expression) error {
	_, err := b.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           aws.String(b.table),
		Key:                                 budgetItem{Day: day}.key(),
		UpdateExpression:                    expr.Update(),
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	return err
}

func (b *Budget) exhausted(day string, used, ask int64) *budget.Exhausted {
	return &budget.Exhausted{Day: day, CapCents: b.capCents, UsedCents: used, AskCents: ask}
}

// Settle implements budget.Budget with one UpdateItem: reserved drops by reservedCents,
// spent grows by spentCents and used by their difference (negative: the refund). It refuses
// to settle more than is reserved, which would hand out cents nobody reserved.
func (b *Budget) Settle(ctx context.Context, day string, reservedCents, spentCents int64) error {
	if err := budget.CheckAmounts(day, reservedCents, spentCents); err != nil {
		return err
	}
	if reservedCents == 0 {
		return nil // and so spentCents is 0 too: nothing to do
	}
	reserved := expression.Name(attrReservedCents)
	update := expression.
		Add(reserved, expression.Value(-reservedCents)).
		Add(expression.Name(attrSpentCents), expression.Value(spentCents)).
		Add(expression.Name(attrUsedCents), expression.Value(spentCents-reservedCents))
	enough := reserved.GreaterThanEqual(expression.Value(reservedCents))
	expr, err := expression.NewBuilder().WithUpdate(update).WithCondition(enough).Build()
	if err != nil {
		return fmt.Errorf("dynamostore: settle on %s: %w", day, err)
	}
	err = b.updateDay(ctx, day, expr)
	if isConditionFailed(err) {
		var seen budgetItem
		_ = attributevalue.UnmarshalMap(conditionFailedItem(err), &seen)
		return fmt.Errorf("dynamostore: settle %s: %d cents reserved, asked to settle %d", day, seen.ReservedCents, reservedCents)
	}
	if err != nil {
		return fmt.Errorf("dynamostore: settle on %s: %w", day, err)
	}
	return nil
}

// Usage implements budget.Budget with a consistent read; a day nobody reserved on reads as
// zero against the cap.
func (b *Budget) Usage(ctx context.Context, day string) (budget.Usage, error) {
	if err := budget.CheckAmounts(day, 0, 0); err != nil {
		return budget.Usage{}, err
	}
	out, err := b.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(b.table),
		Key:            budgetItem{Day: day}.key(),
		ConsistentRead: consistent,
	})
	if err != nil {
		return budget.Usage{}, fmt.Errorf("dynamostore: budget usage of %s: %w", day, err)
	}
	var it budgetItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return budget.Usage{}, fmt.Errorf("dynamostore: budget usage of %s: %w", day, err)
	}
	return budget.Usage{Day: day, CapCents: b.capCents, ReservedCents: it.ReservedCents, SpentCents: it.SpentCents}, nil
}

// dayExpiry is when a day's counter may go: budgetTTL after the day ends, in unix seconds.
func dayExpiry(day string) int64 {
	d, _ := budget.ParseDay(day) // CheckAmounts has validated it
	return d.Add(24*time.Hour + budgetTTL).Unix()
}
