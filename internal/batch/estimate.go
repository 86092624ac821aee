package batch

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"time"

	"github.com/leadflow/attom-batch/internal/csvin"
)

// Estimate is what a file will cost before anything is spent: its rows as Prepare counts
// them, the addresses the answer cache already answers (free), and the calls, money and time
// the rest needs at the configured rate and cap.
type Estimate struct {
	File         string `json:"file,omitempty"`
	Rows         int    `json:"rows"`
	Rejected     int    `json:"rejected"`
	Duplicates   int    `json:"duplicates"`
	Unique       int    `json:"unique"`
	AlreadyKnown int    `json:"already_known"`
	ToBuy        int    `json:"to_buy"`
	// Calls is the most calls the addresses to buy take: one per missing endpoint (a
	// not-found address takes fewer).
	Calls          int64     `json:"calls"`
	WorstCaseCents int64     `json:"worst_case_cost_cents"`
	DaysAtCap      int       `json:"days_at_cap"`
	ExpectedFinish time.Time `json:"expected_finish"`
	MaxAgeDays     int       `json:"max_age_days"`
}

// estimateBatch is how many unique addresses are checked against the cache at a time.
const estimateBatch = 500

// EstimateFile reads a CSV the way Prepare does and estimates it; it spends nothing and
// creates no job. maxAgeDays is the reuse window (nil: the configured one).
func (t *Tasks) EstimateFile(ctx context.Context, body io.Reader, name string, maxAgeDays *int) (Estimate, error) {
	job := Job{Endpoints: t.Settings.Endpoints, ReuseMaxAgeDays: t.Settings.ReuseMaxAgeDays}
	if maxAgeDays != nil {
		job.ReuseMaxAgeDays = *maxAgeDays
	}
	e := Estimate{File: name, MaxAgeDays: job.ReuseMaxAgeDays}
	reader, err := csvin.NewReader(body, name, csvin.Options{})
	if err != nil {
		return e, invalidFile(name, err)
	}
	defer reader.Close()
	var pending []ChunkAddress
	flush := func() error {
		err := t.tallyKnown(ctx, job, pending, &e)
		pending = pending[:0]
		return err
	}
	var row csvin.Row
	for {
		err := reader.NextInto(&row)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return e, invalidFile(name, err)
		}
		e.Rows++
		switch {
		case row.Reject != nil:
			e.Rejected++
		case row.DuplicateOf > 0:
			e.Duplicates++
		default:
			e.Unique++
			if pending = append(pending, chunkAddressFrom(&row)); len(pending) == estimateBatch {
				if err := flush(); err != nil {
					return e, err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return e, err
	}
	e.WorstCaseCents = e.Calls * t.Settings.CostPerReportCents
	e.ExpectedFinish, e.DaysAtCap = t.finishTime(ctx, e.Calls)
	return e, nil
}

// tallyKnown counts the addresses the cache answers in full and the calls the others need.
func (t *Tasks) tallyKnown(ctx context.Context, job Job, addrs []ChunkAddress, e *Estimate) error {
	if len(addrs) == 0 {
		return nil
	}
	plans, err := t.planAddresses(ctx, job, addrs)
	if err != nil {
		return err
	}
	for _, p := range plans {
		if len(p.missing) == 0 {
			e.AlreadyKnown++
			continue
		}
		e.ToBuy++
		e.Calls += int64(len(p.missing))
	}
	return nil
}

// finishTime is when calls more calls are done at the configured rate, spread over as many
// days as the cap needs (today's remaining cap first), and how many days at a full cap they
// take.
func (t *Tasks) finishTime(ctx context.Context, calls int64) (time.Time, int) {
	return t.finishTimeAt(ctx, calls, 0)
}

// callTime is how long n calls take at perMinute calls a minute (the configured rate when 0).
func (t *Tasks) callTime(n int64, perMinute float64) time.Duration {
	if perMinute > 0 {
		return time.Duration(float64(n) / perMinute * float64(time.Minute))
	}
	rate := int64(max(t.Settings.RatePerMinute, 1))
	return time.Duration(n*60/rate) * time.Second
}

// finishTimeAt is finishTime at perMinute calls a minute (the configured rate when 0).
func (t *Tasks) finishTimeAt(ctx context.Context, calls int64, perMinute float64) (time.Time, int) {
	now := t.now()
	per := max(t.Settings.CostPerReportCents, 1)
	callTime := func(n int64) time.Duration { return t.callTime(n, perMinute) }
	capCents := t.Settings.DailyCapCents
	cost := calls * per
	if capCents <= 0 || cost == 0 {
		return now.Add(callTime(calls)), 0
	}
	days := int((cost + capCents - 1) / capCents)
	leftToday := capCents
	if usage, err := t.Budget.Usage(ctx, t.budgetDay(now)); err == nil {
		leftToday = max(capCents-usage.ReservedCents-usage.SpentCents, 0)
	}
	if cost <= leftToday {
		return now.Add(callTime(calls)), days
	}
	rest := cost - leftToday
	fullDays := (rest - 1) / capCents
	lastDay := rest - fullDays*capCents
	return t.nextReset(now).Add(time.Duration(fullDays) * t.capPeriod()).Add(callTime(lastDay / per)), days
}

// JobEstimate is the job's response column: the calls and worst-case cost the job needs
// after reuse, as estimated when it was prepared (before any lookup), and the calls still
// ahead with when they will be done, re-estimated as work goes.
type JobEstimate struct {
	Calls          int64  `json:"estimated_calls"`
	CostCents      int64  `json:"estimated_cost_cents"`
	Known          int    `json:"already_known"`
	RemainingCalls int64  `json:"remaining_calls"`
	Completion     string `json:"estimated_completion"`
}

// reestimate sets the job's response and estimated_completion_time from the addresses still
// pending, less those the cache already answers; the first estimate is kept.
func (t *Tasks) reestimate(ctx context.Context, j *Job) { t.reestimateAt(ctx, j, 0) }

// remainingCalls is the most calls the job's pending addresses still take, less those the
// cache already answers.
func remainingCalls(j Job) int64 {
	known := max(j.KnownRecords-j.ReusedRecords, 0)
	return int64(max(j.UniqueRecords-j.LookedUpRecords-known, 0)) * int64(len(endpointsOf(j)))
}

// reestimateAt is reestimate with the calls done at perMinute (measured; 0: the configured
// rate).
func (t *Tasks) reestimateAt(ctx context.Context, j *Job, perMinute float64) {
	remaining := remainingCalls(*j)
	finish, _ := t.finishTimeAt(ctx, remaining, perMinute)
	var e JobEstimate
	if json.Unmarshal([]byte(j.Response), &e) != nil || j.Response == "" {
		e = JobEstimate{Calls: remaining, CostCents: remaining * t.Settings.CostPerReportCents, Known: j.KnownRecords}
	}
	e.RemainingCalls, e.Completion = remaining, finish.Format(time.RFC3339)
	raw, _ := json.Marshal(e)
	j.Response = string(raw)
	j.EstimatedCompletionTime = finish.Unix()
}
