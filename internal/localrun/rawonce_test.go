package localrun_test

import (
	"context"
	"testing"

	"github.com/leadflow/attom-batch/internal/attom"
	"github.com/leadflow/attom-batch/internal/attomsim"
	"github.com/leadflow/attom-batch/internal/batch"
)

// ATTOM's blocks are stored once, in the answer cache (issue 12): a found lookup is stored
// without them, and a chunk resumed after a crash reads them back from the answers. One whose
// answer has meanwhile been replaced by an unusable one is looked up again, so every found
// address still becomes its record and lead.
func TestAResumedChunkReadsTheBlocksBackFromTheAnswers(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 10000, attomsim.Options{NotFoundRate: -1})
	crashing := &crashingAttom{inner: w.sys.Tasks.Attom}
	crashing.left.Store(3)
	crashing.crashed.Store(true)
	w.sys.Tasks.Attom = crashing
	path := w.csvFile("raw-once.csv", addresses(8)...)
	_, job := w.run(path, "raw-once-crash")
	stored, err := w.sys.Tasks.Lookups.ChunkLookups(ctx, job.ID, 0)
	if err != nil || len(stored) != 3 {
		t.Fatalf("lookups stored before the crash: %d, %v; want 3", len(stored), err)
	}
	var replaced string
	for key, rec := range stored {
		if rec.Outcome != batch.LookupFound || rec.Raw != "" {
			t.Fatalf("stored lookup %s: outcome %s, %d bytes of raw; want found, none", key, rec.Outcome, len(rec.Raw))
		}
		replaced = key
	}
	err = w.sys.Tasks.Answers.PutAnswer(ctx, batch.Answer{Key: replaced, Endpoint: attom.EndpointExpandedProfile,
		Outcome: batch.AnswerBroken, Raw: "<html>", BilledCents: 10, FetchedAt: w.clock.Now(), JobID: "job-other"})
	if err != nil {
		t.Fatal(err)
	}

	crashing.crashed.Store(false)
	exec, job := w.run(path, "raw-once-redrive")
	wantPath(t, exec, happyPath...)
	checkCounts(t, job)
	if billed := w.sys.Attom.Simulator.BilledCount(); billed != 9 || job.RecordsFound != 8 || job.LeadsCreated != 8 {
		t.Fatalf("billed %d (want 8 + the replaced one again), found %d, leads %d", billed, job.RecordsFound, job.LeadsCreated)
	}
}
