package localrun_test

import (
	"context"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/attomsim"
	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/budget"
	"github.com/leadflow/attom-batch/internal/config"
	"github.com/leadflow/attom-batch/statemachine"
)

// Issue 12: tests on a local cloud with real waits need a cap pause that ends within
// seconds. ATTOM_BATCH_CAP_PERIOD_SECONDS=30 makes the cap's "days" 30 seconds long: the
// job pauses at the cap until the next period and completes, never spending more than the
// cap in any period and leaving nothing reserved.
func TestACapPeriodOfSecondsPausesAndResumesWithinIt(t *testing.T) {
	const period = 30 * time.Second
	// 50 cents a period at 10 cents a report: 5 lookups a period, 12 addresses to look up.
	w := newWorldWith(t, func(c *config.Config) {
		c.DailyCapCents = 50
		c.CapPeriodSeconds = int(period / time.Second)
	}, attomsim.Options{NotFoundRate: -1})
	exec, job := w.run(w.csvFile("big.csv", addresses(12)...), "short-days")
	if exec.Status != statemachine.StatusSucceeded || job.Status != batch.StatusCompleted {
		t.Fatalf("execution %s (%s: %s), job %s", exec.Status, exec.Error, exec.Cause, job.Status)
	}
	want := []string{"Prepare", "IsDuplicate", "Submit", "WaitForLookups", "Poll", "LookupState",
		"WaitForCapReset", "Resume", "WaitForLookups", "Poll", "LookupState",
		"WaitForCapReset", "Resume", "WaitForLookups", "Poll", "LookupState",
		"Download", "Process", "MoreToProcess", "WantsLeads", "Leads", "Complete", "Done"}
	wantPath(t, exec, want...)
	checkCounts(t, job)
	if job.RecordsFound != 12 || job.CostSpentCents != 120 || job.CostReservedCents != 0 {
		t.Fatalf("found %d, spent %d, reserved %d", job.RecordsFound, job.CostSpentCents, job.CostReservedCents)
	}
	if got := w.sys.Attom.Simulator.BilledCount(); got != 12 {
		t.Fatalf("billed %d", got)
	}
	if took := w.clock.Now().Sub(start); took > 3*period {
		t.Fatalf("the job took %s: its pauses did not end with the %s period", took, period)
	}
	days := budget.Period(period)
	spent := int64(0)
	for at := start; !at.After(w.clock.Now()); at = at.Add(period) {
		day := days.Day(at)
		u, err := w.sys.Tasks.Budget.Usage(context.Background(), day)
		if err != nil {
			t.Fatal(err)
		}
		if u.SpentCents > 50 || u.ReservedCents != 0 {
			t.Fatalf("period %s: %+v", day, u)
		}
		spent += u.SpentCents
	}
	if spent != 120 {
		t.Fatalf("the periods' counters hold %d cents, the job spent 120", spent)
	}
	if day := days.Day(start); day != "2026-11-30T10:00:00Z" {
		t.Fatalf("the period's key reads %q", day)
	}
}

func TestTheDefaultCapPeriodIsTheUTCDay(t *testing.T) {
	at := time.Date(2026, 11, 30, 23, 59, 59, 0, time.FixedZone("x", -5*3600))
	for _, p := range []budget.Period{0, budget.UTCDay, budget.Period(time.Duration(config.Defaults().CapPeriodSeconds) * time.Second)} {
		if p.Day(at) != budget.Day(at) || !p.NextReset(at).Equal(budget.NextReset(at)) {
			t.Fatalf("period %v: day %s reset %s, want %s %s", time.Duration(p), p.Day(at), p.NextReset(at), budget.Day(at), budget.NextReset(at))
		}
	}
}
