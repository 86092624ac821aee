package batch

import (
	"context"
	"encoding/json"
	"io"
	"sort"
)

// Download is downloadBatchResults: it assembles the chunk results into one results file
// and computes the job's final lookup counts from the records themselves (not from the
// progress counters, which a crash can leave short).
func (t *Tasks) Download(ctx context.Context, in Step) (Step, error) {
	job, err := t.drivenJob(ctx, in)
	if err != nil {
		return in, err
	}
	keys, err := t.Blobs.List(ctx, chunkResultPrefix(job.ID))
	if err != nil {
		return in, &StoreUnavailable{Op: "list chunk results", Err: err}
	}
	sort.Strings(keys)
	tally, err := t.assembleResults(ctx, job.ID, keys)
	if err != nil {
		return in, err
	}
	if err := t.putJSON(ctx, downloadTallyKey(job.ID), tally); err != nil {
		return in, err
	}
	spent, uncertain, err := t.settledCost(ctx, job.ID)
	if err != nil {
		return in, err
	}
	_, err = t.Jobs.UpdateJob(ctx, job.ID, func(j *Job) error {
		now := t.now()
		j.Status = StatusDownloaded
		j.DownloadedAt = &now
		j.UpdatedAt = &now
		j.ResultFileName = "results.jsonl"
		j.ResultFilePath = resultsKey(j.ID)
		j.RecordsFound = tally.Found
		j.NotFoundRecords = tally.NotFound
		j.ErrorRecords = tally.Errors
		j.LookedUpRecords = tally.Found + tally.NotFound + tally.Errors
		j.ReusedRecords = tally.Reused
		// The lookups are over: no attempt holds a reservation for this job any more (one a
		// crash left on the day's counter expires with its day), and what they spent is the
		// sum of their settlements, which no crash can skew.
		j.CostReservedCents = 0
		j.CostSpentCents, j.CostUncertainCents = spent, uncertain
		j.ProgressPercent = 100
		return nil
	})
	if err != nil {
		return in, &StoreUnavailable{Op: "record download", Err: err}
	}
	return in, nil
}

// resultTally is what the lookups came to. Download keeps it in a blob too, so Process can
// set the final counts (moving unconvertible answers from found to errors) as absolute
// values, however often its last segment runs.
type resultTally struct {
	Found    int   `json:"found"`
	NotFound int   `json:"not_found"`
	Errors   int   `json:"errors"`
	Billed   int64 `json:"billed_cents"`
	Reused   int   `json:"reused"`
}

func downloadTallyKey(jobID string) string { return "batches/" + jobID + "/download.json" }

func (r *resultTally) add(l LookupRecord) {
	switch l.Outcome {
	case LookupFound:
		r.Found++
	case LookupNotFound:
		r.NotFound++
	default:
		r.Errors++
	}
	r.Billed += l.BilledCents
	if l.Reused {
		r.Reused++
	}
}

// assembleResults streams every chunk result into the results file through a pipe.
func (t *Tasks) assembleResults(ctx context.Context, jobID string, keys []string) (resultTally, error) {
	var tally resultTally
	blob := newBlobWriter(ctx, t.Blobs, resultsKey(jobID))
	err := t.copyChunkResults(ctx, keys, blob, &tally)
	if closeErr := blob.Close(err); err == nil && closeErr != nil {
		err = &StoreUnavailable{Op: "write results", Err: closeErr}
	}
	return tally, err
}

func (t *Tasks) copyChunkResults(ctx context.Context, keys []string, w io.Writer, tally *resultTally) error {
	for _, key := range keys {
		body, err := t.Blobs.Get(ctx, key)
		if err != nil {
			return &StoreUnavailable{Op: "read " + key, Err: err}
		}
		err = eachJSONLine(body, func(line []byte) error {
			var r ResultLine
			if err := json.Unmarshal(line, &r); err != nil {
				return err
			}
			tally.add(r.Lookup)
			_, err := w.Write(append(line, '\n'))
			return err
		})
		body.Close()
		if err != nil {
			return &InvalidInput{File: key, Reason: err.Error()}
		}
	}
	return nil
}

// eachResultIn streams the result lines of the given chunk result files.
func (t *Tasks) eachResultIn(ctx context.Context, keys []string, fn func(ResultLine) error) error {
	for _, key := range keys {
		if err := t.eachResultOf(ctx, key, fn); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tasks) eachResultOf(ctx context.Context, key string, fn func(ResultLine) error) error {
	body, err := t.Blobs.Get(ctx, key)
	if err != nil {
		return &StoreUnavailable{Op: "read " + key, Err: err}
	}
	defer body.Close()
	return eachJSONLine(body, func(line []byte) error {
		var r ResultLine
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		return fn(r)
	})
}
