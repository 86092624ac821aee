package batch

import (
	"context"
	"errors"
	"sync"

	"github.com/leadflow/attom-batch/internal/budget"
)

// errCapReached stops a chunk attempt when the day's cap refuses the next call: the address
// stays pending and the chunk is deferred to the next day.
var errCapReached = errors.New("the daily cap is reached")

// wallet is one chunk attempt's money. Every ATTOM call that may be billed is paid for
// before it leaves: hold takes the call's worst case out of what the attempt reserved
// against the day's cap, reserving more when needed, and charge turns a hold into spend
// (billed, possibly billed) or gives it back. What ATTOM bills therefore never exceeds the
// cap, broken answers and timeouts included. The open reservation is written into the
// attempt's lease after every change, so a driver that dies leaves behind what recovery
// needs to settle it.
type wallet struct {
	t       *Tasks
	ctx     context.Context
	jobID   string
	attempt *chunkAttempt
	day     string

	reserving sync.Mutex // one reservation at a time, so the lease's copy is never older
	mu        sync.Mutex
	reserved  int64 // reserved against the day's cap and not yet settled
	held      int64 // promised to calls in flight
	spent     int64 // billed or possibly billed, out of reserved
	uncertain int64 // the possibly billed part of spent
}

func (t *Tasks) newWallet(ctx context.Context, jobID string, attempt *chunkAttempt) *wallet {
	return &wallet{t: t, ctx: ctx, jobID: jobID, attempt: attempt, day: t.budgetDay(t.now())}
}

// reserve asks the day's cap for up to cents (in whole calls); it reports whether anything
// was granted. A refusal is not an error: the chunk defers.
func (w *wallet) reserve(cents int64) (bool, error) {
	per := w.t.Settings.CostPerReportCents
	if cents <= 0 || per <= 0 {
		return true, nil
	}
	w.reserving.Lock()
	defer w.reserving.Unlock()
	calls, err := w.t.reserveUpTo(w.ctx, w.day, int(cents/per), per)
	if err != nil || calls == 0 {
		return false, err
	}
	granted := int64(calls) * per
	w.mu.Lock()
	w.reserved += granted
	state := w.stateLocked()
	w.mu.Unlock()
	// The lease learns of the reservation before anything else, so a crash from here on
	// leaves it to be settled; a crash just before leaks it until the day ends, which is the
	// safe side (a reservation never made is never refunded).
	if err := w.attempt.save(state); err != nil {
		return true, err
	}
	return true, w.t.addCounters(w.ctx, w.jobID, Counters{CostReservedCents: granted})
}

// hold sets aside cents for calls about to leave, reserving more when what is left does not
// cover them; errCapReached when the cap refuses.
func (w *wallet) hold(cents int64) error {
	if err := w.attempt.check(); err != nil {
		return err
	}
	if w.t.budgetDay(w.t.now()) != w.day {
		// The reservation is the day's that ended: a call now is billed on the new day,
		// whose cap this wallet never asked. Defer; the next run reserves on the new day.
		return errCapReached
	}
	for {
		w.mu.Lock()
		free := w.reserved - w.spent - w.held
		if free >= cents {
			w.held += cents
			w.mu.Unlock()
			return nil
		}
		w.mu.Unlock()
		ok, err := w.reserve(cents - free)
		if err != nil {
			return err
		}
		if !ok {
			return errCapReached
		}
	}
}

