package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/batch"
)

// RunJobs checks a JobStore: conditional create, not-found, optimistic locking under
// concurrency, atomic counters, newest-first listing and that every field round-trips.
func RunJobs(t *testing.T, newStore func(t *testing.T) batch.JobStore) {
	t.Run("CreateIsConditional", func(t *testing.T) { testCreateJobConditional(t, newStore(t)) })
	t.Run("GetMissing", func(t *testing.T) { testGetJobMissing(t, newStore(t)) })
	t.Run("EveryFieldRoundTrips", func(t *testing.T) { testJobRoundTrip(t, newStore(t)) })
	t.Run("EveryFieldRoundTripsThroughUpdate", func(t *testing.T) { testJobUpdateRoundTrip(t, newStore(t)) })
	t.Run("NilTimesStayNil", func(t *testing.T) { testJobNilTimes(t, newStore(t)) })
	t.Run("Update", func(t *testing.T) { testUpdateJob(t, newStore(t)) })
	t.Run("UpdateMissing", func(t *testing.T) { testUpdateJobMissing(t, newStore(t)) })
	t.Run("UpdateErrorLeavesJob", func(t *testing.T) { testUpdateJobMutateError(t, newStore(t)) })
	t.Run("ConcurrentUpdatesAllLand", func(t *testing.T) { testConcurrentUpdates(t, newStore(t)) })
	t.Run("ConcurrentCountersAddUp", func(t *testing.T) { testConcurrentCounters(t, newStore(t)) })
	t.Run("CountersAndUpdatesInterleave", func(t *testing.T) { testCountersWithUpdates(t, newStore(t)) })
	t.Run("CountersOnMissing", func(t *testing.T) { testCountersMissing(t, newStore(t)) })
	t.Run("ListNewestFirst", func(t *testing.T) { testListJobs(t, newStore(t)) })
}

func newJob(id string, created time.Time) batch.Job {
	return batch.Job{
		ID: id, Name: "job " + id, FileName: "in.csv", FilePath: "incoming/in.csv",
		Status: batch.StatusCreated, RecordCount: 3, CreatedAt: created,
	}
}

func mustCreate(t *testing.T, s batch.JobStore, job batch.Job) {
	t.Helper()
	created, err := s.CreateJob(context.Background(), job)
	if err != nil || !created {
		t.Fatalf("CreateJob(%s) = %v, %v; want true, nil", job.ID, created, err)
	}
}

func mustGet(t *testing.T, s batch.JobStore, id string) batch.Job {
	t.Helper()
	job, err := s.GetJob(context.Background(), id)
	if err != nil {
		t.Fatalf("GetJob(%s): %v", id, err)
	}
	return job
}

func testCreateJobConditional(t *testing.T, s batch.JobStore) {
	id := uniq("job")
	mustCreate(t, s, newJob(id, base))
	again := newJob(id, base.Add(time.Hour))
	again.Name = "overwritten"
	created, err := s.CreateJob(context.Background(), again)
	if err != nil || created {
		t.Fatalf("second CreateJob = %v, %v; want false, nil", created, err)
	}
	if got := mustGet(t, s, id); got.Name != "job "+id || !got.CreatedAt.Equal(base) {
		t.Errorf("second CreateJob overwrote the job: name %q created %v", got.Name, got.CreatedAt)
	}
}

func testGetJobMissing(t *testing.T, s batch.JobStore) {
	_, err := s.GetJob(context.Background(), uniq("absent"))
	if !errors.Is(err, batch.ErrNotFound) {
		t.Errorf("GetJob of a missing job: %v, want ErrNotFound", err)
	}
}

// comparableJob drops Version, which the store owns.
func comparableJob(j batch.Job) batch.Job {
	j.Version = 0
	return j
}

func wantJob(j batch.Job) batch.Job {
	j = comparableJob(j)
	j.CreatedAt = utc(j.CreatedAt)
	for _, p := range []**time.Time{&j.UpdatedAt, &j.SubmittedAt, &j.LastChecked, &j.DownloadedAt, &j.ProcessingStartedAt, &j.ProcessingCompletedAt, &j.PausedUntil} {
		*p = utcPtr(*p)
	}
	return j
}

func testJobRoundTrip(t *testing.T, s batch.JobStore) {
	var job batch.Job
	fill(&job, 1)
	job.ID = uniq("job")
	job.Version = 0
	mustCreate(t, s, job)
	got := mustGet(t, s, job.ID)
	if d := diff(wantJob(job), comparableJob(got)); d != "" {
		t.Errorf("job round trip (-want +got):\n%s", d)
	}
	requireUTC(t, "job", got)
}

