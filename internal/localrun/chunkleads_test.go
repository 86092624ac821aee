package localrun_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/attomsim"
	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/leads"
	"github.com/leadflow/attom-batch/statemachine"
)

// exportScores checks the export has one line per found row, highest score first, and
// returns the scores.
func exportScores(t *testing.T, w *world, job batch.Job) []int {
	t.Helper()
	recs := readExport(t, w, job)
	if len(recs) == 0 {
		t.Fatal("empty export")
	}
	col := slices.Index(recs[0], "score")
	if col < 0 {
		t.Fatalf("no score column in %v", recs[0])
	}
	var scores []int
	for _, r := range recs[1:] {
		n, err := strconv.Atoi(r[col])
		if err != nil {
			t.Fatalf("score %q: %v", r[col], err)
		}
		scores = append(scores, n)
	}
	if !slices.IsSortedFunc(scores, func(a, b int) int { return b - a }) {
		t.Fatalf("export not best first: %v", scores)
	}
	return scores
}

// Issue 15: a job the cap pauses on day one already has that day's leads, counted on the
// job, and an export holding them, best first.
func TestACappedJobHasTheDaysLeadsAndAnExportWhenItPauses(t *testing.T) {
	w := newWorld(t, 100, attomsim.Options{NotFoundRate: -1}) // 10 reports a day
	ctx := context.Background()
	wantLeads := true
	id, err := w.sys.Submit(ctx, w.csvFile("capped.csv", addresses(25)...), batch.SubmitOptions{Name: "capped", Leads: &wantLeads})
	if err != nil {
		t.Fatal(err)
	}
	// The lookups ran (the embedded launcher is synchronous): the leads grew with each chunk,
	// before any poll.
	if job := w.job(id); job.LeadsCreated != 10 || job.ProcessedRecords != 10 {
		t.Fatalf("before the poll: leads %d, processed %d, want 10 each", job.LeadsCreated, job.ProcessedRecords)
	}
	if _, err := w.sys.Tasks.Poll(ctx, batch.Step{JobID: id}); err != nil {
		t.Fatal(err)
	}
	job := w.job(id)
	if job.Status != batch.StatusPaused || job.RecordsFound != 10 || job.PendingRecords() != 15 {
		t.Fatalf("status %s found %d pending %d", job.Status, job.RecordsFound, job.PendingRecords())
	}
	checkCounts(t, job)
	if job.LeadsCreated != 10 || job.LeadsUpdated != 0 || job.ProcessedRecords != 10 {
		t.Fatalf("paused: leads %d created %d updated, processed %d; want 10, 0, 10", job.LeadsCreated, job.LeadsUpdated, job.ProcessedRecords)
	}
	saved, err := w.sys.Tasks.Stores.Leads.LeadsByBatch(ctx, id)
	if err != nil || len(saved) != 10 {
		t.Fatalf("leads in the store: %d (%v)", len(saved), err)
	}
	if scores := exportScores(t, w, job); len(scores) != 10 {
		t.Fatalf("export has %d leads, want the day's 10", len(scores))
	}
	w.checkMoney(job)
}

// Issue 15: through the whole pipeline with the cap pausing twice, a completed job has
// exactly one lead per property, an export line per found row, and counts that add up and
// never doubled across the days.
func TestACappedJobCompletesWithOneLeadPerProperty(t *testing.T) {
	w := newWorld(t, 50, attomsim.Options{NotFoundRate: -1})
	exec, job := w.run(w.csvFile("big.csv", addresses(12)...), "capped-leads")
	if exec.Status != statemachine.StatusSucceeded || job.Status != batch.StatusCompleted {
		t.Fatalf("status %s %s; job %s", exec.Status, exec.Cause, job.Status)
	}
	checkCounts(t, job)
	saved, _ := w.sys.Tasks.Stores.Leads.LeadsByBatch(context.Background(), job.ID)
	if len(saved) != 12 || job.LeadsCreated != 12 || job.LeadsUpdated != 0 || job.ProcessedRecords != 12 {
		t.Fatalf("leads %d, created %d, updated %d, processed %d; want 12, 12, 0, 12", len(saved), job.LeadsCreated, job.LeadsUpdated, job.ProcessedRecords)
	}
	if scores := exportScores(t, w, job); len(scores) != 12 {
		t.Fatalf("export has %d lines, want 12", len(scores))
	}
	if w.sys.Attom.Simulator.BilledCount() != 12 || len(billedTwice(w.sys.Attom.Simulator)) != 0 {
		t.Fatalf("billed %d, twice %v", w.sys.Attom.Simulator.BilledCount(), billedTwice(w.sys.Attom.Simulator))
	}
	w.checkMoney(job)
}

// failingLeads stands for a crash between a chunk's lookups and its leads: while down, every
// lead write fails after the chunk's lookups were stored.
type failingLeads struct {
	batch.LeadStore
	down atomic.Bool
}