// charge settles one call's hold: billed and possibly billed become spend, the rest of the
// hold is free again. A lookup that cost more than its hold (net/http re-sent it) reserves
// the excess after the fact; spend is recorded as it happened either way.
func (w *wallet) charge(held, billed, possiblyBilled int64) {
	if excess := billed + possiblyBilled - held; excess > 0 {
		_, _ = w.reserve(excess)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.held -= held
	w.spent += billed + possiblyBilled
	w.uncertain += possiblyBilled
}

// release gives back a hold no call used.
func (w *wallet) release(cents int64) { w.charge(cents, 0, 0) }

func (w *wallet) stateLocked() attemptState {
	return attemptState{Day: w.day, ReservedCents: w.reserved}
}

// settle closes the attempt's account. Its settlement record is written first (the job's
// spend is the sum of these, so a crash from here on loses none of it), then the attempt's
// lease forgets the reservation (a crash before that leaves it to the successor to settle;
// after it, a refund leaks until the day ends, never refunded twice), then the day's
// counter turns the reservation into spend and the job's live counters follow.
func (w *wallet) settle() error {
	w.mu.Lock()
	s := settlement{Attempt: w.attempt.lease.Owner, Day: w.day,
		ReservedCents: w.reserved, SpentCents: w.spent, UncertainCents: w.uncertain}
	w.reserved, w.spent, w.uncertain = 0, 0, 0
	w.mu.Unlock()
	if s.ReservedCents == 0 && s.SpentCents == 0 {
		return nil
	}
	ctx := context.WithoutCancel(w.ctx) // a refund must not be lost to a cancelled task
	if err := w.t.putJSON(ctx, settlementKey(w.jobID, s.Attempt), s); err != nil {
		return err
	}
	if err := w.attempt.save(attemptState{Day: w.day}); err != nil {
		return err
	}
	return w.t.settleReservation(ctx, w.jobID, s)
}

// settlement is one chunk attempt's closed account, kept as a blob named after the attempt:
// writing it again replaces it, so the job's spend, their sum, is neither lost nor counted
// twice however a crash falls.
type settlement struct {
	Attempt        string `json:"attempt"`
	Day            string `json:"day"`
	ReservedCents  int64  `json:"reserved_cents"`
	SpentCents     int64  `json:"spent_cents"`
	UncertainCents int64  `json:"uncertain_cents"` // the possibly billed part of SpentCents
}

func settlementPrefix(jobID string) string { return "batches/" + jobID + "/settlements/" }
func settlementKey(jobID, attempt string) string {
	return settlementPrefix(jobID) + attempt + ".json"
}

// settledCost sums the job's settlement records: what its attempts spent, and the possibly
// billed part of it.
func (t *Tasks) settledCost(ctx context.Context, jobID string) (spent, uncertain int64, err error) {
	keys, err := t.Blobs.List(ctx, settlementPrefix(jobID))
	if err != nil {
		return 0, 0, &StoreUnavailable{Op: "list settlements", Err: err}
	}
	for _, key := range keys {
		var s settlement
		if err := t.getJSON(ctx, key, &s); err != nil {
			return 0, 0, err
		}
		spent += s.SpentCents
		uncertain += s.UncertainCents
	}
	return spent, uncertain, nil
}

// settleReservation turns an attempt's reservation into spend on the day's counter and the
// job's live counters.
func (t *Tasks) settleReservation(ctx context.Context, jobID string, s settlement) error {
	// The budget's contract is spent <= reserved; spend beyond it (a re-send the cap refused
	// to cover) still shows on the job.
	if err := t.Budget.Settle(ctx, s.Day, s.ReservedCents, min(s.SpentCents, s.ReservedCents)); err != nil {
		return &StoreUnavailable{Op: "settle budget", Err: err}
	}
	t.reportSpend(ctx, s.Day)
	return t.addCounters(ctx, jobID, Counters{CostReservedCents: -s.ReservedCents,
		CostSpentCents: s.SpentCents, CostUncertainCents: s.UncertainCents})
}

// reserveUpTo reserves n calls of per cents, or as many as the day's remaining cap allows;
// it returns how many calls are covered.
func (t *Tasks) reserveUpTo(ctx context.Context, day string, n int, per int64) (int, error) {
	err := t.Budget.Reserve(ctx, day, int64(n)*per)
	var exhausted *budget.Exhausted
	if err == nil {
		return n, nil
	}
	if !errors.As(err, &exhausted) {
		return 0, &StoreUnavailable{Op: "reserve budget", Err: err}
	}
	left := (exhausted.CapCents - exhausted.UsedCents) / per
	if left <= 0 {
		return 0, nil
	}
	fit := int(min(left, int64(n)))
	if err := t.Budget.Reserve(ctx, day, int64(fit)*per); err != nil {
		if errors.As(err, &exhausted) {
			return 0, nil // someone else took it first: defer
		}
		return 0, &StoreUnavailable{Op: "reserve budget", Err: err}
	}
	return fit, nil
}