// testJobUpdateRoundTrip writes every field with UpdateJob, then clears the optional ones.
func testJobUpdateRoundTrip(t *testing.T, s batch.JobStore) {
	job := newJob(uniq("job"), base)
	mustCreate(t, s, job)
	var want batch.Job
	fill(&want, 2)
	want.ID = job.ID
	for _, w := range []batch.Job{want, newJob(job.ID, base.Add(time.Hour))} {
		if _, err := s.UpdateJob(context.Background(), job.ID, func(j *batch.Job) error {
			w.Version = j.Version // the store's
			*j = w
			return nil
		}); err != nil {
			t.Fatalf("UpdateJob: %v", err)
		}
		got := mustGet(t, s, job.ID)
		if d := diff(wantJob(w), comparableJob(got)); d != "" {
			t.Errorf("job written by UpdateJob (-want +got):\n%s", d)
		}
		requireUTC(t, "job", got)
	}
}

func testJobNilTimes(t *testing.T, s batch.JobStore) {
	job := newJob(uniq("job"), base)
	mustCreate(t, s, job)
	got := mustGet(t, s, job.ID)
	if d := diff(wantJob(job), comparableJob(got)); d != "" {
		t.Errorf("minimal job round trip (-want +got):\n%s", d)
	}
	for name, p := range map[string]*time.Time{
		"SubmittedAt": got.SubmittedAt, "LastChecked": got.LastChecked, "DownloadedAt": got.DownloadedAt,
		"ProcessingStartedAt": got.ProcessingStartedAt, "ProcessingCompletedAt": got.ProcessingCompletedAt,
		"PausedUntil": got.PausedUntil,
	} {
		if p != nil {
			t.Errorf("%s = %v, want nil", name, *p)
		}
	}
}

