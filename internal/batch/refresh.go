package batch

import (
	"bytes"
	"context"
	"encoding/csv"
	"time"

	"github.com/leadflow/attom-batch/events"
)

// RefreshInput is the schedule's event; its detail may override the configured age and size.
type RefreshInput = events.ScheduledRefresh

// RefreshResult names the refresh file dropped under incoming/ and how many rows it holds.
type RefreshResult struct {
	Key     string `json:"key,omitempty"`
	Records int    `json:"records"`
	// Options are the refresh job's (RefreshOptions), also left on the file for the start
	// function; a caller that starts the job itself starts it with them.
	Options SubmitOptions `json:"options"`
	// Disabled is true when the refresh feature flag is off: nothing was selected.
	Disabled bool `json:"disabled,omitempty"`
}

// Refresh selects property records older than the refresh age and drops them as a CSV under
// incoming/, where it goes through the same pipeline as any upload (on AWS the bucket's
// EventBridge rule starts it).
func (t *Tasks) Refresh(ctx context.Context, in RefreshInput) (RefreshResult, error) {
	if !t.Settings.Refresh {
		t.log().Info("refresh skipped: the refresh feature flag is off (ATTOM_BATCH_FEATURES)")
		return RefreshResult{Disabled: true}, nil
	}
	age := t.Settings.RefreshAge
	if in.Detail.MaxAgeDays > 0 {
		age = time.Duration(in.Detail.MaxAgeDays) * 24 * time.Hour
	}
	if in.Detail.All {
		age = -time.Second // everything written up to now
	}
	limit := t.Settings.RefreshLimit
	if in.Detail.Limit > 0 {
		limit = in.Detail.Limit
	}
	recs, err := t.Properties.StaleRecords(ctx, t.now().Add(-age), limit)
	if err != nil {
		return RefreshResult{}, &StoreUnavailable{Op: "select stale records", Err: err}
	}
	if len(recs) == 0 {
		return RefreshResult{}, nil
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"address", "city", "state", "zip", "property_hash"})
	seen := map[string]bool{}
	for _, r := range recs {
		if seen[r.PropertyHash] {
			continue
		}
		seen[r.PropertyHash] = true
		_ = w.Write([]string{r.Address, r.City, r.State, r.ZIPCode, r.PropertyHash})
	}
	w.Flush()
	key := refreshPrefix + t.now().Format("20060102T150405Z") + ".csv"
	opts := RefreshOptions(t.now())
	if err := t.PutUpload(ctx, key, &buf, opts); err != nil {
		return RefreshResult{}, &StoreUnavailable{Op: "write " + key, Err: err}
	}
	return RefreshResult{Key: key, Records: len(seen), Options: opts}, nil
}

// RefreshOptions are a refresh job's: named after the day, leads made, every answer bought
// fresh (the point of a refresh).
func RefreshOptions(at time.Time) SubmitOptions {
	leads, fresh := true, 0
	return SubmitOptions{Name: "refresh " + at.UTC().Format(time.DateOnly), Leads: &leads, MaxAgeDays: &fresh}
}

// refreshPrefix names the files Refresh drops: their jobs always buy fresh answers, whatever
// the reuse window, since looking properties up again is their whole point.
const refreshPrefix = "incoming/refresh-"
