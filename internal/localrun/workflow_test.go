package localrun_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/attom"
	"github.com/leadflow/attom-batch/internal/attomsim"
	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/budget"
	"github.com/leadflow/attom-batch/internal/config"
	"github.com/leadflow/attom-batch/internal/embeddedapp"
	"github.com/leadflow/attom-batch/internal/property"
	"github.com/leadflow/attom-batch/statemachine"
)

var start = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

// world is one embedded system in a temp dir with a fake clock and the simulator.
type world struct {
	t     *testing.T
	sys   *embeddedapp.Embedded
	clock *statemachine.FakeClock
	dir   string
}

func newWorld(t *testing.T, capCents int64, sim attomsim.Options) *world {
	t.Helper()
	return newWorldWith(t, func(c *config.Config) { c.DailyCapCents = capCents }, sim)
}

// csvFile writes rows of "address,city,state,zip" under a header.
func (w *world) csvFile(name string, rows ...string) string {
	path := filepath.Join(w.dir, name)
	body := "address,city,state,zip,campaign\n" + strings.Join(rows, "\n") + "\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		w.t.Fatal(err)
	}
	return path
}

// addresses makes n distinct valid rows.
func addresses(n int) []string {
	rows := make([]string, n)
	for i := range rows {
		rows[i] = fmt.Sprintf("%d Oak Street,Springfield,IL,62701,spring", 100+i*2)
	}
	return rows
}

func (w *world) run(path, execName string) (*statemachine.Execution, batch.Job) {
	w.t.Helper()
	ctx := context.Background()
	leads := true
	ev, err := w.sys.Upload(ctx, path, batch.SubmitOptions{Name: "test", Leads: &leads})
	if err != nil {
		w.t.Fatal(err)
	}
	exec, err := w.sys.Runner.RunPipeline(ctx, execName, ev)
	if err != nil {
		w.t.Fatal(err)
	}
	jobs, err := w.sys.Tasks.Jobs.ListJobs(ctx, 0)
	if err != nil || len(jobs) == 0 {
		w.t.Fatalf("jobs: %v (%d)", err, len(jobs))
	}
	return exec, jobs[0]
}

// checkCounts asserts the job's counts add up: nothing is lost.
func checkCounts(t *testing.T, j batch.Job) {
	t.Helper()
	sum := j.RejectedRecords + j.DuplicateRecords + j.RecordsFound + j.NotFoundRecords + j.ErrorRecords + j.PendingRecords()
	if j.RecordCount != sum {
		t.Fatalf("record_count %d != rejected %d + duplicates %d + found %d + not found %d + errors %d + pending %d",
			j.RecordCount, j.RejectedRecords, j.DuplicateRecords, j.RecordsFound, j.NotFoundRecords, j.ErrorRecords, j.PendingRecords())
	}
	if j.Status == batch.StatusCompleted && j.PendingRecords() != 0 {
		t.Fatalf("completed with %d addresses pending", j.PendingRecords())
	}
	if j.Status != batch.StatusCompleted && j.PendingRecords() != j.UniqueRecords-j.LookedUpRecords {
		t.Fatalf("pending %d, but %d of %d unique addresses were looked up", j.PendingRecords(), j.LookedUpRecords, j.UniqueRecords)
	}
}

func wantPath(t *testing.T, exec *statemachine.Execution, want ...string) {
	t.Helper()
	if got := exec.Path(); !slices.Equal(got, want) {
		t.Fatalf("path\n got  %v\n want %v", got, want)
	}
}

var happyPath = []string{"Prepare", "IsDuplicate", "Submit", "WaitForLookups", "Poll", "LookupState",
	"Download", "Process", "MoreToProcess", "WantsLeads", "Leads", "Complete", "Done"}