func testUpdateJob(t *testing.T, s batch.JobStore) {
	ctx := context.Background()
	job := newJob(uniq("job"), base)
	mustCreate(t, s, job)
	before := mustGet(t, s, job.ID)
	submitted := base.Add(time.Minute)
	updated, err := s.UpdateJob(ctx, job.ID, func(j *batch.Job) error {
		j.Status = batch.StatusSubmitted
		j.SubmittedAt = &submitted
		j.Endpoints = []string{"expandedprofile", "attomavm/detail"}
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateJob: %v", err)
	}
	got := mustGet(t, s, job.ID)
	if d := diff(comparableJob(updated), comparableJob(got)); d != "" {
		t.Errorf("UpdateJob's result differs from GetJob (-returned +stored):\n%s", d)
	}
	if got.Status != batch.StatusSubmitted || got.SubmittedAt == nil || !got.SubmittedAt.Equal(submitted) || len(got.Endpoints) != 2 {
		t.Errorf("update not stored: %+v", got)
	}
	if got.Name != job.Name || !got.CreatedAt.Equal(base) {
		t.Errorf("fields the mutation left alone changed: %+v", got)
	}
	if got.Version <= before.Version {
		t.Errorf("Version %d after update, was %d: want it to grow", got.Version, before.Version)
	}
}

func testUpdateJobMissing(t *testing.T, s batch.JobStore) {
	called := false
	_, err := s.UpdateJob(context.Background(), uniq("absent"), func(*batch.Job) error { called = true; return nil })
	if !errors.Is(err, batch.ErrNotFound) {
		t.Errorf("UpdateJob of a missing job: %v, want ErrNotFound", err)
	}
	if called {
		t.Error("mutate was called for a missing job")
	}
}

func testUpdateJobMutateError(t *testing.T, s batch.JobStore) {
	job := newJob(uniq("job"), base)
	mustCreate(t, s, job)
	refuse := errors.New("refused by mutate")
	_, err := s.UpdateJob(context.Background(), job.ID, func(j *batch.Job) error {
		j.Status = batch.StatusFailed
		return refuse
	})
	if !errors.Is(err, refuse) {
		t.Errorf("UpdateJob = %v, want the mutate error wrapped", err)
	}
	if got := mustGet(t, s, job.ID); got.Status != batch.StatusCreated {
		t.Errorf("a refused mutation was stored: status %q", got.Status)
	}
}

func testConcurrentUpdates(t *testing.T, s batch.JobStore) {
	const writers = 20
	job := newJob(uniq("job"), base)
	mustCreate(t, s, job)
	runConcurrently(t, writers, func(int) error {
		_, err := s.UpdateJob(context.Background(), job.ID, func(j *batch.Job) error {
			j.ProcessedRecords++
			return nil
		})
		return err
	})
	if got := mustGet(t, s, job.ID); got.ProcessedRecords != writers {
		t.Errorf("ProcessedRecords = %d after %d concurrent increments: updates were lost", got.ProcessedRecords, writers)
	}
}

func testConcurrentCounters(t *testing.T, s batch.JobStore) {
	const writers = 50
	job := newJob(uniq("job"), base)
	mustCreate(t, s, job)
	runConcurrently(t, writers, func(int) error {
		return s.AddCounters(context.Background(), job.ID, batch.Counters{
			RecordsFound: 1, NotFoundRecords: 2, ErrorRecords: 3, LookedUpRecords: 4,
			ChunksDone: 5, CostReservedCents: 6, CostSpentCents: 7, ReusedRecords: 8, CostUncertainCents: 9,
			ProcessedRecords: 10, LeadsCreated: 11, LeadsUpdated: 12,
		})
	})
	got := mustGet(t, s, job.ID)
	want := []int64{writers, 2 * writers, 3 * writers, 4 * writers, 5 * writers, 6 * writers, 7 * writers, 8 * writers, 9 * writers,
		10 * writers, 11 * writers, 12 * writers}
	have := []int64{int64(got.RecordsFound), int64(got.NotFoundRecords), int64(got.ErrorRecords),
		int64(got.LookedUpRecords), int64(got.ChunksDone), got.CostReservedCents, got.CostSpentCents,
		int64(got.ReusedRecords), got.CostUncertainCents,
		int64(got.ProcessedRecords), int64(got.LeadsCreated), int64(got.LeadsUpdated)}
	if d := diff(want, have); d != "" {
		t.Errorf("counters after %d concurrent AddCounters (found, not found, error, looked up, chunks, reserved, spent, reused, uncertain, processed, leads created, leads updated) (-want +got):\n%s", writers, d)
	}
}

// testCountersWithUpdates checks that UpdateJob never writes back a stale copy over
// counters added in between (AddCounters must take part in the optimistic lock).
func testCountersWithUpdates(t *testing.T, s batch.JobStore) {
	const writers = 10
	job := newJob(uniq("job"), base)
	mustCreate(t, s, job)
	runConcurrently(t, 2*writers, func(i int) error {
		if i%2 == 0 {
			return s.AddCounters(context.Background(), job.ID, batch.Counters{RecordsFound: 1})
		}
		_, err := s.UpdateJob(context.Background(), job.ID, func(j *batch.Job) error {
			j.ProcessedRecords++
			return nil
		})
		return err
	})
	got := mustGet(t, s, job.ID)
	if got.RecordsFound != writers || got.ProcessedRecords != writers {
		t.Errorf("RecordsFound %d (AddCounters) and ProcessedRecords %d (UpdateJob), want %d each",
			got.RecordsFound, got.ProcessedRecords, writers)
	}
}

func testCountersMissing(t *testing.T, s batch.JobStore) {
	err := s.AddCounters(context.Background(), uniq("absent"), batch.Counters{ChunksDone: 1})
	if !errors.Is(err, batch.ErrNotFound) {
		t.Errorf("AddCounters on a missing job: %v, want ErrNotFound", err)
	}
}

func testListJobs(t *testing.T, s batch.JobStore) {
	ctx := context.Background()
	ids := make([]string, 5)
	for _, i := range []int{2, 0, 4, 1, 3} { // inserted out of order
		ids[i] = uniq(fmt.Sprintf("job%d", i))
		mustCreate(t, s, newJob(ids[i], base.Add(time.Duration(i)*time.Minute)))
	}
	for _, tc := range []struct {
		limit int
		want  []string
	}{
		{3, []string{ids[4], ids[3], ids[2]}},
		{0, []string{ids[4], ids[3], ids[2], ids[1], ids[0]}}, // no limit
		{10, []string{ids[4], ids[3], ids[2], ids[1], ids[0]}},
	} {
		jobs, err := s.ListJobs(ctx, tc.limit)
		if err != nil {
			t.Fatalf("ListJobs(%d): %v", tc.limit, err)
		}
		got := make([]string, len(jobs))
		for i, j := range jobs {
			got[i] = j.ID
		}
		if d := diff(tc.want, got); d != "" {
			t.Errorf("ListJobs(%d) ids, newest first (-want +got):\n%s", tc.limit, d)
		}
	}
}

// runConcurrently runs n calls of f at once and fails on any error.
func runConcurrently(t *testing.T, n int, f func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if err := f(i); err != nil {
				errs <- err
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent call: %v", err)
	}
}
