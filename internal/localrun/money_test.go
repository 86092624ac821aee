package localrun_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/attomsim"
	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/budget"
	"github.com/leadflow/attom-batch/internal/config"
	"github.com/leadflow/attom-batch/internal/embeddedapp"
	"github.com/leadflow/attom-batch/statemachine"
)

// Issue 9's failures, each reproduced as a new user would meet it, counted by the
// simulator's billing ledger rather than by what the job believes.

// newWorldWith is newWorld with the configuration changed by edit.
func newWorldWith(t *testing.T, edit func(*config.Config), sim attomsim.Options) *world {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Defaults()
	cfg.UploadDir = filepath.Join(dir, "uploads")
	cfg.ResultsDir = filepath.Join(dir, "results")
	cfg.DBPath = filepath.Join(dir, "db", "attom-batch.db")
	cfg.ChunkSize = 5
	edit(&cfg)
	clock := statemachine.NewFakeClock(start)
	sys, err := embeddedapp.OpenEmbedded(cfg, embeddedapp.EmbeddedOptions{Clock: clock, Simulator: sim, NoRetryDelay: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sys.Close)
	return &world{t: t, sys: sys, clock: clock, dir: dir}
}

// runNamed runs the pipeline for a file under a job name, with the CLI's options.
func (w *world) runNamed(path, name string, opts batch.SubmitOptions) (*statemachine.Execution, batch.Job) {
	w.t.Helper()
	ctx := context.Background()
	leads := true
	opts.Name, opts.Leads = name, &leads
	ev, err := w.sys.Upload(ctx, path, opts)
	if err != nil {
		w.t.Fatal(err)
	}
	id, err := batch.EventJobID(ev)
	if err != nil {
		w.t.Fatal(err)
	}
	exec, err := w.sys.Runner.RunPipeline(ctx, name+"-"+fmt.Sprint(time.Now().UnixNano()), ev)
	if err != nil {
		w.t.Fatal(err)
	}
	return exec, w.job(id)
}

func (w *world) job(id string) batch.Job {
	w.t.Helper()
	job, err := w.sys.Tasks.Jobs.GetJob(context.Background(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	return job
}

// prepared prepares a job of n addresses for the driver "driver-a", as the pipeline's
// Prepare does, and names its first chunk as a lookup run "r" would.
func (w *world) prepared(name string, n int) (batch.Step, batch.ChunkRef) {
	w.t.Helper()
	ctx := context.Background()
	ev, err := w.sys.Upload(ctx, w.csvFile(name+".csv", addresses(n)...), batch.SubmitOptions{Name: name})
	if err != nil {
		w.t.Fatal(err)
	}
	step, err := w.sys.Tasks.Prepare(ctx, batch.PrepareInput{Event: ev, ExecutionID: "driver-a"})
	if err != nil {
		w.t.Fatal(err)
	}
	return step, batch.ChunkRef{JobID: step.JobID, Chunk: 0, Key: "batches/" + step.JobID + "/chunks/000000.jsonl", Run: "r"}
}

// checkMoney asserts what every finished job must show: nothing left reserved, on the job
// or on the day's counter.
func (w *world) checkMoney(job batch.Job) {
	w.t.Helper()
	if job.CostReservedCents != 0 {
		w.t.Fatalf("job %s still has %d cents reserved", job.ID, job.CostReservedCents)
	}
	usage, err := w.sys.Tasks.Budget.Usage(context.Background(), budget.Day(w.clock.Now()))
	if err != nil || usage.ReservedCents != 0 {
		w.t.Fatalf("the day still has %d cents reserved (%v)", usage.ReservedCents, err)
	}
}

// billedTwice lists the addresses billed more than once on an endpoint.
func billedTwice(sim *attomsim.Server) []string {
	var twice []string
	for key, byEndpoint := range sim.BilledBy() {
		for ep, n := range byEndpoint {
			if n > 1 {
				twice = append(twice, fmt.Sprintf("%s/%s x%d", key, ep, n))
			}
		}
	}
	return twice
}

// Failure 1: the same list renamed, reordered, with one note edited and one new address,
// bought every report again (55 of 74). It now buys only the new address.
func TestASecondListBuysOnlyWhatIsNew(t *testing.T) {
	w := newWorld(t, 100000, attomsim.Options{Seed: 3})
	rows := addresses(30)
	_, first := w.runNamed(w.csvFile("week1.csv", rows...), "week 1", batch.SubmitOptions{})
	sim := w.sys.Attom.Simulator
	bought := sim.BilledCount()
	if first.Status != batch.StatusCompleted || bought == 0 {
		t.Fatalf("first list: %s, billed %d", first.Status, bought)
	}
	again := slices.Clone(rows)
	slices.Reverse(again)
	again[3] = strings.Replace(again[3], ",spring", ",autumn", 1) // a note edited
	again = append(again, "977 New Road,Springfield,IL,62701,spring")
	w.clock.Advance(time.Hour)
	_, second := w.runNamed(w.csvFile("week2-renamed.csv", again...), "week 2", batch.SubmitOptions{})
	if second.ID == first.ID || second.Status != batch.StatusCompleted {
		t.Fatalf("second list: job %s (first %s) status %s", second.ID, first.ID, second.Status)
	}
	if got := sim.BilledCount() - bought; got > 1 {
		t.Fatalf("the second list bought %d reports; only the new address may cost anything", got)
	}
	if second.ReusedRecords != 30 || second.CostSpentCents > 10 {
		t.Fatalf("reused %d (want 30), spent %d", second.ReusedRecords, second.CostSpentCents)
	}
	if second.RecordsFound+second.NotFoundRecords != 31 || second.LeadsUpdated != first.LeadsCreated {
		t.Fatalf("found %d + not found %d (want 31), leads updated %d (want %d)",
			second.RecordsFound, second.NotFoundRecords, second.LeadsUpdated, first.LeadsCreated)
	}
	checkCounts(t, second)
	w.checkMoney(second)
	if twice := billedTwice(sim); len(twice) > 0 {
		t.Fatalf("bought twice: %v", twice)
	}
}

// Answers older than the reuse window, and every answer with a window of 0, are bought fresh.
func TestOldAnswersAndMaxAgeZeroBuyFresh(t *testing.T) {
	w := newWorld(t, 100000, attomsim.Options{NotFoundRate: -1})
	path := w.csvFile("list.csv", addresses(6)...)
	w.runNamed(path, "first", batch.SubmitOptions{})
	sim := w.sys.Attom.Simulator
	zero := 0
	_, fresh := w.runNamed(path, "fresh", batch.SubmitOptions{MaxAgeDays: &zero})
	if sim.BilledCount() != 12 || fresh.ReusedRecords != 0 {
		t.Fatalf("max age 0: billed %d (want 12), reused %d", sim.BilledCount(), fresh.ReusedRecords)
	}
	w.clock.Advance(31 * 24 * time.Hour)
	_, late := w.runNamed(path, "a month later", batch.SubmitOptions{})
	if sim.BilledCount() != 18 || late.ReusedRecords != 0 {
		t.Fatalf("after 31 days: billed %d (want 18), reused %d", sim.BilledCount(), late.ReusedRecords)
	}
	w.clock.Advance(24 * time.Hour)
	_, reused := w.runNamed(path, "the next day", batch.SubmitOptions{})
	if sim.BilledCount() != 18 || reused.ReusedRecords != 6 {
		t.Fatalf("a day after buying: billed %d (want 18), reused %d (want 6)", sim.BilledCount(), reused.ReusedRecords)
	}
	for _, rec := range w.lookups(reused) {
		if !rec.Reused || rec.FetchedAt == nil || rec.BilledCents != 0 {
			t.Fatalf("a reused record must say so, carry its fetch time and cost nothing: %+v", rec)
		}
	}
}

// lookups reads a finished job's lookup records from its results.
func (w *world) lookups(job batch.Job) []batch.LookupRecord {
	w.t.Helper()
	var out []batch.LookupRecord
	for chunk := range job.ChunkCount {
		recs, err := w.sys.Tasks.Lookups.ChunkLookups(context.Background(), job.ID, chunk)
		if err != nil {
			w.t.Fatal(err)
		}
		for _, r := range recs {
			out = append(out, r)
		}
	}
	return out
}

// Failure 4: 200s cut short are billed by ATTOM. They now count against the cap and the job
// at once, are retried at most once, and an address broken twice is an error with its
// reason; the job goes on. What ATTOM billed each day never exceeds the cap, and the day's
// counter says exactly what ATTOM billed.
func TestBrokenAnswersAreCountedAtOnceAndNeverPassTheCap(t *testing.T) {
	const capCents = 500
	w := newWorld(t, capCents, attomsim.Options{Seed: 11, MalformedRate: 0.2, NotFoundRate: -1})
	exec, job := w.runNamed(w.csvFile("broken.csv", addresses(74)...), "broken", batch.SubmitOptions{})
	if exec.Status != statemachine.StatusSucceeded || job.Status != batch.StatusCompleted {
		t.Fatalf("status %s (%s); job %s %q", exec.Status, exec.Error, job.Status, job.Error)
	}
	sim := w.sys.Attom.Simulator
	ledger := sim.Ledger()
	var days int
	var spentOnDays int64
	for d := start; budget.Day(d) <= budget.Day(w.clock.Now()); d = d.Add(24 * time.Hour) {
		usage, err := w.sys.Tasks.Budget.Usage(context.Background(), budget.Day(d))
		if err != nil {
			t.Fatal(err)
		}
		if usage.SpentCents > capCents {
			t.Fatalf("day %s: spent %d over the cap %d", usage.Day, usage.SpentCents, capCents)
		}
		spentOnDays += usage.SpentCents
		days++
	}
	billed := int64(len(ledger)) * 10
	if spentOnDays != billed || job.CostSpentCents != billed {
		t.Fatalf("ATTOM billed %d cents; the days say %d, the job %d", billed, spentOnDays, job.CostSpentCents)
	}
	if days < 2 || billed > int64(days)*capCents {
		t.Fatalf("billed %d cents over %d days with a %d cap", billed, days, capCents)
	}
	for key, byEndpoint := range sim.BilledBy() {
		if n := byEndpoint["expandedprofile"]; n > 2 {
			t.Fatalf("%s billed %d times: a broken answer is retried once", key, n)
		}
	}
	var errs int
	for _, rec := range w.lookups(job) {
		if rec.Outcome == batch.LookupError {
			errs++
			if !strings.Contains(rec.Reason, "could not be read") {
				t.Fatalf("error without its reason: %+v", rec)
			}
		}
	}
	if errs != job.ErrorRecords {
		t.Fatalf("error records %d, job errors %d", errs, job.ErrorRecords)
	}
	checkCounts(t, job)
	w.checkMoney(job)
}

// Failure 5: with two endpoints, when the second failed after the first billed, the address
// was stored as found without it and never completed. Now the job waits for ATTOM, then buys
// only the missing endpoint: every lead has its valuation, and nothing is bought twice.
func TestAPartialAnswerIsCompletedNotPassedAsFound(t *testing.T) {
	for _, maxAge := range []int{30, 0} {
		t.Run(fmt.Sprintf("max age %d days", maxAge), func(t *testing.T) { testPartialAnswer(t, maxAge) })
	}
}

// testPartialAnswer: also a job that buys everything fresh keeps what it bought itself.
func testPartialAnswer(t *testing.T, maxAge int) {
	w := newWorldWith(t, func(c *config.Config) {
		c.Endpoints, c.ReuseMaxAgeDays = []string{"expandedprofile", "avm"}, maxAge
	}, attomsim.Options{NotFoundRate: -1, EndpointFailures: map[string]float64{"avm": 1}})
	sim := w.sys.Attom.Simulator
	healed := healWhenPaused(t, w, func() { sim.SetFault(attomsim.Fault{}) })
	exec, job := w.runNamed(w.csvFile("two.csv", addresses(12)...), "two endpoints", batch.SubmitOptions{})
	<-healed
	if exec.Status != statemachine.StatusSucceeded || job.Status != batch.StatusCompleted {
		t.Fatalf("status %s; job %s %q", exec.Status, job.Status, job.Error)
	}
	leads, _ := w.sys.Tasks.Stores.Leads.LeadsByBatch(context.Background(), job.ID)
	if len(leads) != 12 {
		t.Fatalf("leads %d", len(leads))
	}
	for _, l := range leads {
		if l.Value == nil {
			t.Fatalf("lead %s has no valuation", l.Address)
		}
	}
	for key, byEndpoint := range sim.BilledBy() {
		if byEndpoint["expandedprofile"] != 1 || byEndpoint["avm"] != 1 {
			t.Fatalf("%s billed %v: each endpoint once", key, byEndpoint)
		}
	}
	checkCounts(t, job)
	w.checkMoney(job)
}

// healWhenPaused calls heal once the job pauses because ATTOM is unavailable; the returned
// channel closes when it has.
func healWhenPaused(t *testing.T, w *world, heal func()) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			jobs, _ := w.sys.Tasks.Jobs.ListJobs(context.Background(), 1)
			if len(jobs) == 1 && jobs[0].PauseReason == batch.DeferredByOutage {
				heal()
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
		t.Error("the job never paused for ATTOM")
		heal()
	}()
	return done
}

// Failure 6: sustained 429s failed the job after about 30 s. They now slow the client and the
// job completes, paying once per address.
func TestSustained429sNeverFailTheJob(t *testing.T) {
	w := newWorld(t, 100000, attomsim.Options{NotFoundRate: -1, Burst429: 150, RatePerMinute: 6000})
	exec, job := w.runNamed(w.csvFile("busy.csv", addresses(10)...), "busy", batch.SubmitOptions{})
	if exec.Status != statemachine.StatusSucceeded || job.Status != batch.StatusCompleted {
		t.Fatalf("status %s; job %s %q", exec.Status, job.Status, job.Error)
	}
	sim := w.sys.Attom.Simulator
	if sim.StatusCounts()[429] < 150 || sim.BilledCount() != 10 {
		t.Fatalf("429s %d (want 150 or more), billed %d (want 10)", sim.StatusCounts()[429], sim.BilledCount())
	}
	if w.sys.Attom.Client.CurrentRate() >= 6000 {
		t.Fatalf("the client did not slow down after 429s: %.1f/min", w.sys.Attom.Client.CurrentRate())
	}
}

// Failure 7: counts added up only for completed jobs, and the estimate was computed after the
// local lookups (0 calls). A job the cap pauses now adds up with its pending addresses, and
// its response says what it will buy before any lookup.
func TestAPausedJobsCountsAddUpAndItsEstimateCameFirst(t *testing.T) {
	w := newWorld(t, 100, attomsim.Options{NotFoundRate: -1})
	id, err := w.sys.Submit(context.Background(), w.csvFile("capped.csv", addresses(25)...), batch.SubmitOptions{Name: "capped"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.sys.Tasks.Poll(context.Background(), batch.Step{JobID: id}); err != nil {
		t.Fatal(err)
	}
	job := w.job(id)
	if job.Status != batch.StatusPaused || job.RecordsFound != 10 || job.PendingRecords() != 15 {
		t.Fatalf("status %s found %d pending %d", job.Status, job.RecordsFound, job.PendingRecords())
	}
	checkCounts(t, job)
	if !strings.Contains(job.Response, `"estimated_calls":25`) || !strings.Contains(job.Response, `"remaining_calls":15`) {
		t.Fatalf("response %s", job.Response)
	}
	if job.PausedUntil == nil || !job.PausedUntil.Equal(budget.NextReset(start)) || job.PauseReason != batch.DeferredByCap {
		t.Fatalf("paused %v until %v", job.PauseReason, job.PausedUntil)
	}
	w.checkMoney(job)
}

// Cancel stops feeding lookups, settles, ends the pipeline without failing the job, and
// resume continues it to completed without buying anything twice.
func TestCancelThenResume(t *testing.T) {
	w := newWorld(t, 100000, attomsim.Options{NotFoundRate: -1, Latency: 20 * time.Millisecond})
	path := w.csvFile("long.csv", addresses(200)...)
	ctx := context.Background()
	var wg sync.WaitGroup
	wg.Add(1)
	var exec *statemachine.Execution
	var id string
	go func() {
		defer wg.Done()
		var err error
		id, exec, err = w.sys.RunAll(ctx, path, batch.SubmitOptions{Name: "long"})
		if err != nil {
			t.Error(err)
		}
	}()
	sim := w.sys.Attom.Simulator
	for sim.BilledCount() < 10 {
		time.Sleep(5 * time.Millisecond)
	}
	if err := w.sys.Cancel(ctx, w.sys.CurrentJob()); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	job := w.job(id)
	if !slices.Contains(exec.Path(), "Cancelled") || job.Status != batch.StatusCancelled {
		t.Fatalf("path %v, job %s", exec.Path(), job.Status)
	}
	if job.PendingRecords() == 0 || sim.BilledCount() >= 200 {
		t.Fatalf("cancel stopped nothing: pending %d, billed %d", job.PendingRecords(), sim.BilledCount())
	}
	checkCounts(t, job)
	w.checkMoney(job)
	exec, err := w.sys.Resume(ctx, id)
	if err != nil || exec.Status != statemachine.StatusSucceeded {
		t.Fatalf("resume: %v %v", err, exec)
	}
	job = w.job(id)
	if job.Status != batch.StatusCompleted || sim.BilledCount() != 200 || len(billedTwice(sim)) > 0 {
		t.Fatalf("after resume: %s, billed %d, twice %v", job.Status, sim.BilledCount(), billedTwice(sim))
	}
	checkCounts(t, job)
	w.checkMoney(job)
}

// Failure 3, at its root: two attempts at one chunk at once (two drivers, a redelivered
// event). The chunk's lease lets one look up while the other waits, and nothing is bought
// twice.
func TestTwoAttemptsAtOneChunkNeverBuyTwice(t *testing.T) {
	w := newWorldWith(t, func(c *config.Config) { c.LeaseSeconds = 1 }, attomsim.Options{NotFoundRate: -1, Latency: 10 * time.Millisecond})
	ctx := context.Background()
	step, ref := w.prepared("one", 5)
	var wg sync.WaitGroup
	results := make([]batch.ChunkResult, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := w.sys.Tasks.LookupChunk(ctx, ref)
			if err != nil {
				t.Error(err)
			}
			results[i] = res
		}()
	}
	wg.Wait()
	sim := w.sys.Attom.Simulator
	if sim.BilledCount() != 5 || len(billedTwice(sim)) > 0 {
		t.Fatalf("billed %d, twice %v", sim.BilledCount(), billedTwice(sim))
	}
	if results[0].Status != batch.ChunkDone || results[1].Status != batch.ChunkDone {
		t.Fatalf("results %+v", results)
	}
	job := w.job(step.JobID)
	if job.CostSpentCents != 50 || job.CostReservedCents != 0 {
		t.Fatalf("job spent %d reserved %d", job.CostSpentCents, job.CostReservedCents)
	}
}

// A second driver of a job is refused, naming the one that holds it.
func TestASecondDriverIsRefusedNamingTheHolder(t *testing.T) {
	w := newWorld(t, 100000, attomsim.Options{NotFoundRate: -1, Latency: 20 * time.Millisecond})
	path := w.csvFile("held.csv", addresses(60)...)
	ctx := context.Background()
	done := make(chan error, 1)
	go func() {
		_, _, err := w.sys.RunAll(ctx, path, batch.SubmitOptions{Name: "held"})
		done <- err
	}()
	sim := w.sys.Attom.Simulator
	for sim.BilledCount() < 3 {
		time.Sleep(5 * time.Millisecond)
	}
	_, _, err := w.sys.RunAll(ctx, path, batch.SubmitOptions{Name: "held"})
	var busy *embeddedapp.JobBusy
	if err == nil || !strings.Contains(err.Error(), "being run by") || !errors.As(err, &busy) {
		t.Fatalf("second run-all: %v", err)
	}
	if _, err := w.sys.Resume(ctx, w.sys.CurrentJob()); err == nil || !strings.Contains(err.Error(), "being run by") {
		t.Fatalf("resume while driven: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if sim.BilledCount() != 60 || len(billedTwice(sim)) > 0 {
		t.Fatalf("billed %d, twice %v", sim.BilledCount(), billedTwice(sim))
	}
}

// A dead attempt's open reservation is settled by whoever takes its chunk over: what it
// stored is spent, up to one call per worker is kept as possibly billed, the rest refunded.
func TestADeadAttemptsReservationIsSettled(t *testing.T) {
	w := newWorldWith(t, func(c *config.Config) { c.LeaseSeconds = 1 }, attomsim.Options{NotFoundRate: -1})
	ctx := context.Background()
	step, ref := w.prepared("dead", 5)
	day := budget.Day(w.clock.Now())
	// A driver reserved 50 cents for the chunk and died before buying anything.
	if err := w.sys.Tasks.Budget.Reserve(ctx, day, 50); err != nil {
		t.Fatal(err)
	}
	if err := w.sys.Tasks.Jobs.AddCounters(ctx, step.JobID, batch.Counters{CostReservedCents: 50}); err != nil {
		t.Fatal(err)
	}
	dead := batch.Lease{Name: "chunk:" + step.JobID + ":0", Owner: "attempt-dead", Holder: "a dead driver",
		Since: w.clock.Now(), Expires: w.clock.Now().Add(time.Second), Data: `{"day":"` + day + `","reserved_cents":50}`}
	if _, err := w.sys.Tasks.Leases.AcquireLease(ctx, dead, w.clock.Now()); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(2 * time.Second)
	if _, err := w.sys.Tasks.LookupChunk(ctx, ref); err != nil {
		t.Fatal(err)
	}
	usage, _ := w.sys.Tasks.Budget.Usage(ctx, day)
	job := w.job(step.JobID)
	// 4 workers x 10 cents possibly in flight at the death, plus 5 addresses bought now.
	if usage.ReservedCents != 0 || usage.SpentCents != 40+50 || job.CostUncertainCents != 40 || job.CostSpentCents != 90 || job.CostReservedCents != 0 {
		t.Fatalf("day reserved %d spent %d; job spent %d uncertain %d", usage.ReservedCents, usage.SpentCents,
			job.CostSpentCents, job.CostUncertainCents)
	}
}

// A refused key still fails the job at once, with a message that says so.
func TestARefusedKeyFailsAtOnceSayingSo(t *testing.T) {
	w := newWorld(t, 100000, attomsim.Options{APIKey: "the-real-key"})
	exec, job := w.runNamed(w.csvFile("key.csv", addresses(12)...), "bad key", batch.SubmitOptions{})
	if exec.Status != statemachine.StatusFailed || job.Status != batch.StatusFailed {
		t.Fatalf("status %s, job %s", exec.Status, job.Status)
	}
	if !strings.Contains(strings.ToLower(job.Error), "unauthorized") {
		t.Fatalf("job error %q does not say the key was refused", job.Error)
	}
	if calls := w.sys.Attom.Simulator.StatusCounts()[401]; calls > 4 {
		t.Fatalf("%d calls after the key was refused", calls)
	}
	checkCounts(t, job)
	w.checkMoney(job)
}

// On AWS each pipeline execution is the driver and its lease covers its waits: a redelivered
// event's execution finds the job held and ends as a duplicate, and an execution that lost
// the job can start no lookup Map and look up no chunk.
func TestARedeliveredEventOrAStaleExecutionStartsNoSecondLookup(t *testing.T) {
	w := newWorld(t, 100000, attomsim.Options{NotFoundRate: -1})
	w.sys.Tasks.Settings.LeaseCoversWaits = true
	ctx := context.Background()
	ev, err := w.sys.Upload(ctx, w.csvFile("s3.csv", addresses(7)...), batch.SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := w.sys.Tasks.Prepare(ctx, batch.PrepareInput{Event: ev, ExecutionID: "arn:execution:first"})
	if err != nil || first.Duplicate || first.Driver != "arn:execution:first" {
		t.Fatalf("first delivery: %+v %v", first, err)
	}
	again, err := w.sys.Tasks.Prepare(ctx, batch.PrepareInput{Event: ev, ExecutionID: "arn:execution:second"})
	if err != nil || !again.Duplicate {
		t.Fatalf("a redelivered event while the first execution holds the job: %+v %v", again, err)
	}
	stale := first
	stale.Driver = "arn:execution:second"
	var lost *batch.LeaseLost
	if _, err := w.sys.Tasks.Submit(ctx, stale); !errors.As(err, &lost) {
		t.Fatalf("submit by an execution that does not hold the job: %v", err)
	}
	ref := batch.ChunkRef{JobID: first.JobID, Chunk: 0, Key: "batches/" + first.JobID + "/chunks/000000.jsonl", Driver: "arn:execution:second"}
	if _, err := w.sys.Tasks.LookupChunk(ctx, ref); !errors.As(err, &lost) {
		t.Fatalf("a chunk of a stale run: %v", err)
	}
	if n := w.sys.Attom.Simulator.BilledCount(); n != 0 {
		t.Fatalf("billed %d", n)
	}
	// The holder's own steps go on.
	if _, err := w.sys.Tasks.Submit(ctx, first); err != nil {
		t.Fatal(err)
	}
	if n := w.sys.Attom.Simulator.BilledCount(); n != 7 || len(billedTwice(w.sys.Attom.Simulator)) > 0 {
		t.Fatalf("billed %d", n)
	}
}

// A list the answer cache already knows finishes the same day, even when the day's cap
// covers only a few addresses: a run that planned fewer chunks than are left, without
// meeting the cap, goes on at once instead of waiting for midnight.
func TestAKnownListDoesNotWaitForTheCap(t *testing.T) {
	w := newWorld(t, 50, attomsim.Options{NotFoundRate: -1})
	path := w.csvFile("known.csv", addresses(12)...)
	w.runNamed(path, "first", batch.SubmitOptions{}) // 5 lookups a day: three days
	day := budget.Day(w.clock.Now())
	exec, again := w.runNamed(path, "again", batch.SubmitOptions{})
	if again.Status != batch.StatusCompleted || again.ReusedRecords != 12 || again.CostSpentCents != 0 {
		t.Fatalf("job %s reused %d spent %d", again.Status, again.ReusedRecords, again.CostSpentCents)
	}
	if got := budget.Day(w.clock.Now()); got != day {
		t.Fatalf("a list that costs nothing waited from %s to %s; path %v", day, got, exec.Path())
	}
}

// A lookup task near its deadline (a Lambda's timeout, which a 429 storm's waits could
// outlast) stops feeding, lets its calls finish, settles and defers its chunk; nothing is
// lost and the rest is bought by the next run.
func TestALookupNearItsDeadlineDefersItsChunk(t *testing.T) {
	w := newWorldWith(t, func(c *config.Config) { c.ChunkSize = 40 }, attomsim.Options{NotFoundRate: -1, Latency: 100 * time.Millisecond})
	ctx := context.Background()
	step, ref := w.prepared("slow", 40)
	deadline, cancel := context.WithTimeout(ctx, 45*time.Second+300*time.Millisecond)
	defer cancel()
	res, err := w.sys.Tasks.LookupChunk(deadline, ref)
	if err != nil || res.Status != batch.ChunkDeferred || res.LookedUp == 0 || res.LookedUp == 40 {
		t.Fatalf("result %+v, %v: want deferred after some lookups", res, err)
	}
	job := w.job(step.JobID)
	sim := w.sys.Attom.Simulator
	if int64(sim.BilledCount())*10 != job.CostSpentCents || job.CostReservedCents != 0 || job.LookedUpRecords != res.LookedUp {
		t.Fatalf("billed %d, job spent %d reserved %d looked up %d", sim.BilledCount(), job.CostSpentCents, job.CostReservedCents, job.LookedUpRecords)
	}
	marker, err := w.sys.Blobs.List(ctx, "batches/"+step.JobID+"/deferred/r/")
	if err != nil || len(marker) != 1 {
		t.Fatalf("deferral markers %v %v", marker, err)
	}
}