func TestHappyPathExample(t *testing.T) {
	w := newWorld(t, 10000, attomsim.Options{Seed: 7})
	exec, job := w.run("../../examples/properties.csv", "happy")
	if exec.Status != statemachine.StatusSucceeded {
		t.Fatalf("status %s %s %s", exec.Status, exec.Error, exec.Cause)
	}
	wantPath(t, exec, happyPath...)
	checkCounts(t, job)
	if job.Status != batch.StatusCompleted || job.RecordCount != 30 || job.RejectedRecords != 3 || job.DuplicateRecords != 1 {
		t.Fatalf("job %+v", job)
	}
	if job.RecordsFound == 0 || job.LeadsCreated == 0 || job.LeadsCreated > job.RecordsFound {
		t.Fatalf("found %d leads %d", job.RecordsFound, job.LeadsCreated)
	}
	sim := w.sys.Attom.Simulator
	if int64(sim.BilledCount())*10 != job.CostSpentCents || sim.BilledCount() != job.RecordsFound {
		t.Fatalf("billed %d reports, spent %d cents, found %d", sim.BilledCount(), job.CostSpentCents, job.RecordsFound)
	}
	for _, c := range sim.Ledger() {
		if n := sim.BilledFor(c.AddressKey); n != 1 {
			t.Fatalf("%s billed %d times", c.AddressKey, n)
		}
	}
	leads, err := w.sys.Tasks.Stores.Leads.LeadsByBatch(context.Background(), job.ID)
	if err != nil || len(leads) != job.LeadsCreated {
		t.Fatalf("leads %d (%v), job says %d", len(leads), err, job.LeadsCreated)
	}
	export, err := os.ReadFile(filepath.Join(w.dir, "results", "exports", job.ID, "leads.csv"))
	if err != nil || !strings.HasPrefix(string(export), "address,city,state,zip,list_source,notes,") {
		t.Fatalf("export: %v\n%.200s", err, export)
	}
	rejects, err := os.ReadFile(filepath.Join(w.dir, "results", job.RejectsPath))
	if err != nil || !strings.Contains(string(rejects), "PO box") || strings.Count(string(rejects), "\n") != 4 {
		t.Fatalf("rejects: %v\n%s", err, rejects)
	}
}

func TestNotFoundAddresses(t *testing.T) {
	w := newWorld(t, 10000, attomsim.Options{NotFoundRate: 1})
	exec, job := w.run(w.csvFile("nf.csv", addresses(7)...), "notfound")
	wantPath(t, exec, happyPath...)
	checkCounts(t, job)
	if job.NotFoundRecords != 7 || job.RecordsFound != 0 || job.LeadsCreated != 0 || job.CostSpentCents != 0 {
		t.Fatalf("job %+v", job)
	}
}

func TestFileLargerThanTheDailyCapPausesAndResumes(t *testing.T) {
	// 50 cents a day at 10 cents a report: 5 lookups a day, 12 addresses to look up.
	w := newWorld(t, 50, attomsim.Options{NotFoundRate: -1})
	exec, job := w.run(w.csvFile("big.csv", addresses(12)...), "capped")
	if exec.Status != statemachine.StatusSucceeded {
		t.Fatalf("status %s %s %s", exec.Status, exec.Error, exec.Cause)
	}
	want := []string{"Prepare", "IsDuplicate", "Submit", "WaitForLookups", "Poll", "LookupState",
		"WaitForCapReset", "Resume", "WaitForLookups", "Poll", "LookupState",
		"WaitForCapReset", "Resume", "WaitForLookups", "Poll", "LookupState",
		"Download", "Process", "MoreToProcess", "WantsLeads", "Leads", "Complete", "Done"}
	wantPath(t, exec, want...)
	checkCounts(t, job)
	if job.RecordsFound != 12 || job.CostSpentCents != 120 {
		t.Fatalf("found %d spent %d", job.RecordsFound, job.CostSpentCents)
	}
	for day := range 3 {
		d := budget.Day(start.Add(time.Duration(day) * 24 * time.Hour))
		u, err := w.sys.Tasks.Budget.Usage(context.Background(), d)
		if err != nil {
			t.Fatal(err)
		}
		if u.SpentCents > 50 || u.ReservedCents != 0 {
			t.Fatalf("day %s: %+v", d, u)
		}
	}
	if got := w.sys.Attom.Simulator.BilledCount(); got != 12 {
		t.Fatalf("billed %d", got)
	}
	// Each run plans only what the day's cap pays for: one chunk of 5 a day, never the
	// chunks still waiting (each would cost Map transitions only to be deferred).
	manifests, _ := w.sys.Blobs.List(context.Background(), "batches/"+job.ID+"/manifests/")
	var sizes []int
	for _, key := range manifests {
		body, _ := w.sys.Blobs.Get(context.Background(), key)
		var refs []batch.ChunkRef
		_ = json.NewDecoder(body).Decode(&refs)
		body.Close()
		sizes = append(sizes, len(refs))
	}
	if !slices.Equal(sizes, []int{1, 1, 1}) {
		t.Fatalf("run manifests hold %v chunks, want [1 1 1]", sizes)
	}
}

