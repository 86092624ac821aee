package dynamostore

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/events"
	"github.com/leadflow/attom-batch/internal/attom"
	"github.com/leadflow/attom-batch/internal/attomsim"
	"github.com/leadflow/attom-batch/internal/awstest"
	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/localrun"
	"github.com/leadflow/attom-batch/internal/s3blob"
	"github.com/leadflow/attom-batch/statemachine"
)

// Issue 12: at most this many DynamoDB write units per address over an address's whole life
// on the AWS backend (prepare, lookup with its answer and lookup items, property record, lead,
// job counters, leases, budget), amortized over a job.
const maxWriteUnitsPerAddress = 8

// TestWriteUnitsPerAddress runs a whole job of writeCostAddresses new addresses through the
// pipeline and lookup state machines (the same definitions and task code the Lambdas run)
// on DynamoDB and S3 on moto, meters every DynamoDB request as DynamoDB bills it (see meter),
// and logs the breakdown by table, item kind and operation. Every address is found (the
// costly case), on one endpoint, leads wanted, chunks of 100: the cost table's assumptions.
func TestWriteUnitsPerAddress(t *testing.T) {
	const writeCostAddresses = 200
	ctx := context.Background()
	cfg := motoConfig(t)
	m := newMeter(NewClient(cfg))
	client := NewClient(cfg, m.option)
	tables := PrefixedTables(awstest.UniqueName("w") + "-")
	if err := CreateTables(ctx, client, tables); err != nil {
		t.Fatal(err)
	}
	store, err := New(client, tables)
	if err != nil {
		t.Fatal(err)
	}
	s3c := s3blob.NewClient(cfg)
	bucket := awstest.UniqueName("b-")
	if err := s3blob.CreateBucket(ctx, s3c, bucket); err != nil {
		t.Fatal(err)
	}
	blobs := s3blob.New(s3c, bucket)

	sim := attomsim.New(attomsim.Options{NotFoundRate: -1})
	base, stop, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stop(context.Background()) })
	at, err := attom.New(attom.Config{BaseURL: base, APIKey: "simulated",
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
	if err != nil {
		t.Fatal(err)
	}

	settings := batch.DefaultSettings()
	settings.Bucket = bucket
	settings.LeaseCoversWaits = true
	settings.LookupWorkers = 1
	clock := statemachine.NewFakeClock(time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC))
	tasks := &batch.Tasks{
		Stores:   store.Stores(blobs, 1_000_000),
		Attom:    at,
		Settings: settings,
	}
	runner, err := localrun.New(tasks, clock)
	if err != nil {
		t.Fatal(err)
	}

	var body strings.Builder
	body.WriteString("address,city,state,zip,campaign\n")
	for i := range writeCostAddresses {
		fmt.Fprintf(&body, "%d Juniper Avenue,Springfield,IL,62701,spring\n", 100+2*i)
	}
	key := "incoming/writecost.csv"
	if err := blobs.Put(ctx, key, bytes.NewReader([]byte(body.String()))); err != nil {
		t.Fatal(err)
	}
	leads := true
	ev, err := batch.EventInput(events.NewObjectCreated(bucket, key, "0123456789abcdef0123456789abcdef", int64(body.Len()), clock.Now()),
		batch.SubmitOptions{Name: "write cost", Leads: &leads})
	if err != nil {
		t.Fatal(err)
	}

	m.reset()
	exec, err := runner.RunPipeline(ctx, "writecost", ev)
	if err != nil {
		t.Fatal(err)
	}
	if exec.Status != statemachine.StatusSucceeded {
		t.Fatalf("pipeline %s: %s %s", exec.Status, exec.Error, exec.Cause)
	}
	wcu, rcu := m.totals()
	jobs, err := store.ListJobs(ctx, 1)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("jobs: %v %v", jobs, err)
	}
	job := jobs[0]
	if job.Status != batch.StatusCompleted || job.RecordsFound != writeCostAddresses || job.LeadsCreated != writeCostAddresses {
		t.Fatalf("job %s: status %s, found %d, leads created %d; want completed, %d, %d",
			job.ID, job.Status, job.RecordsFound, job.LeadsCreated, writeCostAddresses, writeCostAddresses)
	}
	perAddress := wcu / writeCostAddresses
	t.Logf("%d addresses: %.0f write units (%.2f per address), %.1f read units (%.2f per address)\n%s",
		writeCostAddresses, wcu, perAddress, rcu, rcu/writeCostAddresses, m.report(writeCostAddresses))
	if perAddress > maxWriteUnitsPerAddress {
		t.Errorf("%.2f DynamoDB write units per address, want at most %d", perAddress, maxWriteUnitsPerAddress)
	}
}
