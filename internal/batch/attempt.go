package batch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// attemptState is what a chunk attempt keeps in its lease: the reservation it has open, so
// that whoever takes the chunk over after a crash can settle it.
type attemptState struct {
	Day           string `json:"day,omitempty"`
	ReservedCents int64  `json:"reserved_cents,omitempty"`
}

// chunkAttempt is one LookupChunk's exclusive claim on a chunk: a lease renewed in the
// background while it works, so no chunk is ever looked up by two drivers at once.
type chunkAttempt struct {
	t     *Tasks
	mu    sync.Mutex
	lease Lease
	lost  chan struct{} // closed when another owner took the lease over
	stop  func()
}

func chunkLeaseName(jobID string, chunk int) string { return fmt.Sprintf("chunk:%s:%d", jobID, chunk) }

// JobLeaseName is the lease a job's driver holds.
func JobLeaseName(jobID string) string { return "job:" + jobID }

// NewOwnerID names a lease owner uniquely.
func NewOwnerID(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// ChunkBusy means another attempt holds the chunk's lease and did not let go in time; the
// state machine retries it.
type ChunkBusy struct{ Err *LeaseHeld }

func (e *ChunkBusy) Error() string {
	return "chunk is being looked up by another attempt: " + e.Err.Error()
}

// beginAttempt takes the chunk's lease, waiting up to twice the lease's life for a holder to
// let go or for a dead holder's lease to run out, and settles what a dead attempt left
// reserved.
func (t *Tasks) beginAttempt(ctx context.Context, job Job, chunk int, holder string) (*chunkAttempt, error) {
	lease := Lease{Name: chunkLeaseName(job.ID, chunk), Owner: NewOwnerID("attempt"), Holder: holder}
	a := &chunkAttempt{t: t, lease: lease, lost: make(chan struct{})}
	prev, err := a.acquireWaiting(ctx)
	if err != nil {
		return nil, err
	}
	if err := t.recoverAttempt(ctx, job, chunk, prev); err != nil {
		a.end()
		return nil, err
	}
	a.stop = a.renewEvery(ctx, t.leaseTTL()/3)
	return a, nil
}

// acquireWaiting retries a held lease a few times per lease life, for at most two lives.
func (a *chunkAttempt) acquireWaiting(ctx context.Context) (*Lease, error) {
	ttl := a.t.leaseTTL()
	deadline := time.Now().Add(2 * ttl)
	for {
		prev, err := a.acquire(ctx)
		var held *LeaseHeld
		switch {
		case err == nil:
			return prev, nil
		case !errors.As(err, &held):
			return nil, &StoreUnavailable{Op: "take chunk lease", Err: err}
		case time.Now().After(deadline):
			return nil, &ChunkBusy{Err: held}
		}
		if err := sleepContext(ctx, ttl/10); err != nil {
			return nil, err
		}
	}
}

func (a *chunkAttempt) acquire(ctx context.Context) (*Lease, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.t.now()
	if a.lease.Since.IsZero() {
		a.lease.Since = now
	}
	a.lease.Expires = now.Add(a.t.leaseTTL())
	return a.t.Leases.AcquireLease(context.WithoutCancel(ctx), a.lease, now)
}

// save writes the attempt's open reservation into its lease.
func (a *chunkAttempt) save(state attemptState) error {
	raw, _ := json.Marshal(state)
	a.mu.Lock()
	a.lease.Data = string(raw)
	a.mu.Unlock()
	_, err := a.acquire(context.Background())
	if held := (*LeaseHeld)(nil); errors.As(err, &held) {
		a.markLost()
		return &LeaseLost{Name: a.lease.Name, Err: held}
	}
	if err != nil {
		return &StoreUnavailable{Op: "save chunk lease", Err: err}
	}
	return nil
}

func (a *chunkAttempt) markLost() {
	select {
	case <-a.lost:
	default:
		close(a.lost)
	}
}

// renewEvery renews the lease until stopped; a renewal refused because someone else took
// the lease over (this attempt stalled past its expiry) marks the attempt lost.
func (a *chunkAttempt) renewEvery(ctx context.Context, every time.Duration) func() {
	return Every(every, func() bool {
		if _, err := a.acquire(ctx); errors.As(err, new(*LeaseHeld)) {
			a.markLost()
			return false
		}
		return true
	})
}

// Every calls fn every d (at least 10 ms) in the background until fn returns false or the
// returned stop is called; stop waits for a call in progress. Lease holders renew with it.
func Every(d time.Duration, fn func() bool) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(max(d, 10*time.Millisecond))
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if !fn() {
					return
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}

// end stops renewing and releases the lease.
func (a *chunkAttempt) end() {
	if a.stop != nil {
		a.stop()
	}
	_ = a.t.Leases.ReleaseLease(context.Background(), a.lease.Name, a.lease.Owner)
}

// recoverAttempt settles the reservation a dead attempt left open. When the attempt wrote
// its settlement record before dying, that record holds the truth. Otherwise what it stored
// is known to be spent; of the rest, the calls it may have had in flight (one per lookup
// worker) are kept as possibly billed, and the remainder is refunded.
func (t *Tasks) recoverAttempt(ctx context.Context, job Job, chunk int, prev *Lease) error {
	if prev == nil || prev.Data == "" {
		return nil
	}
	var state attemptState
	if json.Unmarshal([]byte(prev.Data), &state) != nil || state.ReservedCents <= 0 {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	s, err := t.reckonDeadAttempt(ctx, job, chunk, prev.Owner, state)
	if err != nil {
		return err
	}
	t.log().Warn("settling the reservation of a dead chunk attempt",
		"job_id", job.ID, "chunk", chunk, "attempt", prev.Owner, "holder", prev.Holder,
		"reserved_cents", s.ReservedCents, "spent_cents", s.SpentCents, "possibly_billed_cents", s.UncertainCents)
	if err := t.putJSON(ctx, settlementKey(job.ID, s.Attempt), s); err != nil {
		return err
	}
	return t.settleReservation(ctx, job.ID, s)
}

// reckonDeadAttempt is the dead attempt's account: its own settlement record if it wrote
// one, else what its stored answers say plus what it may have had in flight.
func (t *Tasks) reckonDeadAttempt(ctx context.Context, job Job, chunk int, owner string, state attemptState) (settlement, error) {
	var s settlement
	err := t.getJSON(ctx, settlementKey(job.ID, owner), &s)
	if err == nil && s.Attempt == owner {
		return s, nil
	}
	stored, err := t.storedBy(ctx, job, chunk, owner)
	if err != nil {
		return s, err
	}
	inFlight := int64(max(t.Settings.LookupWorkers, 1)) * t.Settings.CostPerReportCents
	uncertain := max(min(state.ReservedCents-stored, inFlight), 0)
	return settlement{Attempt: owner, Day: state.Day, ReservedCents: state.ReservedCents,
		SpentCents: stored + uncertain, UncertainCents: uncertain}, nil
}

// storedBy sums what an attempt's stored answers were billed, over the chunk's addresses.
func (t *Tasks) storedBy(ctx context.Context, job Job, chunk int, owner string) (int64, error) {
	addrs, err := t.readChunk(ctx, ChunkRef{JobID: job.ID, Chunk: chunk, Key: chunkKey(job.ID, chunk)})
	if err != nil {
		return 0, err
	}
	answers, err := t.Answers.Answers(ctx, addressKeys(addrs), endpointsOf(job))
	if err != nil {
		return 0, &StoreUnavailable{Op: "read answers", Err: err}
	}
	var sum int64
	for _, byEndpoint := range answers {
		for _, a := range byEndpoint {
			if a.Attempt == owner {
				sum += a.BilledCents
			}
		}
	}
	return sum, nil
}

func addressKeys(addrs []ChunkAddress) []string {
	keys := make([]string, len(addrs))
	for i, a := range addrs {
		keys[i] = a.Key
	}
	return keys
}

// LeaseLost means another driver took over a lease this one held (it stalled past the
// lease's expiry); the work stops without touching the job.
type LeaseLost struct {
	Name string
	Err  *LeaseHeld
}

func (e *LeaseLost) Error() string { return "lease " + e.Name + " lost: " + e.Err.Error() }

func (t *Tasks) leaseTTL() time.Duration {
	if t.Settings.LeaseTTL <= 0 {
		return time.Minute
	}
	return t.Settings.LeaseTTL
}

// sleepContext waits d or until ctx ends.
func sleepContext(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(max(d, time.Millisecond))
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
