package batch

import (
	"cmp"
	"context"
	"math"
	"slices"
	"time"

	"github.com/leadflow/attom-batch/internal/budget"
)

// runManifestKey is where one lookup run's own manifest is kept.
func runManifestKey(jobID, run string) string {
	return "batches/" + jobID + "/manifests/" + run + ".json"
}

// planRun writes the manifest of one lookup run: the chunks not yet done, and no more of them
// than today's remaining cap can pay for (at least one, which the cap may then defer). A file
// that takes many days then costs each day's run a few Map transitions, instead of two for
// every chunk still waiting (about $250 of transitions per million addresses under the
// default cap).
func (t *Tasks) planRun(ctx context.Context, job Job, run string) (string, error) {
	plan, err := t.chunksLeft(ctx, job)
	if err != nil {
		return "", err
	}
	unfinished, left := plan.unfinished, plan.toLookUp
	left = left[:min(len(left), max(t.affordableChunks(ctx, job), 1))]
	// Chunks looked up but not finished (a crash between their lookups and their leads) cost
	// nothing to finish: each takes one Map child, and the cap does not limit them.
	key := runManifestKey(job.ID, run)
	return key, t.putJSON(ctx, key, append(append([]ChunkRef{}, unfinished...), left...)) // [] not null
}

// chunkPlan is what a lookup run may do: chunks to look up, and chunks looked up but not
// finished.
type chunkPlan struct{ toLookUp, unfinished []ChunkRef }

// chunksLeft lists the job's chunks that have no result yet, in manifest order, and those
// whose result has no tally.
func (t *Tasks) chunksLeft(ctx context.Context, job Job) (chunkPlan, error) {
	var all []ChunkRef
	if err := t.getJSON(ctx, manifestKey(job.ID), &all); err != nil {
		return chunkPlan{}, err
	}
	finished, err := t.finishedChunks(ctx, job.ID)
	if err != nil {
		return chunkPlan{}, err
	}
	unfinished, err := t.unfinishedChunks(ctx, job, all, finished)
	if err != nil {
		return chunkPlan{}, err
	}
	left := make([]ChunkRef, 0, len(all)-len(finished))
	for _, c := range all {
		if !finished[chunkResultKey(job.ID, c.Chunk)] {
			left = append(left, c)
		}
	}
	return chunkPlan{toLookUp: left, unfinished: unfinished}, nil
}

// finishedChunks is the set of the job's chunk result keys: a chunk with a result is done.
func (t *Tasks) finishedChunks(ctx context.Context, jobID string) (map[string]bool, error) {
	done, err := t.Blobs.List(ctx, chunkResultPrefix(jobID))
	if err != nil {
		return nil, &StoreUnavailable{Op: "list chunk results", Err: err}
	}
	finished := make(map[string]bool, len(done))
	for _, k := range done {
		finished[k] = true
	}
	return finished, nil
}

// affordableChunks is how many chunks today's remaining cap covers at the worst-case cost
// (0 when it covers no address).
// When the day's usage cannot be read it plans every chunk: the reservations still hold the cap.
func (t *Tasks) affordableChunks(ctx context.Context, job Job) int {
	per := t.maxCostPerAddress(job)
	if per <= 0 || t.Settings.DailyCapCents <= 0 {
		return math.MaxInt
	}
	usage, err := t.Budget.Usage(ctx, t.budgetDay(t.now()))
	if err != nil {
		return math.MaxInt
	}
	addresses := max(t.Settings.DailyCapCents-usage.ReservedCents-usage.SpentCents, 0) / per
	size := int64(t.chunkSize())
	return int((addresses + size - 1) / size)
}

// deferrals are the markers a finished lookup run's deferred chunks left.
type deferrals []deferral

func (ds deferrals) has(reason string) bool {
	return slices.ContainsFunc(ds, func(d deferral) bool { return d.Reason == reason })
}

// capReset is when the cap that deferred chunks resets: the end of the day each was
// deferred on (not of the day the poll comes), the latest of them; zero when none was.
func (ds deferrals) capReset(period budget.Period) time.Time {
	var reset time.Time
	for _, d := range ds {
		if d.Reason != DeferredByCap {
			continue
		}
		day, err := budget.ParseDay(d.Day)
		if err != nil {
			return time.Now().Add(period.Length()) // an old marker without its day: wait a day
		}
		if r := period.NextReset(day); r.After(reset) {
			reset = r
		}
	}
	return reset
}

// runOutcome reads what a finished lookup run left: its deferred chunks, and how many chunks
// it planned that neither got a result nor were deferred (failed).
func (t *Tasks) runOutcome(ctx context.Context, job Job, finished map[string]bool) (deferrals, int, error) {
	run := runOf(job.ExternalBatchID)
	var planned []ChunkRef
	if err := t.getJSON(ctx, runManifestKey(job.ID, run), &planned); err != nil {
		return nil, 0, err
	}
	keys, err := t.Blobs.List(ctx, deferredPrefix(job.ID, run))
	if err != nil {
		return nil, 0, &StoreUnavailable{Op: "list deferred chunks", Err: err}
	}
	var ds deferrals
	for _, key := range keys {
		var d deferral
		if err := t.getJSON(ctx, key, &d); err != nil {
			return nil, 0, err
		}
		d.Reason = cmp.Or(d.Reason, DeferredByCap)
		ds = append(ds, d)
	}
	failed := 0
	for _, c := range planned {
		if !finished[chunkResultKey(job.ID, c.Chunk)] {
			failed++
		}
	}
	return ds, failed - len(keys), nil
}
