package dynamostore

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// upsert describes a create-or-update of one item whose update must keep some stored
// attributes (a lead's created_at and status, a record's created_at).
type upsert struct {
	table string
	key   map[string]types.AttributeValue
	item  map[string]types.AttributeValue // the full item, as created
	// keep are attributes an update leaves as stored.
	keep []string
	// onUpdate replaces item's values of these attributes when the item exists.
	onUpdate map[string]types.AttributeValue
	// attributes are every attribute the item type can have: those absent from item are
	// removed on update, so a field the caller cleared is cleared in the table too.
	attributes []string
}

// run puts the item if its key is free (created is true), else updates the existing item in
// place with one UpdateItem. Both steps are conditional and atomic, so of several
// concurrent calls exactly one creates.
func (u upsert) run(ctx context.Context, client *dynamodb.Client) (created bool, err error) {
	created, err = u.create(ctx, client)
	if created || err != nil {
		return created, err
	}
	return false, u.update(ctx, client)
}

func (u upsert) create(ctx context.Context, client *dynamodb.Client) (bool, error) {
	return putIf(ctx, client, u.table, u.item, notExists(u.key))
}

func (u upsert) update(ctx context.Context, client *dynamodb.Client) error {
	expr, err := expression.NewBuilder().
		WithUpdate(u.updateBuilder()).
		WithCondition(exists(u.key)).Build()
	if err != nil {
		return err
	}
	_, err = client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(u.table),
		Key:                       u.key,
		UpdateExpression:          expr.Update(),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	})
	if isConditionFailed(err) {
		return fmt.Errorf("item vanished between create and update: %w", err)
	}
	return err
}

// updateBuilder SETs every non-key attribute except keep (onUpdate values win) and REMOVEs
// the known attributes the item lacks. Attributes go in sorted order for stable requests.
func (u upsert) updateBuilder() expression.UpdateBuilder {
	values := make(map[string]types.AttributeValue, len(u.item)+len(u.onUpdate))
	for name, av := range u.item {
		values[name] = av
	}
	for name, av := range u.onUpdate {
		values[name] = av
	}
	skip := func(name string) bool {
		_, isKey := u.key[name]
		return isKey || slices.Contains(u.keep, name)
	}
	var b expression.UpdateBuilder
	for _, name := range slices.Sorted(maps.Keys(values)) {
		if !skip(name) {
			b = b.Set(expression.Name(name), expression.Value(values[name]))
		}
	}
	for _, name := range u.attributes {
		if _, ok := values[name]; !ok && !skip(name) {
			b = b.Remove(expression.Name(name))
		}
	}
	return b
}

// notExists is attribute_not_exists on the key's first attribute: true when no item has key.
func notExists(key map[string]types.AttributeValue) expression.ConditionBuilder {
	return expression.AttributeNotExists(expression.Name(firstKey(key)))
}

// exists is attribute_exists on the key's first attribute: true when the item is there.
func exists(key map[string]types.AttributeValue) expression.ConditionBuilder {
	return expression.AttributeExists(expression.Name(firstKey(key)))
}

func firstKey(key map[string]types.AttributeValue) string {
	return slices.Sorted(maps.Keys(key))[0]
}

// attributeNames lists the attribute names an item struct's dynamodbav tags declare.
func attributeNames(item any) []string {
	t := reflect.TypeOf(item)
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("dynamodbav")
		if name, _, _ := strings.Cut(tag, ","); name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}
