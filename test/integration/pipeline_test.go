//go:build integration

package integration

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/leadflow/attom-batch/internal/batch"
)

// e2eRows is an upload with what real lists hold: 12 distinct addresses, two of them again
// in another spelling (duplicates), and three rows that cannot be looked up.
func e2eRows() []byte {
	rows := addresses("Lakeview Drive", 12)
	rows = append(rows,
		"100 Lakeview Dr,Springfield,IL,62704,again",         // duplicate of the first row
		"102 LAKEVIEW DRIVE,springfield,il,62704,again",      // duplicate of the second
		"PO Box 77,Springfield,IL,62704,po box",              // rejected: not a property
		",Springfield,IL,62704,no street",                    // rejected: no address
		"300 Lakeview Drive,Springfield,ZZ,99999999,bad zip", // rejected: bad state and ZIP
	)
	return csvFile(rows...)
}

// TestUploadRunsThePipelineEndToEnd drops a CSV under incoming/, starts the pipeline with the
// event EventBridge would send for it, and checks everything the run leaves: the job, the
// property records and leads in DynamoDB, the results and export in S3, and ATTOM's bill.
func TestUploadRunsThePipelineEndToEnd(t *testing.T) {
	body := e2eRows()
	event := suite.upload(t, "incoming/it-end-to-end.csv", body, nil) // no CLI options: EventBridge's shape
	id := jobID(t, event)
	billedBefore := len(suite.sim.Ledger())

	exec := suite.runPipeline(t, uniqueName("end-to-end"), event)
	if exec.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: %s %s (path %v)", exec.ARN, exec.Error, exec.Cause, exec.Path)
	}
	path, running := withoutRunningPolls(exec.Path)
	if !slices.Equal(path, happyPath) {
		t.Errorf("path %v (%d running polls left out), want %v", path, running, happyPath)
	}

	job := suite.job(t, id)
	t.Logf("job %s: rows %d, rejected %d, duplicates %d, found %d, not found %d, errors %d, leads %d, spent %d cents",
		job.ID, job.RecordCount, job.RejectedRecords, job.DuplicateRecords, job.RecordsFound, job.NotFoundRecords,
		job.ErrorRecords, job.LeadsCreated, job.CostSpentCents)
	checkCounts(t, job)
	if job.Status != batch.StatusCompleted || job.RecordCount != 17 || job.RejectedRecords != 3 ||
		job.DuplicateRecords != 2 || job.UniqueRecords != 12 || job.ErrorRecords != 0 {
		t.Fatalf("job %+v", job)
	}
	if job.RecordsFound == 0 || job.RecordsFound+job.NotFoundRecords != 12 {
		t.Fatalf("found %d + not found %d, want 12 looked up (some found)", job.RecordsFound, job.NotFoundRecords)
	}
	if !job.WantLeads || job.LeadsCreated != job.RecordsFound {
		t.Errorf("leads created %d (want_leads %t), want one per found property (%d)", job.LeadsCreated, job.WantLeads, job.RecordsFound)
	}
	if want := "arn:aws:states:us-east-1:123456789012:execution:" + pipelineName + ":"; !strings.HasPrefix(job.ExecutionID, want) {
		t.Errorf("job execution_id %q, want this pipeline execution", job.ExecutionID)
	}
	checkLookupExecution(t, job)
	checkLeadsAndRecords(t, job)
	checkFiles(t, job)
	checkBill(t, job, billedBefore)
}

// checkLookupExecution reads the lookup workflow the job ran (external_batch_id) on moto.
func checkLookupExecution(t *testing.T, job batch.Job) {
	t.Helper()
	if !strings.Contains(job.ExternalBatchID, ":execution:"+lookupName+":") {
		t.Fatalf("external_batch_id %q is not an %s execution", job.ExternalBatchID, lookupName)
	}
	d, err := suite.sfn.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(job.ExternalBatchID)})
	if err != nil || d.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("lookup execution %s: %v %v", job.ExternalBatchID, d, err)
	}
	if job.ChunkCount != 3 || job.ChunksDone != 3 {
		t.Errorf("chunks %d, done %d; want 12 addresses in 3 chunks of 5", job.ChunkCount, job.ChunksDone)
	}
}

