package budget

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

const testDay = "2026-03-14"

func TestMemoryConcurrentReservationsNeverPassCap(t *testing.T) {
	ctx := context.Background()
	const capCents = 1005
	m := NewMemory(capCents)
	var granted, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ask := int64(5 + i%11) // uneven asks so the last fit is not a round number
			err := m.Reserve(ctx, testDay, ask)
			var ex *Exhausted
			switch {
			case err == nil:
				granted.Add(ask)
			case errors.As(err, &ex):
				refused.Add(1)
			default:
				t.Errorf("Reserve: %v", err)
			}
		}()
	}
	wg.Wait()
	u, err := m.Usage(ctx, testDay)
	if err != nil {
		t.Fatal(err)
	}
	if u.ReservedCents != granted.Load() {
		t.Errorf("reserved %d, granted sum %d", u.ReservedCents, granted.Load())
	}
	if u.ReservedCents > capCents {
		t.Errorf("reserved %d passes cap %d", u.ReservedCents, capCents)
	}
	if refused.Load() == 0 {
		t.Errorf("200 asks of 5-15 cents against %d: expected some refusals", capCents)
	}
}

func TestMemoryConcurrentSettleRefundsAddUp(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(100_000)
	var wg sync.WaitGroup
	var wantSpent atomic.Int64
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			const ask = 30
			if err := m.Reserve(ctx, testDay, ask); err != nil {
				t.Errorf("Reserve: %v", err)
				return
			}
			spent := int64(i % 31) // 0..30: some full refunds, some none
			if err := m.Settle(ctx, testDay, ask, spent); err != nil {
				t.Errorf("Settle: %v", err)
				return
			}
			wantSpent.Add(spent)
		}()
	}
	wg.Wait()
	u, _ := m.Usage(ctx, testDay)
	if u.ReservedCents != 0 || u.SpentCents != wantSpent.Load() {
		t.Errorf("usage %+v, want reserved 0 spent %d", u, wantSpent.Load())
	}
}

func TestMemoryRefundMakesRoom(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(100)
	if err := m.Reserve(ctx, testDay, 100); err != nil {
		t.Fatal(err)
	}
	err := m.Reserve(ctx, testDay, 1)
	var ex *Exhausted
	if !errors.As(err, &ex) {
		t.Fatalf("Reserve past cap: got %v, want *Exhausted", err)
	}
	if ex.Day != testDay || ex.CapCents != 100 || ex.UsedCents != 100 || ex.AskCents != 1 {
		t.Errorf("Exhausted = %+v", ex)
	}
	if err := m.Settle(ctx, testDay, 100, 60); err != nil {
		t.Fatal(err)
	}
	if err := m.Reserve(ctx, testDay, 40); err != nil {
		t.Errorf("after refunding 40, Reserve(40): %v", err)
	}
	if err := m.Reserve(ctx, "2026-03-15", 100); err != nil {
		t.Errorf("a new day starts with the full cap: %v", err)
	}
}

func TestMemoryRejectsBadCalls(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(100)
	cases := []struct {
		name string
		call func() error
	}{
		{"bad day", func() error { return m.Reserve(ctx, "14/03/2026", 1) }},
		{"negative ask", func() error { return m.Reserve(ctx, testDay, -1) }},
		{"spent above reserved", func() error { return m.Settle(ctx, testDay, 1, 2) }},
		{"settle more than reserved", func() error { return m.Settle(ctx, testDay, 5, 5) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); err == nil {
				t.Error("want an error")
			}
		})
	}
}

func BenchmarkMemoryReserveSettle(b *testing.B) {
	ctx := context.Background()
	m := NewMemory(1 << 60)
	for b.Loop() {
		_ = m.Reserve(ctx, testDay, 10)
		_ = m.Settle(ctx, testDay, 10, 10)
	}
}
