//go:build integration

package integration

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/leadflow/attom-batch/internal/attomsim"
	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/budget"
)

// pauseBudget bounds the wait for the cap to pause the job: a few chunks of lookups and
// one poll, seconds on moto.
const pauseBudget = 2 * time.Minute

// envSetter is a cloud whose functions' environment can be changed (localcloud.Cloud.SetEnv).
type envSetter interface {
	SetEnv(ctx context.Context, env map[string]string) error
}

// Issue 15, on the local cloud: a job the cap pauses on day one already has that day's
// leads in DynamoDB, counted on the job, and an export holding them, best first; nothing is
// billed twice and nothing past the cap. The cap is the day's spend so far plus ten reports,
// so that this test alone decides what the day can still buy. The pipeline then waits in
// WaitForCapReset until 00:00 UTC, which moto really sleeps through: the test stops it.
func TestACappedJobHasTheDaysLeadsOnMoto(t *testing.T) {
	cloud, ok := suite.cloud.(envSetter)
	if !ok {
		t.Skip("the functions' environment cannot be changed on this cloud")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	if budget.NextReset(now).Sub(now) < pauseBudget+time.Minute {
		t.Skip("too close to 00:00 UTC: the day's cap would reset mid-test")
	}
	day := budget.Day(now)
	const perReport = 10 // cents, the default ATTOM_COST_PER_REPORT_CENTS
	const affordable = 10
	usage, err := suite.store.Budget(capCents).Usage(ctx, day)
	if err != nil {
		t.Fatal(err)
	}
	if usage.ReservedCents != 0 {
		t.Fatalf("the day has %d cents reserved before the test", usage.ReservedCents)
	}
	capToday := usage.SpentCents + affordable*perReport
	if err := cloud.SetEnv(ctx, map[string]string{"DAILY_CAP_ATTOM_CENTS": strconv.FormatInt(capToday, 10)}); err != nil {
		t.Fatalf("set the cap: %v", err)
	}
	t.Cleanup(func() {
		if err := cloud.SetEnv(context.Background(), map[string]string{"DAILY_CAP_ATTOM_CENTS": strconv.Itoa(capCents)}); err != nil {
			t.Errorf("restore the cap: %v", err)
		}
	})
	suite.sim.SetOptions(simOptions(attomsim.Options{NotFoundRate: -1})) // every address found
	t.Cleanup(func() { suite.sim.SetOptions(simOptions(attomsim.Options{})) })

	const rows = 14 // chunks of 5, 5 and 4: the cap buys two
	wantLeads := true
	event := suite.upload(t, "incoming/it-capped.csv", csvFile(addresses("Quarry Road", rows)...),
		&batch.SubmitOptions{Name: "capped", Leads: &wantLeads})
	id := jobID(t, event)
	billedBefore := len(suite.sim.Ledger())
	started := time.Now()
	out, err := suite.sfn.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(suite.pipelineARN),
		Name:            aws.String(uniqueName("capped")),
		Input:           aws.String(string(event)),
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.ExecutionArn)
	t.Cleanup(func() { stopExecution(t, arn) })

	job := waitPaused(t, id, arn)
	t.Logf("paused after %s: rows %d, found %d, pending %d, leads %d, processed %d, spent %d cents (cap %d, %d before the job)",
		time.Since(started).Round(time.Millisecond), job.RecordCount, job.RecordsFound, job.PendingRecords(),
		job.LeadsCreated, job.ProcessedRecords, job.CostSpentCents, capToday, usage.SpentCents)
	if job.PausedUntil == nil || !job.PausedUntil.Equal(budget.NextReset(now)) {
		t.Errorf("paused until %v, want the next reset %v", job.PausedUntil, budget.NextReset(now))
	}

	// The counts add up, with the rows the cap left for tomorrow.
	if sum := job.RejectedRecords + job.DuplicateRecords + job.RecordsFound + job.NotFoundRecords + job.ErrorRecords + job.PendingRecords(); job.RecordCount != rows || sum != rows {
		t.Errorf("record_count %d (want %d) != rejected %d + duplicates %d + found %d + not found %d + errors %d + pending %d",
			job.RecordCount, rows, job.RejectedRecords, job.DuplicateRecords, job.RecordsFound, job.NotFoundRecords, job.ErrorRecords, job.PendingRecords())
	}
	if job.RecordsFound != affordable || job.PendingRecords() != rows-affordable || job.PendingRecords() != job.UniqueRecords-job.LookedUpRecords {
		t.Errorf("found %d, pending %d, looked up %d of %d; want the cap's %d found and %d pending",
			job.RecordsFound, job.PendingRecords(), job.LookedUpRecords, job.UniqueRecords, affordable, rows-affordable)
	}

	// The day's leads are saved and counted on the paused job.
	saved, err := suite.store.LeadsByBatch(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if job.LeadsCreated == 0 || job.LeadsCreated != job.RecordsFound || len(saved) != job.LeadsCreated || job.ProcessedRecords != job.RecordsFound {
		t.Fatalf("leads: %d in DynamoDB, leads_created %d, processed %d; want one per found address (%d)",
			len(saved), job.LeadsCreated, job.ProcessedRecords, job.RecordsFound)
	}
	var leadScores []int
	for _, l := range saved {
		leadScores = append(leadScores, l.Score)
	}

	// The export holds them, best first.
	header, lines := csvRecords(t, suite.object(t, "exports/"+id+"/leads.csv"))
	if !slices.Equal(header[:5], []string{"address", "city", "state", "zip", "campaign"}) || len(lines) != len(saved) {
		t.Fatalf("leads.csv: header %v, %d rows; want the input's columns first and the %d leads", header, len(lines), len(saved))
	}
	col := slices.Index(header, "score")
	if col < 0 {
		t.Fatalf("leads.csv has no score column: %v", header)
	}
	var exportScores []int
	for _, line := range lines {
		n, err := strconv.Atoi(line[col])
		if err != nil {
			t.Fatalf("score %q: %v", line[col], err)
		}
		exportScores = append(exportScores, n)
	}
	if !slices.IsSortedFunc(exportScores, func(a, b int) int { return b - a }) {
		t.Errorf("leads.csv is not best first: scores %v", exportScores)
	}
	slices.Sort(leadScores)
	slices.Sort(exportScores)
	if !slices.Equal(leadScores, exportScores) {
		t.Errorf("leads.csv scores %v, the saved leads' %v", exportScores, leadScores)
	}

	// ATTOM billed each address once, and nothing past the cap.
	charges := suite.sim.Ledger()[billedBefore:]
	for _, c := range charges {
		if n := suite.sim.BilledFor(c.AddressKey); n != 1 {
			t.Errorf("%s billed %d times", c.AddressKey, n)
		}
	}
	if len(charges) != job.RecordsFound || int64(len(charges))*perReport > capToday-usage.SpentCents {
		t.Errorf("ATTOM billed %d reports (%d cents) for %d found; the cap left %d cents", len(charges),
			len(charges)*perReport, job.RecordsFound, capToday-usage.SpentCents)
	}
	after, err := suite.store.Budget(capToday).Usage(ctx, day)
	if err != nil {
		t.Fatal(err)
	}
	if after.ReservedCents != 0 || after.SpentCents > capToday || job.CostReservedCents != 0 ||
		job.CostSpentCents != int64(len(charges))*perReport {
		t.Errorf("day %s: spent %d reserved %d (cap %d); job spent %d reserved %d for %d billed reports",
			day, after.SpentCents, after.ReservedCents, capToday, job.CostSpentCents, job.CostReservedCents, len(charges))
	}
}

// waitPaused polls the job until the cap has paused it, bounded by pauseBudget.
func waitPaused(t *testing.T, id, arn string) batch.Job {
	t.Helper()
	deadline := time.Now().Add(pauseBudget)
	for {
		job, err := suite.store.GetJob(context.Background(), id)
		if err == nil && job.Status == batch.StatusPaused && job.PauseReason == batch.DeferredByCap {
			return job
		}
		if err == nil && (job.Status == batch.StatusFailed || job.Status == batch.StatusCompleted) {
			t.Fatalf("job %s ended %s (%q) without pausing for the cap; path %v", id, job.Status, job.Error, suite.path(t, arn))
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s not paused for the cap after %s: status %q, pause_reason %q (%v); path %v",
				id, pauseBudget, job.Status, job.PauseReason, err, suite.path(t, arn))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// stopExecution stops a pipeline execution waiting for the cap's reset and checks it ended.
func stopExecution(t *testing.T, arn string) {
	t.Helper()
	ctx := context.Background()
	if _, err := suite.sfn.StopExecution(ctx, &sfn.StopExecutionInput{
		ExecutionArn: aws.String(arn), Error: aws.String("TestDone"), Cause: aws.String("the test stops the wait for 00:00 UTC"),
	}); err != nil {
		t.Errorf("stop %s: %v", arn, err)
		return
	}
	d, err := suite.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil || d.Status != sfntypes.ExecutionStatusAborted {
		t.Errorf("execution %s after StopExecution: %v (%v)", arn, d, err)
		return
	}
	t.Logf("stopped the pipeline in %v", suite.path(t, arn))
}

// capPeriod is the cap's period in TestCapPauseAndResumeOnMoto: "days" this short let the
// pipeline's WaitForCapReset end within the test (ATTOM_BATCH_CAP_PERIOD_SECONDS).
const capPeriod = 20 * time.Second

// The daily cap's pause and resume, whole, on the local cloud: with days of 20 s and a cap
// of ten reports a day, a 14-address job buys ten, pauses until the next day, resumes by
// itself in the same execution and completes; no day spends past the cap, no address is
// billed twice, nothing stays reserved.
func TestCapPauseAndResumeOnMoto(t *testing.T) {
	cloud, ok := suite.cloud.(envSetter)
	if !ok {
		t.Skip("the functions' environment cannot be changed on this cloud")
	}
	ctx := context.Background()
	const perReport, affordable, rows = 10, 10, 14
	capPerDay := int64(affordable * perReport)
	period := strconv.Itoa(int(capPeriod / time.Second))
	if err := cloud.SetEnv(ctx, map[string]string{"DAILY_CAP_ATTOM_CENTS": strconv.FormatInt(capPerDay, 10), "ATTOM_BATCH_CAP_PERIOD_SECONDS": period}); err != nil {
		t.Fatalf("set the cap: %v", err)
	}
	t.Cleanup(func() {
		if err := cloud.SetEnv(context.Background(), map[string]string{"DAILY_CAP_ATTOM_CENTS": strconv.Itoa(capCents), "ATTOM_BATCH_CAP_PERIOD_SECONDS": "86400"}); err != nil {
			t.Errorf("restore the cap: %v", err)
		}
	})
	suite.sim.SetOptions(simOptions(attomsim.Options{NotFoundRate: -1})) // every address found
	t.Cleanup(func() { suite.sim.SetOptions(simOptions(attomsim.Options{})) })

	// Start right after a day begins, so the first day's ten reports are bought within it.
	days := budget.Period(capPeriod)
	time.Sleep(time.Until(days.NextReset(time.Now()).Add(200 * time.Millisecond)))
	firstDay := days.Day(time.Now())
	wantLeads := true
	event := suite.upload(t, "incoming/it-cap-resume.csv", csvFile(addresses("Larkspur Court", rows)...),
		&batch.SubmitOptions{Name: "cap and resume", Leads: &wantLeads})
	id := jobID(t, event)
	billedBefore := len(suite.sim.Ledger())
	started := time.Now()
	out, err := suite.sfn.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(suite.pipelineARN), Name: aws.String(uniqueName("cap-resume")), Input: aws.String(string(event)),
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.ExecutionArn)
	paused := waitPaused(t, id, arn)
	if want := days.NextReset(started); paused.PausedUntil == nil || !paused.PausedUntil.Equal(want) {
		stopExecution(t, arn)
		t.Fatalf("paused until %v, want the next day's start %v", paused.PausedUntil, want)
	}
	exec := suite.waitExecution(t, arn)
	exec.Took = time.Since(started)
	if exec.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: %s %s", exec.Status, exec.Error, exec.Cause)
	}
	for _, state := range []string{"WaitForCapReset", "Resume"} {
		if !slices.Contains(exec.Path, state) {
			t.Errorf("path %v has no %s: the cap never paused the job", exec.Path, state)
		}
	}
	job := suite.job(t, id)
	checkCounts(t, job)
	if job.Status != batch.StatusCompleted || job.RecordsFound != rows || job.LeadsCreated != rows || job.CostReservedCents != 0 {
		t.Errorf("job %s, found %d, leads %d, reserved %d; want completed with %d found and leads, nothing reserved",
			job.Status, job.RecordsFound, job.LeadsCreated, job.CostReservedCents, rows)
	}
	charges := suite.sim.Ledger()[billedBefore:]
	perDay := map[string]int64{}
	for _, c := range charges {
		if n := suite.sim.BilledFor(c.AddressKey); n != 1 {
			t.Errorf("%s billed %d times", c.AddressKey, n)
		}
		perDay[days.Day(c.At)] += perReport
	}
	if len(charges) != rows || job.CostSpentCents != int64(rows*perReport) {
		t.Errorf("ATTOM billed %d reports, the job spent %d cents; want %d reports", len(charges), job.CostSpentCents, rows)
	}
	for day, cents := range perDay {
		if cents > capPerDay {
			t.Errorf("day %s: ATTOM billed %d cents, over the cap of %d", day, cents, capPerDay)
		}
		usage, err := suite.store.Budget(capPerDay).Usage(ctx, day)
		if err != nil || usage.ReservedCents != 0 || usage.SpentCents != cents {
			t.Errorf("day %s: counter %+v (%v); want %d spent, nothing reserved", day, usage, err, cents)
		}
	}
	if perDay[firstDay] != capPerDay {
		t.Errorf("billed per day %v: want the first day (%s) to buy up to the cap", perDay, firstDay)
	}
	t.Logf("billed per day: %v; path %v in %s", perDay, exec.Path, exec.Took.Round(time.Millisecond))
}