// checkLeadsAndRecords finds one lead per found property in DynamoDB, each with its
// property records.
func checkLeadsAndRecords(t *testing.T, job batch.Job) {
	t.Helper()
	ctx := context.Background()
	leads, err := suite.store.LeadsByBatch(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(leads) != job.RecordsFound {
		t.Fatalf("%d leads in DynamoDB for %d found addresses", len(leads), job.RecordsFound)
	}
	seen := map[string]bool{}
	for _, l := range leads {
		if seen[l.PropertyHash] {
			t.Errorf("two leads for property %s", l.PropertyHash)
		}
		seen[l.PropertyHash] = true
		if !l.Simulated || l.Score < 0 || l.Score > 100 || len(l.Breakdown) == 0 {
			t.Errorf("lead %s: simulated %t, score %d, %d factors", l.ID, l.Simulated, l.Score, len(l.Breakdown))
		}
		records, err := suite.store.RecordsByHash(ctx, l.PropertyHash)
		if err != nil || len(records) == 0 {
			t.Errorf("lead %s: property records %d (%v)", l.ID, len(records), err)
		}
		for _, r := range records {
			if r.Unified == "" || r.RawData == "" {
				t.Errorf("property record %s keeps no unified model or raw data", r.ID)
			}
		}
	}
	if job.ProcessedRecords != job.RecordsFound {
		t.Errorf("processed_records %d, want a record per found address (%d)", job.ProcessedRecords, job.RecordsFound)
	}
}

// checkFiles reads the results, rejects and leads export from S3.
func checkFiles(t *testing.T, job batch.Job) {
	t.Helper()
	if want := "batches/" + job.ID + "/results.jsonl"; job.ResultFilePath != want {
		t.Errorf("result_file_path %q, want %q", job.ResultFilePath, want)
	}
	results := resultLines(t, suite.object(t, job.ResultFilePath))
	found := 0
	for _, r := range results {
		if r.Lookup.Outcome == batch.LookupFound {
			found++
		}
	}
	if len(results) != job.UniqueRecords || found != job.RecordsFound {
		t.Errorf("results.jsonl: %d lines (%d found), want %d (%d found)", len(results), found, job.UniqueRecords, job.RecordsFound)
	}
	header, rows := csvRecords(t, suite.object(t, "exports/"+job.ID+"/leads.csv"))
	if !slices.Equal(header[:5], []string{"address", "city", "state", "zip", "campaign"}) || len(rows) != job.LeadsCreated {
		t.Errorf("leads.csv: header %v, %d rows; want the input's columns first and %d rows", header, len(rows), job.LeadsCreated)
	}
	_, rejects := csvRecords(t, suite.object(t, job.RejectsPath))
	if len(rejects) != job.RejectedRecords {
		t.Errorf("rejects.csv: %d rows, want %d", len(rejects), job.RejectedRecords)
	}
}

// checkBill reads the simulator's ledger: one billed report per found address, none twice,
// and the job's spend is what ATTOM billed.
func checkBill(t *testing.T, job batch.Job, billedBefore int) {
	t.Helper()
	charges := suite.sim.Ledger()[billedBefore:]
	if len(charges) != job.RecordsFound {
		t.Errorf("ATTOM billed %d reports for %d found addresses", len(charges), job.RecordsFound)
	}
	for _, c := range charges {
		if n := suite.sim.BilledFor(c.AddressKey); n != 1 {
			t.Errorf("%s billed %d times", c.AddressKey, n)
		}
	}
	if job.CostSpentCents != int64(len(charges))*10 || job.CostReservedCents != 0 {
		t.Errorf("job spent %d cents (reserved %d) for %d billed reports at 10 cents", job.CostSpentCents, job.CostReservedCents, len(charges))
	}
}
