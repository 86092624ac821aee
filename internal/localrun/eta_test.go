package localrun_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/attomsim"
	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/config"
	"github.com/leadflow/attom-batch/statemachine"
)

// slowLookups stands in for a lookup workflow that runs in the background at a given rate
// on the fake clock, as Step Functions does on AWS (the local runner's own lookups finish
// before StartLookup returns, so a local job is never polled while it runs). While a run
// is "running", every status read moves the job's looked_up_records to what ATTOM would
// have answered by now; once the simulated time is up, the real lookup machine runs (in
// an instant of fake time) so the rest of the pipeline works on real results.
type slowLookups struct {
	inner     batch.Launcher
	tasks     *batch.Tasks
	clock     *statemachine.FakeClock
	perMinute float64 // addresses a minute the simulated ATTOM answers
	runs      map[string]*slowRun
}

type slowRun struct {
	in       batch.LookupInput
	start    time.Time
	base     int // looked_up_records when the run started
	planned  int
	finished string // the real run's id once it ran
}

func (s *slowLookups) StartLookup(ctx context.Context, in batch.LookupInput) (string, error) {
	job, err := s.tasks.Jobs.GetJob(ctx, in.JobID)
	if err != nil {
		return "", err
	}
	id := "slow/" + in.JobID + "/" + in.Run
	s.runs[id] = &slowRun{in: in, start: s.clock.Now(), base: job.LookedUpRecords,
		planned: job.UniqueRecords - job.LookedUpRecords}
	return id, nil
}

func (s *slowLookups) LookupStatus(ctx context.Context, id string) (string, string, error) {
	run, ok := s.runs[id]
	if !ok {
		return s.inner.LookupStatus(ctx, id)
	}
	if run.finished != "" {
		return s.inner.LookupStatus(ctx, run.finished)
	}
	done := int(s.clock.Now().Sub(run.start).Minutes() * s.perMinute)
	setLooked := func(n int) error {
		_, err := s.tasks.Jobs.UpdateJob(ctx, run.in.JobID, func(j *batch.Job) error {
			j.LookedUpRecords = n
			return nil
		})
		return err
	}
	if done < run.planned {
		return batch.ExecRunning, "", setLooked(run.base + done)
	}
	// Time is up: the real lookups count themselves from where the run started.
	if err := setLooked(run.base); err != nil {
		return "", "", err
	}
	realID, err := s.inner.StartLookup(ctx, run.in)
	if err != nil {
		return "", "", err
	}
	run.finished = realID
	return s.inner.LookupStatus(ctx, realID)
}

// Issue 12: a million-address job whose lookups run a little slower than the rate the
// estimate assumed must finish without PollTimeout, and be polled a number of times that
// does not grow with the file.
//
// The scenario is time-scaled so it runs in seconds: every wait and poll depends only on
// times (how long the lookups take, poll_min, poll_max), so a job of N addresses at ATTOM's
// 200 a minute is the job of 2,000 addresses at 1 a minute with those times divided by
// k = N / 400,000. The lookups are simulated by slowLookups on the fake clock, then run
// for real (2,000 simulator lookups) when their time is up.
func TestAMillionAddressJobAt95PercentOfTheRateFinishesInAFewHundredPolls(t *testing.T) {
	testSlowJob(t, 1_000_000, 0.95)
}

func TestTenMillionAddressesFinishWithoutPollTimeout(t *testing.T) {
	testSlowJob(t, 10_000_000, 0.98)
}

func testSlowJob(t *testing.T, virtual int, rateShare float64) {
	const addressCount, perMinute = 2000, 1
	k := float64(virtual) / float64(config.Defaults().RatePerMinute) / (addressCount / perMinute)
	w := newWorldWith(t, func(c *config.Config) {
		c.DailyCapCents = 100 * addressCount * 10 // the cap is not what this is about
		c.ChunkSize = 100
	}, attomsim.Options{NotFoundRate: -1})
	defaults := config.Defaults()
	settings := &w.sys.Tasks.Settings
	settings.RatePerMinute = perMinute // the estimate's rate; the simulator itself is not limited
	settings.PollMin = time.Duration(float64(defaults.PollMinSeconds) * float64(time.Second) / k)
	settings.PollMax = time.Duration(float64(defaults.PollMaxSeconds) * float64(time.Second) / k)
	slow := &slowLookups{inner: w.sys.Tasks.Launcher, tasks: w.sys.Tasks, clock: w.clock,
		perMinute: perMinute * rateShare, runs: map[string]*slowRun{}}
	w.sys.Tasks.Launcher = slow

	exec, job := w.run(w.csvFile("big.csv", addresses(addressCount)...), "big")
	polls := strings.Count(strings.Join(exec.Path(), " "), "Poll")
	took := w.clock.Now().Sub(start)
	lookupTime := time.Duration(float64(addressCount) / slow.perMinute * float64(time.Minute))
	t.Logf("%d addresses at %.0f%% of the rate: %d polls; done %.1f h after the start, the lookups took %.1f h (times as for the real size)",
		virtual, rateShare*100, polls, took.Hours()*k, lookupTime.Hours()*k)
	if exec.Status != statemachine.StatusSucceeded || job.Status != batch.StatusCompleted {
		t.Fatalf("execution %s (%s: %s), job %s %q", exec.Status, exec.Error, exec.Cause, job.Status, job.Error)
	}
	checkCounts(t, job)
	if job.RecordsFound != addressCount {
		t.Fatalf("found %d of %d", job.RecordsFound, addressCount)
	}
	if most := defaults.MaxPollAttempts/4 + 20; polls > most {
		t.Fatalf("%d polls, want at most %d whatever the size", polls, most)
	}
	// Found done within a poll's wait (a 500th of the run) of the end.
	if late := took - lookupTime; late > lookupTime/400 {
		t.Fatalf("the job was found done %s (real size: %s) after its lookups ended", late, time.Duration(float64(late)*k))
	}
}
