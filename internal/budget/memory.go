package budget

import (
	"context"
	"fmt"
	"sync"
)

// Memory is an in-process Budget for tests and single-process runs that need no durable
// counter. One mutex guards every day's counter, so concurrent reservations never pass the cap.
type Memory struct {
	mu       sync.Mutex
	capCents int64
	days     map[string]*Usage
}

var _ Budget = (*Memory)(nil)

// NewMemory returns a Memory whose every day is capped at capCents.
func NewMemory(capCents int64) *Memory {
	return &Memory{capCents: capCents, days: make(map[string]*Usage)}
}

// Reserve implements Budget: it refuses with *Exhausted when reserved+spent+cents would
// pass the cap.
func (m *Memory) Reserve(_ context.Context, day string, cents int64) error {
	if err := CheckAmounts(day, cents, 0); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.day(day)
	used := u.ReservedCents + u.SpentCents
	if used+cents > u.CapCents {
		return &Exhausted{Day: day, CapCents: u.CapCents, UsedCents: used, AskCents: cents}
	}
	u.ReservedCents += cents
	return nil
}

// Settle implements Budget: the reservation becomes spend and the difference is refunded.
func (m *Memory) Settle(_ context.Context, day string, reservedCents, spentCents int64) error {
	if err := CheckAmounts(day, reservedCents, spentCents); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.day(day)
	if u.ReservedCents < reservedCents {
		return fmt.Errorf("budget: settle %s: %d cents reserved, asked to settle %d", day, u.ReservedCents, reservedCents)
	}
	u.ReservedCents -= reservedCents
	u.SpentCents += spentCents
	return nil
}

// Usage implements Budget; a day nobody reserved on reads as zero against the cap.
func (m *Memory) Usage(_ context.Context, day string) (Usage, error) {
	if err := CheckAmounts(day, 0, 0); err != nil {
		return Usage{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return *m.day(day), nil
}

// day returns the counter of day, creating it; the caller holds mu.
func (m *Memory) day(day string) *Usage {
	u, ok := m.days[day]
	if !ok {
		u = &Usage{Day: day, CapCents: m.capCents}
		m.days[day] = u
	}
	return u
}
