package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute and index names shared with the CDK stack (infra), which must create the same.
const (
	attrID           = "id"
	attrGSIPK        = "gsi_pk"
	attrCreatedAt    = "created_at"
	attrUpdatedAt    = "updated_at"
	attrPropertyHash = "property_hash"
	attrBatchID      = "batch_id"
	attrScore        = "score"
	attrJobChunk     = "job_chunk"
	attrKey          = "key"
	attrDay          = "day"
	attrExpiresAt    = "expires_at"
	indexByCreated   = "by_created"
	indexByHash      = "by_hash"
	indexByUpdated   = "by_updated"
	indexByBatch     = "by_batch"
	gsiPKJob         = "JOB" // every job shares this by_created partition
	gsiPKRecord      = "REC" // every property record shares this by_updated partition
	tableActiveWait  = 2 * time.Minute
	tableActivePoll  = time.Second
)

// CreateTables creates the five tables with on-demand billing, their indexes and TTL, as
// the CDK stack does, for tests and the local cloud. It is idempotent: a table that exists
// is left as it is (ResourceInUseException) and TTL already on is not switched again.
func CreateTables(ctx context.Context, client *dynamodb.Client, tables Tables) error {
	if err := tables.Validate(); err != nil {
		return err
	}
	for _, in := range tableDefinitions(tables) {
		if err := createTable(ctx, client, in); err != nil {
			return err
		}
	}
	for _, name := range []string{tables.Lookups, tables.Budget} {
		if err := enableTTL(ctx, client, name); err != nil {
			return err
		}
	}
	return nil
}

// tableDefinitions is the schema, the same as the CDK stack's: keys, indexes and on-demand
// billing. The jobs and leads indexes project every attribute (their queries return whole
// items); the properties indexes project keys only, keeping the large raw_data and unified
// payloads out of them, and queryRecords reads the records after.
func tableDefinitions(t Tables) []*dynamodb.CreateTableInput {
	all, keysOnly := types.ProjectionTypeAll, types.ProjectionTypeKeysOnly
	return []*dynamodb.CreateTableInput{
		table(t.Jobs, keys(attrID, ""), gsi(indexByCreated, attrGSIPK, attrCreatedAt, all)),
		table(t.Properties, keys(attrID, ""),
			gsi(indexByHash, attrPropertyHash, "", keysOnly),
			gsi(indexByUpdated, attrGSIPK, attrUpdatedAt, keysOnly)),
		table(t.Leads, keys(attrID, ""), gsi(indexByBatch, attrBatchID, attrScore, all)),
		table(t.Lookups, keys(attrJobChunk, attrKey)),
		table(t.Budget, keys(attrDay, "")),
	}
}

// attrTypes gives each key attribute's scalar type; score is the only number.
var attrTypes = map[string]types.ScalarAttributeType{attrScore: types.ScalarAttributeTypeN}

func keys(hash, rangeKey string) []types.KeySchemaElement {
	ks := []types.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash}}
	if rangeKey != "" {
		ks = append(ks, types.KeySchemaElement{AttributeName: aws.String(rangeKey), KeyType: types.KeyTypeRange})
	}
	return ks
}

func gsi(name, hash, rangeKey string, projection types.ProjectionType) types.GlobalSecondaryIndex {
	return types.GlobalSecondaryIndex{
		IndexName:  aws.String(name),
		KeySchema:  keys(hash, rangeKey),
		Projection: &types.Projection{ProjectionType: projection},
	}
}

func table(name string, key []types.KeySchemaElement, indexes ...types.GlobalSecondaryIndex) *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		KeySchema:   key,
		BillingMode: types.BillingModePayPerRequest,
	}
	if len(indexes) > 0 {
		in.GlobalSecondaryIndexes = indexes
	}
	seen := map[string]bool{}
	in.AttributeDefinitions = appendDefinitions(in.AttributeDefinitions, seen, key)
	for _, ix := range indexes {
		in.AttributeDefinitions = appendDefinitions(in.AttributeDefinitions, seen, ix.KeySchema)
	}
	return in
}

// appendDefinitions declares each key attribute once (DynamoDB refuses duplicates and
// attributes that no key uses).
func appendDefinitions(defs []types.AttributeDefinition, seen map[string]bool, ks []types.KeySchemaElement) []types.AttributeDefinition {
	for _, k := range ks {
		name := aws.ToString(k.AttributeName)
		if seen[name] {
			continue
		}
		seen[name] = true
		typ, ok := attrTypes[name]
		if !ok {
			typ = types.ScalarAttributeTypeS
		}
		defs = append(defs, types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: typ})
	}
	return defs
}

// createTable creates one table and waits until it is active; an existing table is fine.
func createTable(ctx context.Context, client *dynamodb.Client, in *dynamodb.CreateTableInput) error {
	name := aws.ToString(in.TableName)
	_, err := client.CreateTable(ctx, in)
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("dynamostore: create table %s: %w", name, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = tableActivePoll, 5*tableActivePoll
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName}, tableActiveWait); err != nil {
		return fmt.Errorf("dynamostore: table %s not active: %w", name, err)
	}
	return nil
}

// enableTTL turns on expiry by the expires_at attribute unless it is already on.
func enableTTL(ctx context.Context, client *dynamodb.Client, name string) error {
	desc, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("dynamostore: describe TTL of %s: %w", name, err)
	}
	if d := desc.TimeToLiveDescription; d != nil && (d.TimeToLiveStatus == types.TimeToLiveStatusEnabled || d.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(attrExpiresAt),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("dynamostore: enable TTL on %s: %w", name, err)
	}
	return nil
}