func TestDailySpendIsReportedAsAnEmbeddedMetric(t *testing.T) {
	w := newWorld(t, 10000, attomsim.Options{NotFoundRate: -1})
	var logs bytes.Buffer
	w.sys.Tasks.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	_, job := w.run(w.csvFile("emf.csv", addresses(3)...), "emf")
	var last map[string]any
	for _, line := range strings.Split(logs.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["_aws"] != nil {
			last = rec
		}
	}
	if last == nil {
		t.Fatalf("no EMF record in the logs:\n%s", logs.String())
	}
	aws := last["_aws"].(map[string]any)
	metrics := aws["CloudWatchMetrics"].([]any)[0].(map[string]any)
	if metrics["Namespace"] != "AttomBatch" || last["SpentCents"] != float64(job.CostSpentCents) || job.CostSpentCents != 30 {
		t.Fatalf("EMF record %v, job spent %d", last, job.CostSpentCents)
	}
}

// An ATTOM outage longer than the client's retries pauses the job (it used to fail it after
// about 30 s): the pipeline waits a growing while, tries again, and completes once ATTOM is
// back, paying once per address and nothing for the failed calls.
func TestAttomOutagePausesThenResumesWhenATTOMIsBack(t *testing.T) {
	w := newWorld(t, 10000, attomsim.Options{NotFoundRate: -1, OutageUntil: time.Now().Add(300 * time.Millisecond)})
	exec, job := w.run(w.csvFile("down.csv", addresses(3)...), "outage")
	if exec.Status != statemachine.StatusSucceeded || job.Status != batch.StatusCompleted {
		t.Fatalf("status %s %s %s; job %s %q", exec.Status, exec.Error, exec.Cause, job.Status, job.Error)
	}
	path := exec.Path()
	if !slices.Contains(path, "WaitForCapReset") || !slices.Contains(path, "Resume") || slices.Contains(path, "MarkFailed") {
		t.Fatalf("path %v", path)
	}
	sim := w.sys.Attom.Simulator
	if sim.BilledCount() != 3 || job.CostSpentCents != 30 || job.CostReservedCents != 0 {
		t.Fatalf("billed %d, job spent %d reserved %d", sim.BilledCount(), job.CostSpentCents, job.CostReservedCents)
	}
	if sim.StatusCounts()[503] == 0 {
		t.Fatal("the outage never answered 503: the test did not test an outage")
	}
	checkCounts(t, job)
}

func TestSameObjectTwiceMakesOneJob(t *testing.T) {
	w := newWorld(t, 10000, attomsim.Options{})
	path := w.csvFile("twice.csv", addresses(4)...)
	first, job := w.run(path, "first")
	wantPath(t, first, happyPath...)
	second, _ := w.run(path, "second")
	wantPath(t, second, "Prepare", "IsDuplicate", "AlreadyHandled")
	jobs, _ := w.sys.Tasks.Jobs.ListJobs(context.Background(), 0)
	if len(jobs) != 1 || jobs[0].ID != job.ID {
		t.Fatalf("jobs %d", len(jobs))
	}
}

// crashingAttom lets the first n calls through, then fails every call the way a killed
// Lambda does (an error ATTOM never sent), until healed.
type crashingAttom struct {
	inner   batch.AttomLookup
	left    atomic.Int64
	crashed atomic.Bool
}

