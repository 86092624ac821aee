package batch

import (
	"context"
	"testing"
	"time"
)

// A lookup run that bought a few addresses and then stalled (an ATTOM outage, throttled
// lookups) measures a rate near zero: what is left then looks endless, and the wait must
// still be the run's planned length / (MaxPolls/4) at most, not that endless time's share.
func TestPollWaitOfAStalledRunStaysBounded(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	s := DefaultSettings()
	s.RatePerMinute, s.PollMin, s.PollMax, s.MaxPolls, s.DailyCapCents = 200, 5*time.Second, 5*time.Minute, 2000, 0
	tasks := &Tasks{Settings: s, Now: func() time.Time { return now }}
	job := Job{UniqueRecords: 1_000_000, LookedUpRecords: 10}
	in := Step{RunStarted: now.Add(-10 * time.Minute)}
	planned := (10*time.Minute + 999_990*time.Minute/200) / 500 // the run's length at the configured rate / (MaxPolls/4)
	got := time.Duration(tasks.pollWait(context.Background(), job, in)) * time.Second
	if got > planned+time.Second {
		t.Errorf("a stalled run waits %s before its next poll, want at most %s", got, planned)
	}
	// A run going at the configured rate waits the same bounded while.
	job.LookedUpRecords = 2000
	if got := time.Duration(tasks.pollWait(context.Background(), job, in)) * time.Second; got > planned+time.Second || got < s.PollMax {
		t.Errorf("a run at the rate waits %s, want between %s and %s", got, s.PollMax, planned)
	}
}
