package dynamostore

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/leadflow/attom-batch/internal/budget"
)

// TestBudgetConcurrentReserveThenSettle: 200 concurrent reservations of varied sizes never
// pass the cap, and after every grant settles with part of it spent, the refunds are
// available again, exactly.
func TestBudgetConcurrentReserveThenSettle(t *testing.T) {
	const capCents, callers = 1500, 200
	ctx := context.Background()
	b := newTestStore(t).Budget(capCents)
	day := "2031-02-03"
	asks := make([]int64, callers)
	r := rand.New(rand.NewPCG(7, 11))
	for i := range asks {
		asks[i] = 1 + r.Int64N(20) // about 2,100 cents asked against 1,500
	}
	granted := make([]bool, callers)
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := b.Reserve(ctx, day, asks[i])
			var ex *budget.Exhausted
			switch {
			case err == nil:
				granted[i] = true
			case errors.As(err, &ex):
				if ex.Day != day || ex.CapCents != capCents || ex.AskCents != asks[i] || ex.UsedCents+asks[i] <= capCents {
					errs <- errors.New("refusal that should have fit, or wrong details: " + err.Error())
				}
			default:
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var reserved, spent int64
	for i, ok := range granted {
		if ok {
			reserved += asks[i]
		}
	}
	u, err := b.Usage(ctx, day)
	if err != nil {
		t.Fatal(err)
	}
	if reserved > capCents || u.ReservedCents != reserved || u.SpentCents != 0 {
		t.Fatalf("granted %d against cap %d; usage %+v", reserved, capCents, u)
	}
	if capCents-reserved >= 20 {
		t.Errorf("only %d of %d cents granted with asks of at most 20 cents refused", reserved, capCents)
	}

	for i, ok := range granted { // settle concurrently: spend half of each grant
		if !ok {
			continue
		}
		spent += asks[i] / 2
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := b.Settle(ctx, day, asks[i], asks[i]/2); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if u, _ := b.Usage(ctx, day); u.ReservedCents != 0 || u.SpentCents != spent {
		t.Errorf("after settling: %+v, want reserved 0 and spent %d", u, spent)
	}
	if err := b.Reserve(ctx, day, capCents-spent); err != nil {
		t.Errorf("reserving exactly the refunded %d cents: %v", capCents-spent, err)
	}
	var ex *budget.Exhausted
	if err := b.Reserve(ctx, day, 1); !errors.As(err, &ex) || ex.UsedCents != capCents {
		t.Errorf("one cent past a full day: %v, want *budget.Exhausted with used %d", err, capCents)
	}
}

func TestBudgetRefusals(t *testing.T) {
	ctx := context.Background()
	b := newTestStore(t).Budget(100)
	day := "2031-03-04"
	var ex *budget.Exhausted
	if err := b.Reserve(ctx, day, 101); !errors.As(err, &ex) || ex.UsedCents != 0 || ex.AskCents != 101 {
		t.Errorf("ask above the cap on a fresh day: %v, want *budget.Exhausted with nothing used", err)
	}
	if err := b.Reserve(ctx, day, 40); err != nil {
		t.Fatal(err)
	}
	if err := b.Settle(ctx, day, 41, 0); err == nil {
		t.Error("settling more than reserved succeeded")
	}
	if err := b.Settle(ctx, day, 40, 41); err == nil {
		t.Error("spending more than reserved succeeded")
	}
	if err := b.Reserve(ctx, "2031-3-4", 1); err == nil {
		t.Error("a malformed day was accepted")
	}
	if err := b.Settle(ctx, "2031-03-05", 0, 0); err != nil {
		t.Errorf("settling nothing on an untouched day: %v", err)
	}
	if u, _ := b.Usage(ctx, day); u.ReservedCents != 40 || u.SpentCents != 0 || u.CapCents != 100 {
		t.Errorf("refused calls changed the counter: %+v", u)
	}
}

// TestBudgetItem checks the stored counter: used = reserved + spent, the cap seen first,
// and an expiry after the day.
func TestBudgetItem(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	day := "2031-04-05"
	if err := s.Budget(500).Reserve(ctx, day, 300); err != nil {
		t.Fatal(err)
	}
	if err := s.Budget(500).Settle(ctx, day, 300, 120); err != nil {
		t.Fatal(err)
	}
	if err := s.Budget(900).Reserve(ctx, day, 50); err != nil {
		t.Fatal(err)
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.tables.Budget), Key: budgetItem{Day: day}.key(), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	var it budgetItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		t.Fatal(err)
	}
	want := budgetItem{Day: day, CapCents: 500, UsedCents: 170, ReservedCents: 50, SpentCents: 120, ExpiresAt: dayExpiry(day)}
	if it != want {
		t.Errorf("stored counter = %+v, want %+v", it, want)
	}
	if it.ExpiresAt <= 1933200000 { // 2031-04-06T00:00:00Z
		t.Errorf("expires_at %d is not after the day", it.ExpiresAt)
	}
}
