package localrun_test

import (
	"context"
	"testing"

	"github.com/leadflow/attom-batch/internal/attom"
	"github.com/leadflow/attom-batch/internal/attomsim"
	"github.com/leadflow/attom-batch/internal/batch"
)

// A refresh that buys an address again and gets ATTOM's body cut short (billed, unreadable)
// keeps the address's usable answer: its property record refers to that answer for ATTOM's
// blocks.
func TestABrokenAnswerDoesNotReplaceAUsableOne(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 100000, attomsim.Options{Seed: 7, NotFoundRate: -1})
	_, first := w.run(w.csvFile("first.csv", addresses(3)...), "first")
	if first.Status != batch.StatusCompleted || first.RecordsFound != 3 {
		t.Fatalf("first job %s, found %d", first.Status, first.RecordsFound)
	}
	keys := answerKeys(t, w, first.ID)
	before := answersOf(t, w, keys, first.Endpoints)
	if len(before) != len(keys) {
		t.Fatalf("%d answers stored for %d addresses bought", len(before), len(keys))
	}

	w.sys.Attom.Simulator.SetOptions(attomsim.Options{Seed: 7, NotFoundRate: -1, MalformedRate: 1})
	leads, fresh := true, 0
	ev, err := w.sys.Upload(ctx, w.csvFile("again.csv", addresses(3)...), batch.SubmitOptions{Name: "again", Leads: &leads, MaxAgeDays: &fresh})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.sys.Runner.RunPipeline(ctx, "again", ev); err != nil {
		t.Fatal(err)
	}
	if bought := len(w.sys.Attom.Simulator.Ledger()); bought <= len(keys) {
		t.Fatalf("the refresh bought nothing (%d reports in all)", bought)
	}
	after := answersOf(t, w, keys, first.Endpoints)
	for key, byEndpoint := range before {
		for ep, old := range byEndpoint {
			if got := after[key][ep]; got.Outcome != old.Outcome || got.Raw != old.Raw {
				t.Errorf("%s %s: answer %q (%d bytes) after the broken refresh, want the usable %q kept", key, ep, got.Outcome, len(got.Raw), old.Outcome)
			}
		}
	}
}

// answerKeys are the address keys the job looked up (its one chunk's lookups).
func answerKeys(t *testing.T, w *world, jobID string) []string {
	t.Helper()
	lookups, err := w.sys.Tasks.Lookups.ChunkLookups(context.Background(), jobID, 0)
	if err != nil || len(lookups) == 0 {
		t.Fatalf("the job's lookups: %v (%d)", err, len(lookups))
	}
	var keys []string
	for key := range lookups {
		keys = append(keys, key)
	}
	return keys
}

func answersOf(t *testing.T, w *world, keys, endpoints []string) map[string]map[string]batch.Answer {
	t.Helper()
	if len(endpoints) == 0 {
		endpoints = []string{attom.EndpointExpandedProfile}
	}
	got, err := w.sys.Tasks.Answers.Answers(context.Background(), keys, endpoints)
	if err != nil {
		t.Fatal(err)
	}
	return got
}
