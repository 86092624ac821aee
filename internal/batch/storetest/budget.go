package storetest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"sync/atomic"
	"testing"

	"github.com/leadflow/attom-batch/internal/budget"
)

// RunBudget checks a Budget: reservations within the cap succeed, one past it returns
// *budget.Exhausted, concurrent reservations never pass the cap, settling refunds the
// difference and days are independent. The cap is read from Usage; it must be positive.
func RunBudget(t *testing.T, newBudget func(t *testing.T) budget.Budget) {
	t.Run("ReserveWithinCap", func(t *testing.T) { testReserveWithinCap(t, newBudget(t)) })
	t.Run("ExhaustedPastCap", func(t *testing.T) { testReservePastCap(t, newBudget(t)) })
	t.Run("ConcurrentNeverPastCap", func(t *testing.T) { testConcurrentReserve(t, newBudget(t)) })
	t.Run("SettleRefunds", func(t *testing.T) { testSettleRefunds(t, newBudget(t)) })
	t.Run("DaysIndependent", func(t *testing.T) { testDaysIndependent(t, newBudget(t)) })
}

// testDay picks a day unlikely to be used by anything else sharing the store.
func testDay() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(12*28))
	d := int(n.Int64())
	return fmt.Sprintf("2091-%02d-%02d", 1+d/28, 1+d%28)
}

func usage(t *testing.T, b budget.Budget, day string) budget.Usage {
	t.Helper()
	u, err := b.Usage(context.Background(), day)
	if err != nil {
		t.Fatalf("Usage(%s): %v", day, err)
	}
	if u.CapCents <= 0 {
		t.Fatalf("Usage(%s).CapCents = %d: the suite needs a positive cap", day, u.CapCents)
	}
	return u
}

func testReserveWithinCap(t *testing.T, b budget.Budget) {
	ctx := context.Background()
	day := testDay()
	u := usage(t, b, day)
	if u.Day != day || u.ReservedCents != 0 || u.SpentCents != 0 {
		t.Errorf("fresh day usage = %+v, want day %s and nothing used", u, day)
	}
	half := u.CapCents / 2
	for _, ask := range []int64{half, u.CapCents - half} {
		if err := b.Reserve(ctx, day, ask); err != nil {
			t.Fatalf("Reserve(%d) within cap %d: %v", ask, u.CapCents, err)
		}
	}
	if got := usage(t, b, day); got.ReservedCents != u.CapCents || got.SpentCents != 0 {
		t.Errorf("usage after reserving the whole cap = %+v", got)
	}
}

func testReservePastCap(t *testing.T, b budget.Budget) {
	ctx := context.Background()
	day := testDay()
	capCents := usage(t, b, day).CapCents
	if err := b.Reserve(ctx, day, capCents-1); err != nil {
		t.Fatal(err)
	}
	err := b.Reserve(ctx, day, 2)
	var ex *budget.Exhausted
	if !errors.As(err, &ex) {
		t.Fatalf("Reserve past the cap: %v, want *budget.Exhausted", err)
	}
	if ex.Day != day || ex.CapCents != capCents || ex.AskCents != 2 || ex.UsedCents != capCents-1 {
		t.Errorf("Exhausted = %+v, want day %s cap %d used %d ask 2", *ex, day, capCents, capCents-1)
	}
	if got := usage(t, b, day); got.ReservedCents != capCents-1 {
		t.Errorf("a refused reservation changed the counter: %+v", got)
	}
	if err := b.Reserve(ctx, day, 1); err != nil {
		t.Errorf("Reserve of the last cent: %v", err)
	}
}

func testConcurrentReserve(t *testing.T, b budget.Budget) {
	const callers = 200
	day := testDay()
	capCents := usage(t, b, day).CapCents
	ask := max(1, (capCents+149)/150) // about 150 asks fit: the rest must be refused
	var granted, refused atomic.Int64
	runConcurrently(t, callers, func(int) error {
		err := b.Reserve(context.Background(), day, ask)
		var ex *budget.Exhausted
		switch {
		case err == nil:
			granted.Add(ask)
		case errors.As(err, &ex):
			refused.Add(1)
		default:
			return err
		}
		return nil
	})
	u := usage(t, b, day)
	if u.ReservedCents != granted.Load() {
		t.Errorf("reserved %d, but the granted reservations add up to %d", u.ReservedCents, granted.Load())
	}
	if u.ReservedCents > capCents {
		t.Errorf("reserved %d passes the cap %d", u.ReservedCents, capCents)
	}
	if wantGranted := min(callers, capCents/ask) * ask; granted.Load() != wantGranted {
		t.Errorf("granted %d cents in asks of %d, want %d (every ask that fits)", granted.Load(), ask, wantGranted)
	}
	if refused.Load() == 0 && callers*ask > capCents {
		t.Error("no reservation was refused")
	}
}

func testSettleRefunds(t *testing.T, b budget.Budget) {
	ctx := context.Background()
	day := testDay()
	capCents := usage(t, b, day).CapCents
	if err := b.Reserve(ctx, day, capCents); err != nil {
		t.Fatal(err)
	}
	spent := capCents / 3
	if err := b.Settle(ctx, day, capCents, spent); err != nil {
		t.Fatalf("Settle: %v", err)
	}
	if u := usage(t, b, day); u.ReservedCents != 0 || u.SpentCents != spent {
		t.Errorf("after settling, usage = %+v; want reserved 0, spent %d", u, spent)
	}
	if err := b.Reserve(ctx, day, capCents-spent); err != nil {
		t.Errorf("the refund of %d cents is not available again: %v", capCents-spent, err)
	}
	var ex *budget.Exhausted
	if err := b.Reserve(ctx, day, 1); !errors.As(err, &ex) {
		t.Errorf("spend counts against the cap: Reserve(1) = %v, want *budget.Exhausted", err)
	}
}

func testDaysIndependent(t *testing.T, b budget.Budget) {
	ctx := context.Background()
	day, next := "2092-06-30", "2092-07-01"
	capCents := usage(t, b, day).CapCents
	if err := b.Reserve(ctx, day, capCents); err != nil {
		t.Fatal(err)
	}
	if err := b.Reserve(ctx, next, capCents); err != nil {
		t.Errorf("the next day starts with the full cap: %v", err)
	}
}
