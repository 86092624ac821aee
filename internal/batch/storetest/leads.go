package storetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync/atomic"
	"testing"

	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/leads"
)

// RunLeads checks a LeadStore: one lead per ID, an update keeps CreatedAt and the worked
// Status, and concurrent saves of one property create it once.
func RunLeads(t *testing.T, newStore func(t *testing.T) batch.LeadStore) {
	t.Run("EveryFieldRoundTrips", func(t *testing.T) { testLeadRoundTrip(t, newStore(t)) })
	t.Run("GetMissing", func(t *testing.T) { testGetLeadMissing(t, newStore(t)) })
	t.Run("SaveAgainUpdates", func(t *testing.T) { testSaveLeadAgain(t, newStore(t)) })
	t.Run("ConcurrentSavesCreateOnce", func(t *testing.T) { testConcurrentSaveLead(t, newStore(t)) })
	t.Run("ByBatch", func(t *testing.T) { testLeadsByBatch(t, newStore(t)) })
	t.Run("TopLeads", func(t *testing.T) { testTopLeads(t, newStore(t)) })
}

func lead(id, batchID string, seed int) leads.Lead {
	var l leads.Lead
	fill(&l, seed)
	l.ID, l.PropertyHash, l.BatchID, l.Status = id, id, batchID, leads.StatusNew
	return l
}

func wantLead(l leads.Lead) leads.Lead {
	l.CreatedAt, l.UpdatedAt = utc(l.CreatedAt), utc(l.UpdatedAt)
	return l
}

func save(t *testing.T, s batch.LeadStore, l leads.Lead, wantCreated bool) {
	t.Helper()
	created, err := s.SaveLead(context.Background(), l)
	if err != nil || created != wantCreated {
		t.Fatalf("SaveLead(%s) = %v, %v; want %v, nil", l.ID, created, err, wantCreated)
	}
}

func getLead(t *testing.T, s batch.LeadStore, id string) leads.Lead {
	t.Helper()
	l, err := s.GetLead(context.Background(), id)
	if err != nil {
		t.Fatalf("GetLead(%s): %v", id, err)
	}
	requireUTC(t, "lead", l)
	return l
}

func testLeadRoundTrip(t *testing.T, s batch.LeadStore) {
	l := lead(uniq("lead"), uniq("batch"), 1)
	save(t, s, l, true)
	if d := diff(wantLead(l), getLead(t, s, l.ID)); d != "" {
		t.Errorf("lead round trip (-want +got):\n%s", d)
	}
	bare := leads.Lead{ID: uniq("lead"), Address: "1 A ST, X, TX 75001", Status: leads.StatusNew, CreatedAt: base, UpdatedAt: base}
	save(t, s, bare, true)
	if d := diff(wantLead(bare), getLead(t, s, bare.ID)); d != "" {
		t.Errorf("minimal lead round trip, nil pointers stay nil (-want +got):\n%s", d)
	}
}

func testGetLeadMissing(t *testing.T, s batch.LeadStore) {
	if _, err := s.GetLead(context.Background(), uniq("absent")); !errors.Is(err, batch.ErrNotFound) {
		t.Errorf("GetLead of a missing lead: %v, want ErrNotFound", err)
	}
}

func testSaveLeadAgain(t *testing.T, s batch.LeadStore) {
	first := lead(uniq("lead"), uniq("batch"), 1)
	save(t, s, first, true)
	second := lead(first.ID, uniq("batch"), 2) // new score, data, batch and times
	second.Status = "contacted"
	save(t, s, second, false)
	want := wantLead(second)
	want.CreatedAt = utc(first.CreatedAt)
	want.Status = first.Status
	if d := diff(want, getLead(t, s, first.ID)); d != "" {
		t.Errorf("after saving again, CreatedAt and Status kept, the rest updated (-want +got):\n%s", d)
	}
}

func testConcurrentSaveLead(t *testing.T, s batch.LeadStore) {
	const writers = 10
	id := uniq("lead")
	var creates atomic.Int64
	runConcurrently(t, writers, func(i int) error {
		created, err := s.SaveLead(context.Background(), lead(id, "b", i))
		if created {
			creates.Add(1)
		}
		return err
	})
	if creates.Load() != 1 {
		t.Errorf("%d concurrent saves of one lead reported %d creations, want 1", writers, creates.Load())
	}
}

func testLeadsByBatch(t *testing.T, s batch.LeadStore) {
	b1, b2 := uniq("batch"), uniq("batch")
	l1, l2, l3 := lead("1-"+b1, b1, 1), lead("2-"+b1, b1, 2), lead("3-"+b2, b2, 3)
	for _, l := range []leads.Lead{l1, l2, l3} {
		save(t, s, l, true)
	}
	got, err := s.LeadsByBatch(context.Background(), b1)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(got, func(i, j int) bool { return got[i].ID < got[j].ID })
	if d := diff([]leads.Lead{wantLead(l1), wantLead(l2)}, got); d != "" {
		t.Errorf("LeadsByBatch (-want +got):\n%s", d)
	}
	if none, err := s.LeadsByBatch(context.Background(), uniq("batch")); err != nil || len(none) != 0 {
		t.Errorf("LeadsByBatch of an unknown batch = %d leads, %v; want none", len(none), err)
	}
}

// testTopLeads: at most n of a batch's leads, highest score first.
func testTopLeads(t *testing.T, s batch.LeadStore) {
	b, other := uniq("batch"), uniq("batch")
	scored := func(id, batchID string, score int) leads.Lead {
		l := lead(id, batchID, score)
		l.Score = score
		return l
	}
	for i, score := range []int{40, 90, 10, 70, 55} {
		save(t, s, scored(fmt.Sprintf("%d-%s", i, b), b, score), true)
	}
	save(t, s, scored("x-"+other, other, 99), true)
	top, err := s.TopLeads(context.Background(), b, 3)
	if err != nil {
		t.Fatal(err)
	}
	var scores []int
	for _, l := range top {
		if l.BatchID != b {
			t.Fatalf("lead of batch %s in the top of %s", l.BatchID, b)
		}
		scores = append(scores, l.Score)
	}
	if fmt.Sprint(scores) != "[90 70 55]" {
		t.Fatalf("top 3 scores %v, want [90 70 55]", scores)
	}
	if none, err := s.TopLeads(context.Background(), b, 0); err != nil || len(none) != 0 {
		t.Fatalf("TopLeads(0) = %d, %v", len(none), err)
	}
}
