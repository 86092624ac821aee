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
	// Reserve asks for cents on day (YYYY-MM-DD, UTC). It returns *Exhausted when refused.
	Reserve(ctx context.Context, day string, cents int64) error
	// Settle turns a reservation into spend: reserved drops by reservedCents, spent grows by
	// spentCents (spentCents <= reservedCents; the difference is the refund).
	Settle(ctx context.Context, day string, reservedCents, spentCents int64) error
	// Usage reads the day's counter.
	Usage(ctx context.Context, day string) (Usage, error)
}

// Day is the UTC day key for t.
func Day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// NextReset is the next 00:00 UTC after t, when a new day's cap applies.
func NextReset(t time.Time) time.Time {
	d := t.UTC().Truncate(24 * time.Hour)
	return d.Add(24 * time.Hour)
}
