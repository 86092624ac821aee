// Package budget keeps ATTOM spend under the daily cap: reserve before spending, settle after.
package budget

import (
	"context"
	"time"
)

// Exhausted is returned when a reservation would push the day's spend past the cap. Its
// type name is the ErrorEquals string the state machines catch.
type Exhausted struct {
	Day       string
	CapCents  int64
	UsedCents int64 // reserved + spent so far
	AskCents  int64
}

func (e *Exhausted) Error() string {
	return "budget exhausted for " + e.Day
}

// Usage is a day's counter.
type Usage struct {
	Day           string `json:"day"`
	CapCents      int64  `json:"cap_cents"`
	ReservedCents int64  `json:"reserved_cents"` // reserved and not yet settled
	SpentCents    int64  `json:"spent_cents"`
}

// Budget is the daily cap port. Implementations must make Reserve atomic: concurrent
// reservations never push reserved+spent past the cap.
type Budget interface {
	// Reserve asks for cents on day (a Period's day key: YYYY-MM-DD for the UTC day). It
	// returns *Exhausted when refused.
	Reserve(ctx context.Context, day string, cents int64) error
	// Settle turns a reservation into spend: reserved drops by reservedCents, spent grows by
	// spentCents (spentCents <= reservedCents; the difference is the refund).
	Settle(ctx context.Context, day string, reservedCents, spentCents int64) error
	// Usage reads the day's counter.
	Usage(ctx context.Context, day string) (Usage, error)
}

// Day is the UTC day key for t.
func Day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// NextReset is the next 00:00 UTC after t, when a new day's cap applies.
func NextReset(t time.Time) time.Time {
	d := t.UTC().Truncate(24 * time.Hour)
	return d.Add(24 * time.Hour)
}

// Period is how long one "day" of the cap lasts (ATTOM_BATCH_CAP_PERIOD_SECONDS). The
// default, 24 hours (or 0), is the UTC day: it starts at 00:00 UTC and its key is
// YYYY-MM-DD. A shorter period (for tests against real waits) makes days of that many
// seconds, aligned to the Unix epoch, keyed by their start as YYYY-MM-DDTHH:MM:SSZ, so keys
// of either kind sort by time and read as when the day began.
type Period time.Duration

// UTCDay is the default period.
const UTCDay = Period(24 * time.Hour)

// periodLayout keys the days of a period other than the UTC day.
const periodLayout = "2006-01-02T15:04:05Z"

func (p Period) utcDay() bool { return p <= 0 || p == UTCDay }

// Length is the period as a duration (24 hours for the default).
func (p Period) Length() time.Duration {
	if p.utcDay() {
		return 24 * time.Hour
	}
	return time.Duration(p)
}

// Start is when the day holding t began.
func (p Period) Start(t time.Time) time.Time {
	if p.utcDay() {
		return t.UTC().Truncate(24 * time.Hour)
	}
	n := time.Duration(t.UnixNano())
	since := n % time.Duration(p)
	if since < 0 {
		since += time.Duration(p)
	}
	return time.Unix(0, int64(n-since)).UTC()
}

// Day is the key of the day holding t.
func (p Period) Day(t time.Time) string {
	if p.utcDay() {
		return Day(t)
	}
	return p.Start(t).Format(periodLayout)
}

// NextReset is when the day after the one holding t begins.
func (p Period) NextReset(t time.Time) time.Time {
	if p.utcDay() {
		return NextReset(t)
	}
	return p.Start(t).Add(time.Duration(p))
}

// ParseDay reads a day key of any period back into the time its day began.
func ParseDay(day string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, day); err == nil {
		return t, nil
	}
	return time.Parse(periodLayout, day)
}
