package attom

import (
	"math"
	"testing"
	"time"
)

func TestLimiterHalvesOncePerGenerationAndFloors(t *testing.T) {
	l := NewLimiter(200)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.throttled(t0, 0)
	l.throttled(t0, 0) // a second 429 from a call paced before the first decrease
	if got := l.PerMinute(); math.Abs(got-100) > 1e-9 {
		t.Fatalf("rate after two 429s of one generation = %v, want 100", got)
	}
	for gen := uint64(1); gen < 20; gen++ {
		l.throttled(t0, gen)
	}
	if got := l.PerMinute(); math.Abs(got-MinRatePerMinute) > 1e-9 {
		t.Errorf("rate after many 429s = %v, want the floor %d", got, MinRatePerMinute)
	}
}

func TestLimiterRaisesByStepsUpToTheCeiling(t *testing.T) {
	l := NewLimiter(200)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.throttled(t0, 0) // 100/min, generation 1
	for range RaiseAfter - 1 {
		l.passed(t0, 1)
	}
	l.passed(t0, 0) // paced before the decrease: does not count
	if got := l.PerMinute(); math.Abs(got-100) > 1e-9 {
		t.Fatalf("rate before %d successes = %v, want 100", RaiseAfter, got)
	}
	l.passed(t0, 1)
	if got := l.PerMinute(); math.Abs(got-120) > 1e-9 {
		t.Fatalf("rate after %d successes = %v, want 120 (+10%% of 200)", RaiseAfter, got)
	}
	for range 10 * RaiseAfter {
		l.passed(t0, 1)
	}
	if got := l.PerMinute(); math.Abs(got-200) > 1e-9 {
		t.Errorf("rate after many successes = %v, want the configured 200", got)
	}
}

func TestUnlimitedLimiterNeverAdapts(t *testing.T) {
	l := NewLimiter(0)
	l.throttled(time.Now(), 0)
	if !math.IsInf(l.PerMinute(), 1) {
		t.Errorf("unlimited limiter adapted to %v", l.PerMinute())
	}
}
