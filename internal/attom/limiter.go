package attom

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Adaptation constants. ATTOM's limit is per key and the rate a process may use can be
// lower than configured (another job or process on the key, a plan change), so the limiter
// learns it: multiplicative decrease on 429, additive increase on success (AIMD, as TCP
// does), which settles just under the real limit instead of collapsing or oscillating wildly.
const (
	// MinRatePerMinute is the floor a run of 429s can push the rate down to.
	MinRatePerMinute = 1
	// RaiseAfter is how many calls in a row must pass before the rate goes up a step.
	RaiseAfter = 10
	// raiseShare is the step: a tenth of the configured rate, so that a fully throttled
	// limiter is back at the configured rate after about 10*RaiseAfter calls (a
	// multiplicative +10% would need hours to climb back from the floor of 1/min).
	raiseShare = 0.1
)

// Limiter paces calls to ATTOM. One Limiter serves every client of a key (Config.Limiter)
// and is safe for concurrent use: rate.Limiter's SetLimitAt is, and mu keeps the adaptive
// state (read the rate, change it) consistent between goroutines.
type Limiter struct {
	bucket *rate.Limiter

	mu      sync.Mutex
	ceiling rate.Limit // the configured rate; Inf means unlimited and never adapts
	floor   rate.Limit
	// gen counts decreases. A call remembers the gen it was paced under, so that the many
	// 429s of calls that were in flight together halve the rate once, not once each.
	gen    uint64
	streak int // calls passed since the last change of rate
}

// NewLimiter returns a smooth, adaptive limiter of perMinute calls (burst
// DefaultLimiterBurst) to share between clients; perMinute <= 0 means unlimited.
func NewLimiter(perMinute int) *Limiter {
	if perMinute <= 0 {
		return newLimiter(rate.Inf, 1)
	}
	return newLimiter(rate.Limit(float64(perMinute)/60), min(DefaultLimiterBurst, perMinute))
}

func newLimiter(limit rate.Limit, burst int) *Limiter {
	return &Limiter{
		bucket:  rate.NewLimiter(limit, burst),
		ceiling: limit,
		floor:   min(rate.Limit(MinRatePerMinute)/60, limit),
	}
}

// PerMinute is the rate in force, in calls per minute (+Inf when unlimited).
func (l *Limiter) PerMinute() float64 { return float64(l.bucket.Limit()) * 60 }

// wait takes one call's token, sleeping (through sleep, so tests need not wait) until it
// is due, and returns the generation the call is paced under.
func (l *Limiter) wait(ctx context.Context, now func() time.Time, sleep func(context.Context, time.Duration) error) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	l.mu.Lock()
	gen := l.gen
	l.mu.Unlock()
	t := now()
	r := l.bucket.ReserveN(t, 1) // burst is at least 1, so the reservation is always OK
	if d := r.DelayFrom(t); d > 0 {
		if err := sleep(ctx, d); err != nil {
			r.CancelAt(now()) // give the token back: this call will not be made
			return gen, err
		}
	}
	return gen, nil
}

// throttled halves the rate (down to the floor) after a 429 on a call paced under gen,
// unless another 429 already lowered it since that call was paced.
func (l *Limiter) throttled(t time.Time, gen uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ceiling == rate.Inf || gen != l.gen {
		return
	}
	l.gen++
	l.streak = 0
	l.bucket.SetLimitAt(t, max(l.bucket.Limit()/2, l.floor))
}

// passed counts a call ATTOM accepted at the current rate; every RaiseAfter of them in a
// row raise the rate by a step, never above the configured one.
func (l *Limiter) passed(t time.Time, gen uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cur := l.bucket.Limit()
	if l.ceiling == rate.Inf || gen != l.gen || cur >= l.ceiling {
		return
	}
	l.streak++
	if l.streak < RaiseAfter {
		return
	}
	l.streak = 0
	l.bucket.SetLimitAt(t, min(cur+l.ceiling*raiseShare, l.ceiling))
}
