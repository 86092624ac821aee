package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
)

// Bucket prefixes (the blob layout of internal/batch).
const (
	PrefixIncoming = "incoming/"
	PrefixBatches  = "batches/"
	PrefixExports  = "exports/"
	// PrefixImports is where other sources' lists are dropped (imports/<source>/<file>.csv,
	// batch.ImportsPrefix); PrefixImportResults holds each import's rejected rows
	// (batch.ImportRejectsKey).
	PrefixImports       = "imports/"
	PrefixImportResults = "import-results/"
)

// Retention of the bucket's working data. Chunks and per-chunk results are only needed
// until a job is processed and re-driven if it failed; exports are what people download.
const (
	batchesExpireDays     = 30
	exportsExpireDays     = 90
	noncurrentExpireDays  = 7
	accessLogsExpireDays  = 90
	incompleteUploadsDays = 1
)

// newAccessLogBucket receives the data bucket's server access logs (cdk-nag S1). Access logs
// need SSE-S3, and the bucket cannot log to itself (see the suppression in nag.go).
func newAccessLogBucket(stack awscdk.Stack) awss3.Bucket {
	return awss3.NewBucket(stack, jsii.String("AccessLogBucket"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:         jsii.String("expire-access-logs"),
			Expiration: awscdk.Duration_Days(jsii.Number(accessLogsExpireDays)),
		}},
	})
}

// newDataBucket holds uploads (incoming/), job working files (batches/) and exports
// (exports/). EventBridge notifications start the pipeline; versioning keeps an overwritten
// upload's history, and each version has its own ETag, hence its own job id.
func newDataBucket(stack awscdk.Stack, logs awss3.Bucket) awss3.Bucket {
	return awss3.NewBucket(stack, jsii.String("DataBucket"), &awss3.BucketProps{
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:             jsii.Bool(true),
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:              jsii.Bool(true),
		EventBridgeEnabled:     jsii.Bool(true),
		ServerAccessLogsBucket: logs,
		ServerAccessLogsPrefix: jsii.String("data-bucket/"),
		RemovalPolicy:          awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{
			{
				Id:         jsii.String("expire-batches"),
				Prefix:     jsii.String(PrefixBatches),
				Expiration: awscdk.Duration_Days(jsii.Number(batchesExpireDays)),
			},
			{
				Id:         jsii.String("expire-exports"),
				Prefix:     jsii.String(PrefixExports),
				Expiration: awscdk.Duration_Days(jsii.Number(exportsExpireDays)),
			},
			{
				Id:                                  jsii.String("expire-noncurrent-versions"),
				NoncurrentVersionExpiration:         awscdk.Duration_Days(jsii.Number(noncurrentExpireDays)),
				AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(incompleteUploadsDays)),
				ExpiredObjectDeleteMarker:           jsii.Bool(true),
			},
		},
	})
}

// tableSpec is one DynamoDB table: its key, optional sort key, TTL attribute and indexes.
type tableSpec struct {
	id          string
	partition   string
	sort        string
	ttl         string
	globalIndex []indexSpec
}

// indexSpec is one GSI. KEYS_ONLY indexes on properties keep each property write cheap
// (property items carry the raw ATTOM data, often several KB, and an ALL projection would
// copy it per index): readers query the index for ids, then BatchGetItem.
type indexSpec struct {
	name       string
	partition  string
	sort       string
	sortType   awsdynamodb.AttributeType
	projection awsdynamodb.ProjectionType
}

// TTLAttribute is the epoch-seconds attribute DynamoDB expires items by.
const TTLAttribute = "expires_at"

func tableSpecs() (jobs, properties, leads, lookups, budget tableSpec) {
	str := awsdynamodb.AttributeType_STRING
	jobs = tableSpec{id: "JobsTable", partition: "id", globalIndex: []indexSpec{
		// listJobs, newest first: gsi_pk is the constant "JOB" (jobs are few, so one
		// partition is fine).
		{"by_created", "gsi_pk", "created_at", str, awsdynamodb.ProjectionType_ALL},
	}}
	properties = tableSpec{id: "PropertiesTable", partition: "id", globalIndex: []indexSpec{
		{"by_hash", "property_hash", "", "", awsdynamodb.ProjectionType_KEYS_ONLY},
		// The refresh's stale-record selection: oldest updated_at first.
		{"by_updated", "gsi_pk", "updated_at", str, awsdynamodb.ProjectionType_KEYS_ONLY},
	}}
	leads = tableSpec{id: "LeadsTable", partition: "id", globalIndex: []indexSpec{
		{"by_batch", "batch_id", "score", awsdynamodb.AttributeType_NUMBER, awsdynamodb.ProjectionType_ALL},
	}}
	lookups = tableSpec{id: "LookupsTable", partition: "job_chunk", sort: "key", ttl: TTLAttribute}
	budget = tableSpec{id: "BudgetTable", partition: "day", ttl: TTLAttribute}
	return
}

// newTable builds an on-demand, encrypted, point-in-time-recoverable table that outlives
// the stack (RETAIN): jobs, properties and leads are the product, not scratch.
func newTable(stack awscdk.Stack, spec tableSpec) awsdynamodb.Table {
	props := &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String(spec.partition), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Encryption:   awsdynamodb.TableEncryption_AWS_MANAGED,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	}
	if spec.sort != "" {
		props.SortKey = &awsdynamodb.Attribute{Name: jsii.String(spec.sort), Type: awsdynamodb.AttributeType_STRING}
	}
	if spec.ttl != "" {
		props.TimeToLiveAttribute = jsii.String(spec.ttl)
	}
	table := awsdynamodb.NewTable(stack, jsii.String(spec.id), props)
	for _, ix := range spec.globalIndex {
		gsi := &awsdynamodb.GlobalSecondaryIndexProps{
			IndexName:      jsii.String(ix.name),
			PartitionKey:   &awsdynamodb.Attribute{Name: jsii.String(ix.partition), Type: awsdynamodb.AttributeType_STRING},
			ProjectionType: ix.projection,
		}
		if ix.sort != "" {
			gsi.SortKey = &awsdynamodb.Attribute{Name: jsii.String(ix.sort), Type: ix.sortType}
		}
		table.AddGlobalSecondaryIndex(gsi)
	}
	return table
}
