package statemachine

import (
	"context"
	"sync"
	"time"
)

// Clock is the runner's only source of time. Wait states, retry backoff and
// timeouts go through it so tests can use a FakeClock and never sleep.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Sleep blocks for d or until ctx is done, returning ctx's error then.
	Sleep(ctx context.Context, d time.Duration) error
}

// TimeoutClock is implemented by clocks that can also cancel a context when
// their own notion of time passes a deadline. The runner uses it for Task
// TimeoutSeconds and the execution TimeoutSeconds; clocks without it get
// real-time deadlines from context.WithTimeout.
type TimeoutClock interface {
	Clock
	// WithTimeout returns a child of ctx that is cancelled, with cause
	// context.DeadlineExceeded, once the clock reaches Now()+d.
	WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc)
}

// RealClock is the wall clock, used when RunOptions.Clock is nil.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// Sleep waits for d of real time or until ctx is done.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// WithTimeout is context.WithTimeout.
func (RealClock) WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}

// FakeClock is a clock whose Sleep returns at once after moving time
// forward, so Wait states and retry backoff cost nothing in tests. It is safe
// for concurrent use by Map branches: the runner gives each Map iteration its
// own branch time (carried in the context), a sleeper wakes at its branch's
// time plus d, and the clock only moves forward to the latest wake-up, so
// iterations sleeping 5s side by side advance the clock by 5s, not 5s each.
// With a MaxConcurrency bound, an iteration starts when the slot it got was
// released in fake time; which slot it gets follows real scheduling, so the
// clock after a bounded Map lies between the ideal parallel time and the
// serial sum (exact when every item has its own slot).
type FakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
	timers []*fakeTimer
}

type fakeTimer struct {
	deadline time.Time
	cancel   context.CancelCauseFunc
	done     bool
}

// NewFakeClock returns a FakeClock reading start.
func NewFakeClock(start time.Time) *FakeClock {
	return &FakeClock{now: start}
}

// Now returns the fake current time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep records d, advances the clock to the caller's wake-up time and
// returns at once (or returns ctx's error if ctx is or becomes done, for
// example because a fake deadline passed during the sleep).
func (c *FakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	wake := c.now.Add(d)
	if b, ok := ctx.Value(branchKey{}).(*branchTime); ok {
		wake = b.advance(d)
	}
	due := c.advanceLocked(wake)
	c.mu.Unlock()
	fire(due)
	return ctx.Err()
}

// Advance moves the clock forward by d (a task can call it to pretend it
// ran for a while, which fires any fake deadline that d crosses).
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	due := c.advanceLocked(c.now.Add(d))
	c.mu.Unlock()
	fire(due)
}

// Sleeps returns every duration passed to Sleep, in call order, so tests can
// assert the backoff delays the runner chose.
func (c *FakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// WithTimeout returns a context cancelled (cause context.DeadlineExceeded)
// when the fake clock reaches Now()+d.
func (c *FakeClock) WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	child, cancel := context.WithCancelCause(ctx)
	c.mu.Lock()
	t := &fakeTimer{deadline: c.now.Add(d), cancel: cancel}
	expired := !c.now.Before(t.deadline)
	if !expired {
		c.timers = append(c.timers, t)
	}
	c.mu.Unlock()
	if expired {
		cancel(context.DeadlineExceeded)
	}
	return child, func() {
		c.mu.Lock()
		t.done = true
		c.mu.Unlock()
		cancel(context.Canceled)
	}
}

// advanceLocked moves now forward to to (never backwards) and returns the
// timers that became due; callers fire them after releasing the lock.
func (c *FakeClock) advanceLocked(to time.Time) []*fakeTimer {
	if to.After(c.now) {
		c.now = to
	}
	var due []*fakeTimer
	kept := c.timers[:0]
	for _, t := range c.timers {
		switch {
		case t.done:
		case !c.now.Before(t.deadline):
			t.done = true
			due = append(due, t)
		default:
			kept = append(kept, t)
		}
	}
	c.timers = kept
	return due
}

func fire(due []*fakeTimer) {
	for _, t := range due {
		t.cancel(context.DeadlineExceeded)
	}
}

// withClockTimeout applies d using clock's notion of time when it can.
func withClockTimeout(ctx context.Context, clock Clock, d time.Duration) (context.Context, context.CancelFunc) {
	if tc, ok := clock.(TimeoutClock); ok {
		return tc.WithTimeout(ctx, d)
	}
	return context.WithTimeout(ctx, d)
}

// deadlinePassed reports whether ctx ended because a timeout fired, as
// opposed to the caller cancelling it.
func deadlinePassed(ctx context.Context) bool {
	return ctx.Err() != nil && context.Cause(ctx) == context.DeadlineExceeded
}

// branchKey carries a Map iteration's own fake time in its context.
type branchKey struct{}

type branchTime struct {
	mu  sync.Mutex
	now time.Time
}

func (b *branchTime) advance(d time.Duration) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.now = b.now.Add(d)
	return b.now
}

func (b *branchTime) read() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.now
}

// branchStart is the time a new branch forked from ctx starts at: the
// enclosing branch's time, or the clock's.
func branchStart(ctx context.Context, clock Clock) time.Time {
	if parent, ok := ctx.Value(branchKey{}).(*branchTime); ok {
		return parent.read()
	}
	return clock.Now()
}

// withBranch starts a concurrent branch (a Map iteration) at start, so its
// FakeClock sleeps count from there rather than from whatever sibling
// branches have advanced the shared clock to.
func withBranch(ctx context.Context, start time.Time) (context.Context, *branchTime) {
	b := &branchTime{now: start}
	return context.WithValue(ctx, branchKey{}, b), b
}