type crash struct{}

func (crash) Error() string { return "runtime exited: signal: killed" }

func (c *crashingAttom) Lookup(ctx context.Context, ep string, q attom.Query) (attom.Result, error) {
	if c.crashed.Load() && c.left.Add(-1) < 0 {
		return attom.Result{}, crash{}
	}
	return c.inner.Lookup(ctx, ep, q)
}

func TestCrashMidChunkThenRedriveNeverPaysTwice(t *testing.T) {
	w := newWorld(t, 10000, attomsim.Options{NotFoundRate: -1})
	crashing := &crashingAttom{inner: w.sys.Tasks.Attom}
	crashing.left.Store(3)
	crashing.crashed.Store(true)
	w.sys.Tasks.Attom = crashing
	path := w.csvFile("crash.csv", addresses(8)...)
	exec, job := w.run(path, "crashes")
	if exec.Status != statemachine.StatusFailed || job.Status != batch.StatusFailed {
		t.Fatalf("first run should fail: %s, job %s", exec.Status, job.Status)
	}
	if billed := w.sys.Attom.Simulator.BilledCount(); billed != 3 {
		t.Fatalf("billed %d before the crash; job %+v; path %v", billed, job, exec.Path())
	}
	crashing.crashed.Store(false)
	exec, job = w.run(path, "redrive")
	wantPath(t, exec, happyPath...)
	checkCounts(t, job)
	sim := w.sys.Attom.Simulator
	if sim.BilledCount() != 8 || job.RecordsFound != 8 || job.LeadsCreated != 8 {
		t.Fatalf("billed %d found %d leads %d", sim.BilledCount(), job.RecordsFound, job.LeadsCreated)
	}
	for _, c := range sim.Ledger() {
		if n := sim.BilledFor(c.AddressKey); n != 1 {
			t.Fatalf("%s billed %d times", c.AddressKey, n)
		}
	}
	// Leads again: updates, never duplicates.
	if _, err := w.sys.Tasks.Leads(context.Background(), batch.Step{JobID: job.ID}); err != nil {
		t.Fatal(err)
	}
	leads, _ := w.sys.Tasks.Stores.Leads.LeadsByBatch(context.Background(), job.ID)
	again, _ := w.sys.Tasks.Jobs.GetJob(context.Background(), job.ID)
	// A re-run never makes the count go down: the leads this job created stay created.
	if len(leads) != 8 || again.LeadsCreated != 8 || again.LeadsUpdated != 0 {
		t.Fatalf("leads %d, created on re-run %d, updated %d", len(leads), again.LeadsCreated, again.LeadsUpdated)
	}
}

