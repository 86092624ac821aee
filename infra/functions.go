package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
)

// Function names: each is a folder under the lambda directory (build/lambdas/<name>/bootstrap)
// and a package under functions/<name>.
const (
	FnPrepare     = "prepare"
	FnSubmit      = "submit"
	FnPoll        = "poll"
	FnResume      = "resume"
	FnDownload    = "download"
	FnProcess     = "process"
	FnLeads       = "leads"
	FnComplete    = "complete"
	FnFail        = "fail"
	FnLookupChunk = "lookupchunk"
	FnRefresh     = "refresh"
	FnImport      = "import"
	FnStart       = "start"
)

// functionSpec sizes one Lambda. Memory also buys CPU (1,769 MB = one vCPU), so CPU-bound
// steps get more; steps that only call one AWS API stay small.
type functionSpec struct {
	name           string
	description    string
	memoryMB       float64
	timeoutSeconds float64
	// reservedConcurrency caps concurrent invocations; 0 leaves the account pool.
	reservedConcurrency int
}

// functionSpecs lists every Lambda with the reason for its size.
func functionSpecs(s Settings) []functionSpec {
	return []functionSpec{
		// Streams the uploaded CSV, normalizes every address and writes chunk files: CPU-bound
		// and linear in the file (a million rows is minutes), so a full vCPU and 10 minutes.
		{FnPrepare, "createBatchRequest: validate, normalize and chunk an uploaded CSV", 1769, 600, 0},
		// Submit, poll, resume, complete and fail make a handful of DynamoDB and Step Functions
		// calls: the smallest useful size, and 30 s covers SDK retries.
		{FnSubmit, "submitBatchRequest: start the lookup workflow", 256, 30, 0},
		{FnPoll, "checkBatchStatus: read the lookup workflow and the job counters", 256, 30, 0},
		{FnResume, "restart the lookup workflow after the daily cap reset", 256, 30, 0},
		// Concatenates up to ~10,000 chunk result objects into one results file: streaming I/O
		// with many S3 GETs, 1 GB for network throughput and the full 15 minutes.
		{FnDownload, "downloadBatchResults: assemble chunk results into one file", 1024, 900, 0},
		// Builds the unified model and writes property records: one segment of ~2,000
		// addresses per invocation (batch.SegmentChunks), ~2 minutes at DynamoDB's write
		// latency; the state machine loops until every segment is done.
		{FnProcess, "processBatchResults: unified model, dedupe and merge", 1769, 900, 0},
		// Scores distress and writes one lead per property plus its part of the CSV export,
		// one segment per invocation like process; the last one joins the parts.
		{FnLeads, "score distress and write one lead per property", 1024, 900, 0},
		{FnComplete, "mark a job complete with its counts", 256, 30, 0},
		{FnFail, "mark a job failed and keep its error for a re-drive", 256, 30, 0},
		// Waits on ATTOM's rate far more than it computes, so little memory. A chunk of 100
		// addresses at 200 calls/min takes ~30 s per endpoint; 5 minutes leaves room for a
		// few endpoints and 429/5xx back-off, well inside Lambda's 15-minute ceiling
		// (Settings.Validate rejects chunk sizes that would not fit in half of it).
		// Its reserved concurrency is lookupConcurrency: see configureLookupFunction.
		{FnLookupChunk, "look up one chunk of addresses at ATTOM within the rate and the daily cap", 256, LookupTimeoutSeconds, s.LookupConcurrency},
		// Queries the by_updated index for stale records and writes one refresh CSV.
		{FnRefresh, "select stale property records and drop a refresh file into incoming/", 512, 300, 0},
		// Streams one list dropped under imports/<source>/ through processProperty: a few
		// DynamoDB calls per row, so latency-bound; 15 minutes is ~50,000 rows.
		{FnImport, "merge a list dropped under imports/<source>/ into the property records and leads (no ATTOM call)", 512, 900, 0},
		// One StartExecution per upload, named after the job: the smallest size.
		{FnStart, "start the pipeline for a CSV created under incoming/, named after its job", 256, 30, 0},
	}
}

