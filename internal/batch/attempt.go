package batch

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// attemptState is what a chunk attempt keeps in its lease: the reservation it has open, so
// that whoever takes the chunk over after a crash can settle it, and the dead predecessors'
// reservations it is settling (kept until settled, so a crash during recovery loses none).
type attemptState struct {
	Day           string      `json:"day,omitempty"`
	ReservedCents int64       `json:"reserved_cents,omitempty"`
	Inherited     []deadOwner `json:"inherited,omitempty"`
}

// deadOwner is a dead attempt's open reservation, taken over with its chunk.
type deadOwner struct {
	Owner  string `json:"owner"`
	Holder string `json:"holder,omitempty"`
	attemptState
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
	a.stop = a.renewEvery(t.leaseTTL() / 3)
	if err := t.recoverAttempt(ctx, job, chunk, a, prev); err != nil {
		a.stop() // not released: the lease keeps what is left to settle for the next attempt
		return nil, err
	}
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

// acquire starts the attempt's tenure: it takes the lease if it is free or expired.
func (a *chunkAttempt) acquire(ctx context.Context) (*Lease, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.t.now()
	a.lease.Since, a.lease.Expires = now, now.Add(a.t.leaseTTL())
	return a.t.Leases.AcquireLease(context.WithoutCancel(ctx), a.lease, now)
}

// renew extends the lease while the attempt still holds it, writing state when it is given;
// an attempt whose lease another took over learns it here and stops (it never takes the
// lease back, even when the other released it).
func (a *chunkAttempt) renew(state *attemptState) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if state != nil {
		raw, _ := json.Marshal(state)
		a.lease.Data = string(raw)
	}
	a.lease.Expires = a.t.now().Add(a.t.leaseTTL())
	err := a.t.Leases.RenewLease(context.Background(), a.lease)
	var held *LeaseHeld
	switch {
	case err == nil:
		return nil
	case errors.As(err, &held) || errors.Is(err, ErrNotFound):
		a.markLost()
		return &ChunkBusy{Err: cmp.Or(held, &LeaseHeld{Lease: Lease{Name: a.lease.Name, Holder: "nobody (released)"}})}
	default:
		return &StoreUnavailable{Op: "renew chunk lease", Err: err}
	}
}

// save writes the attempt's open reservation into its lease.
func (a *chunkAttempt) save(state attemptState) error { return a.renew(&state) }

// check makes sure the attempt still holds its chunk before a call leaves: an attempt that
// stalled past its lease's expiry (a suspended process) renews first, and learns there if
// another took the chunk over meanwhile.
func (a *chunkAttempt) check() error {
	if a.isLost() {
		return &ChunkBusy{Err: &LeaseHeld{Lease: Lease{Name: a.lease.Name, Holder: "another attempt"}}}
	}
	a.mu.Lock()
	stale := !a.t.now().Before(a.lease.Expires.Add(-a.t.leaseTTL() / 3))
	a.mu.Unlock()
	if stale {
		return a.renew(nil)
	}
	return nil
}

// isLost tells whether another attempt took the chunk over.
func (a *chunkAttempt) isLost() bool {
	select {
	case <-a.lost:
		return true
	default:
		return false
	}
}

func (a *chunkAttempt) markLost() {
	select {
	case <-a.lost:
	default:
		close(a.lost)
	}
}

// renewEvery renews the lease until stopped or lost (this attempt stalled past its expiry
// and another took the chunk over).
func (a *chunkAttempt) renewEvery(every time.Duration) func() {
	return Every(every, func() bool {
		_ = a.renew(nil)
		return !a.isLost()
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

// recoverAttempt settles the reservations a dead attempt left open: its own and any it had
// inherited and not yet settled. It first writes them into this attempt's lease, so a crash
// or an error during recovery leaves them to the next attempt instead of losing them. When
// the dead attempt wrote its settlement record before dying, that record holds the truth.
// Otherwise what it stored is known to be spent; of the rest, the calls it may have had in
// flight (one per lookup worker) are kept as possibly billed, and the remainder is refunded.
func (t *Tasks) recoverAttempt(ctx context.Context, job Job, chunk int, a *chunkAttempt, prev *Lease) error {
	dead := deadOwners(prev)
	if len(dead) == 0 {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	if err := a.save(attemptState{Inherited: dead}); err != nil {
		return err
	}
	for _, d := range dead {
		s, err := t.reckonDeadAttempt(ctx, job, chunk, d.Owner, d.attemptState)
		if err != nil {
			return err
		}
		t.log().Warn("settling the reservation of a dead chunk attempt",
			"job_id", job.ID, "chunk", chunk, "attempt", d.Owner, "holder", d.Holder,
			"reserved_cents", s.ReservedCents, "spent_cents", s.SpentCents, "possibly_billed_cents", s.UncertainCents)
		if err := t.putJSON(ctx, settlementKey(job.ID, s.Attempt), s); err != nil {
			return err
		}
		if err := t.settleReservation(ctx, job.ID, s); err != nil {
			return err
		}
	}
	return a.save(attemptState{})
}

// deadOwners lists the open reservations a taken-over lease carries.
func deadOwners(prev *Lease) []deadOwner {
	if prev == nil || prev.Data == "" {
		return nil
	}
	var state attemptState
	if json.Unmarshal([]byte(prev.Data), &state) != nil {
		return nil
	}
	dead := slices.Clone(state.Inherited)
	if state.ReservedCents > 0 {
		dead = append(dead, deadOwner{Owner: prev.Owner, Holder: prev.Holder,
			attemptState: attemptState{Day: state.Day, ReservedCents: state.ReservedCents}})
	}
	return dead
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