func TestHistoryIsKeptForStatusVerbose(t *testing.T) {
	w := newWorld(t, 10000, attomsim.Options{})
	_, job := w.run(w.csvFile("h.csv", addresses(2)...), "history")
	raw, err := os.ReadFile(filepath.Join(w.dir, "results", "batches", job.ID, "history.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exec statemachine.Execution
	if err := json.Unmarshal(raw, &exec); err != nil || len(exec.History) == 0 {
		t.Fatalf("history: %v (%d events)", err, len(exec.History))
	}
}

func TestLargeJobsProcessAndLeadInSegments(t *testing.T) {
	w := newWorld(t, 100000, attomsim.Options{NotFoundRate: -1})
	n := 5*batch.SegmentChunks + 3 // chunks of 5: one segment and a bit
	exec, job := w.run(w.csvFile("large.csv", addresses(n)...), "segments")
	want := []string{"Prepare", "IsDuplicate", "Submit", "WaitForLookups", "Poll", "LookupState", "Download",
		"Process", "MoreToProcess", "Process", "MoreToProcess", "WantsLeads",
		"Leads", "Complete", "Done"}
	wantPath(t, exec, want...)
	checkCounts(t, job)
	if job.ProcessedRecords != n || job.LeadsCreated != n {
		t.Fatalf("processed %d, leads %d, want %d", job.ProcessedRecords, job.LeadsCreated, n)
	}
	export, err := os.ReadFile(filepath.Join(w.dir, "results", "exports", job.ID, "leads.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(export)), "\n")
	if len(lines) != n+1 || strings.Count(string(export), "address,city,state,zip") != 1 {
		t.Fatalf("export has %d lines (want %d rows and one header)", len(lines), n)
	}
}

func TestACountyRecordMergesWithATTOMAndRaisesTheScore(t *testing.T) {
	w := newWorld(t, 10000, attomsim.Options{NotFoundRate: -1})
	_, job := w.run(w.csvFile("one.csv", "1640 Riverside Drive,Hill Valley,CA,95420,x"), "county")
	ctx := context.Background()
	leads, err := w.sys.Tasks.Stores.Leads.LeadsByBatch(ctx, job.ID)
	if err != nil || len(leads) != 1 {
		t.Fatalf("leads %d (%v)", len(leads), err)
	}
	before := leads[0]
	county, err := property.FromRecord("county:hill-valley", map[string]string{
		property.ColAddress: "1640 Riverside Dr", property.ColCity: "Hill Valley", property.ColState: "CA",
		property.ColZIP: "95420", property.ColTaxDelinquent: "yes", property.ColVacant: "yes",
	}, start)
	if err != nil {
		t.Fatal(err)
	}
	merged, err := w.sys.Tasks.ProcessProperty(ctx, county, "")
	if err != nil {
		t.Fatal(err)
	}
	if merged.Hash != before.PropertyHash || len(merged.Metadata.Sources) < 2 {
		t.Fatalf("the county record did not merge with ATTOM's: hash %s vs %s, sources %v",
			merged.Hash, before.PropertyHash, merged.Metadata.Sources)
	}
	after, created, err := w.sys.Tasks.SavePropertyAsLead(ctx, merged, job.ID, nil)
	if err != nil || created {
		t.Fatalf("saving again must update the lead: created %v, %v", created, err)
	}
	if after.ID != before.ID || after.Score <= before.Score {
		t.Fatalf("score %d -> %d; tax delinquency and vacancy should raise it", before.Score, after.Score)
	}
}

func TestAFileOfOnlyBadRowsCompletesWithNothingLookedUp(t *testing.T) {
	w := newWorld(t, 10000, attomsim.Options{})
	exec, job := w.run(w.csvFile("bad.csv", "PO Box 1,Phoenix,AZ,85001,x", ",Portland,OR,97201,x"), "allbad")
	wantPath(t, exec, happyPath...)
	checkCounts(t, job)
	if job.Status != batch.StatusCompleted || job.RejectedRecords != 2 || job.CostSpentCents != 0 {
		t.Fatalf("job %+v", job)
	}
}

func TestACapThatSplitsAChunkDefersTheRestOfIt(t *testing.T) {
	// 70 cents a day: 7 lookups, so the second chunk of 5 is looked up in part on day one.
	w := newWorld(t, 70, attomsim.Options{NotFoundRate: -1})
	exec, job := w.run(w.csvFile("split.csv", addresses(12)...), "split")
	if exec.Status != statemachine.StatusSucceeded {
		t.Fatalf("status %s %s %s", exec.Status, exec.Error, exec.Cause)
	}
	if n := strings.Count(strings.Join(exec.Path(), " "), "Resume"); n != 1 {
		t.Fatalf("want one resume, path %v", exec.Path())
	}
	checkCounts(t, job)
	markers, _ := w.sys.Blobs.List(context.Background(), "batches/"+job.ID+"/deferred/")
	if len(markers) != 1 || job.RecordsFound != 12 || w.sys.Attom.Simulator.BilledCount() != 12 {
		t.Fatalf("deferral markers %v, found %d, billed %d", markers, job.RecordsFound, w.sys.Attom.Simulator.BilledCount())
	}
	for day := range 2 {
		u, _ := w.sys.Tasks.Budget.Usage(context.Background(), budget.Day(start.Add(time.Duration(day)*24*time.Hour)))
		if u.SpentCents > 70 || u.ReservedCents != 0 {
			t.Fatalf("day %d: %+v", day, u)
		}
	}
}