// newFunction builds one Go Lambda from its prebuilt bootstrap. It gets its own role with no
// managed policy (only write access to its own log group) and its own log group, so every
// permission it has is one granted below by name.
func newFunction(stack awscdk.Stack, s Settings, spec functionSpec, env map[string]*string) awslambda.Function {
	id := functionID(spec.name)
	logGroup := awslogs.NewLogGroup(stack, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_MONTH,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	role := awsiam.NewRole(stack, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("attom-batch " + spec.name + " function"),
	})
	logGroup.GrantWrite(role)
	props := &awslambda.FunctionProps{
		Description:   jsii.String(spec.description),
		Code:          awslambda.Code_FromAsset(jsii.String(filepath.Join(s.LambdaDir, spec.name)), nil),
		Handler:       jsii.String("bootstrap"),
		Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:  awslambda.Architecture_ARM_64(),
		MemorySize:    jsii.Number(spec.memoryMB),
		Timeout:       awscdk.Duration_Seconds(jsii.Number(spec.timeoutSeconds)),
		LoggingFormat: awslambda.LoggingFormat_JSON,
		LogGroup:      logGroup,
		Role:          role,
		Environment:   &env,
		// The Step Functions Retry blocks own retries of synchronous invocations; only the
		// scheduled refresh, the import and the start function are invoked asynchronously
		// (see newRefreshSchedule, newImportRule and newUploadRule).
	}
	if spec.reservedConcurrency > 0 {
		props.ReservedConcurrentExecutions = jsii.Number(float64(spec.reservedConcurrency))
	}
	return awslambda.NewFunction(stack, jsii.String(id), props)
}

// CheckBootstraps reports every function whose bootstrap binary is missing, before CDK
// fails on the first missing asset with a less helpful message.
func CheckBootstraps(s Settings) error {
	var missing []string
	for _, spec := range functionSpecs(s) {
		path := filepath.Join(s.LambdaDir, spec.name, "bootstrap")
		if info, err := os.Stat(path); err != nil || info.IsDir() {
			missing = append(missing, path)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing Lambda bootstrap binaries (run `make lambdas`, or set context %s): %s",
			CtxLambdaDir, strings.Join(missing, ", "))
	}
	return nil
}

// functionID is the construct id of a function ("lookupchunk" -> "LookupChunkFunction").
func functionID(name string) string {
	return strings.TrimSuffix(functionSubstitution(name), "Arn")
}

// baseEnvironment is what every function reads through internal/config. Names, never
// secrets: the ATTOM key stays in SSM and only its parameter name is passed.
func baseEnvironment(s Settings, r *resources) map[string]*string {
	return map[string]*string{
		"ATTOM_BATCH_BACKEND":          jsii.String("aws"),
		"ATTOM_BATCH_BUCKET":           r.bucket.BucketName(),
		"ATTOM_BATCH_JOBS_TABLE":       r.jobs.TableName(),
		"ATTOM_BATCH_PROPERTIES_TABLE": r.properties.TableName(),
		"ATTOM_BATCH_LEADS_TABLE":      r.leads.TableName(),
		"ATTOM_BATCH_LOOKUPS_TABLE":    r.lookups.TableName(),
		"ATTOM_BATCH_BUDGET_TABLE":     r.budget.TableName(),
		"ATTOM_API_KEY_PARAMETER":      jsii.String(s.ATTOMAPIKeyParameter),
		"DAILY_CAP_ATTOM_CENTS":        jsii.String(strconv.Itoa(s.DailyCapCents)),
		// Each lookup function's share of the key's rate; see Settings.PerFunctionRatePerMinute.
		"ATTOM_RATE_PER_MINUTE":       jsii.String(strconv.Itoa(s.PerFunctionRatePerMinute())),
		"ATTOM_BASE_URL":              jsii.String(s.ATTOMBaseURL),
		"ATTOM_BATCH_CHUNK_SIZE":      jsii.String(strconv.Itoa(s.ChunkSize)),
		"ATTOM_BATCH_MAP_CONCURRENCY": jsii.String(strconv.Itoa(s.LookupConcurrency)),
	}
}

// functionsUsingLookupMachine get ATTOM_BATCH_LOOKUP_STATE_MACHINE_ARN.
var functionsUsingLookupMachine = []string{FnSubmit, FnPoll, FnResume}