func (f *failingLeads) SaveLead(ctx context.Context, l leads.Lead) (bool, error) {
	if f.down.Load() {
		return false, errors.New("runtime exited: signal: killed")
	}
	return f.LeadStore.SaveLead(ctx, l)
}

// Issue 15: a chunk whose lookups were stored but whose leads were not is finished later, by
// the next day's lookup run (free) or by Process: nothing is lost and nothing bought again.
func TestACrashBetweenAChunksLookupsAndItsLeadsLosesNothingAndBuysNothing(t *testing.T) {
	w := newWorld(t, 50, attomsim.Options{NotFoundRate: -1}) // one chunk of 5 a day
	broken := &failingLeads{LeadStore: w.sys.Tasks.Stores.Leads}
	broken.down.Store(true)
	w.sys.Tasks.Stores.Leads = broken
	// Day one's chunk loses its leads; heal once the job has paused.
	healed := make(chan struct{})
	go func() {
		defer close(healed)
		for {
			jobs, _ := w.sys.Tasks.Jobs.ListJobs(context.Background(), 1)
			if len(jobs) == 1 && jobs[0].Status == batch.StatusPaused {
				broken.down.Store(false)
				return
			}
			if len(jobs) == 1 && jobs[0].Status == batch.StatusCompleted {
				t.Error("the job never paused")
				broken.down.Store(false)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	exec, job := w.run(w.csvFile("crash.csv", addresses(12)...), "leads-crash")
	<-healed
	if exec.Status != statemachine.StatusSucceeded || job.Status != batch.StatusCompleted {
		t.Fatalf("status %s %s; job %s %q", exec.Status, exec.Cause, job.Status, job.Error)
	}
	checkCounts(t, job)
	saved, _ := w.sys.Tasks.Stores.Leads.LeadsByBatch(context.Background(), job.ID)
	if len(saved) != 12 || job.LeadsCreated != 12 || job.ProcessedRecords != 12 {
		t.Fatalf("leads %d, created %d, processed %d; want 12 each", len(saved), job.LeadsCreated, job.ProcessedRecords)
	}
	if scores := exportScores(t, w, job); len(scores) != 12 {
		t.Fatalf("export has %d lines, want 12", len(scores))
	}
	sim := w.sys.Attom.Simulator
	if sim.BilledCount() != 12 || len(billedTwice(sim)) != 0 {
		t.Fatalf("billed %d, twice %v", sim.BilledCount(), billedTwice(sim))
	}
	w.checkMoney(job)
}

// Issue 15: the same, when the crash outlives the lookups: Process finishes the chunk.
func TestProcessFinishesAChunkTheLookupsLeftUnfinished(t *testing.T) {
	w := newWorld(t, 10000, attomsim.Options{NotFoundRate: -1})
	broken := &failingLeads{LeadStore: w.sys.Tasks.Stores.Leads}
	w.sys.Tasks.Stores.Leads = broken
	broken.down.Store(true)
	ctx := context.Background()
	wantLeads := true
	id, err := w.sys.Submit(ctx, w.csvFile("crash.csv", addresses(8)...), batch.SubmitOptions{Name: "crash", Leads: &wantLeads})
	if err != nil {
		t.Fatal(err)
	}
	if job := w.job(id); job.LeadsCreated != 0 || job.LookedUpRecords != 8 {
		t.Fatalf("after the lookups: leads %d, looked up %d", job.LeadsCreated, job.LookedUpRecords)
	}
	broken.down.Store(false)
	step := batch.Step{JobID: id, WantLeads: true}
	if step, err = w.sys.Tasks.Poll(ctx, step); err != nil || step.Lookup != batch.LookupDone {
		t.Fatalf("poll: %v %+v", err, step)
	}
	if step, err = w.sys.Tasks.Download(ctx, step); err != nil {
		t.Fatal(err)
	}
	for step.More = true; step.More; {
		if step, err = w.sys.Tasks.Process(ctx, step); err != nil {
			t.Fatal(err)
		}
	}
	if step, err = w.sys.Tasks.Leads(ctx, step); err != nil {
		t.Fatal(err)
	}
	if _, err = w.sys.Tasks.Complete(ctx, step); err != nil {
		t.Fatal(err)
	}
	job := w.job(id)
	checkCounts(t, job)
	saved, _ := w.sys.Tasks.Stores.Leads.LeadsByBatch(ctx, id)
	if job.Status != batch.StatusCompleted || len(saved) != 8 || job.LeadsCreated != 8 || job.ProcessedRecords != 8 {
		t.Fatalf("job %s: leads %d, created %d, processed %d; want 8 each", job.Status, len(saved), job.LeadsCreated, job.ProcessedRecords)
	}
	if scores := exportScores(t, w, job); len(scores) != 8 {
		t.Fatalf("export has %d lines, want 8", len(scores))
	}
	if sim := w.sys.Attom.Simulator; sim.BilledCount() != 8 || len(billedTwice(sim)) != 0 {
		t.Fatalf("billed %d, twice %v", sim.BilledCount(), billedTwice(sim))
	}
}
