package batch

import (
	"context"
	"encoding/json"
	"sort"
)

// SegmentChunks is how many chunk results one Process or Leads invocation handles (about
// 2,000 addresses at the default chunk size), so each invocation stays far inside Lambda's
// 15 minutes however large the file. The state machine loops while Step.More is true.
const SegmentChunks = 20

// segmentKeys returns the chunk result files of segment cursor and whether more follow.
func (t *Tasks) segmentKeys(ctx context.Context, jobID string, cursor int) ([]string, bool, error) {
	all, err := t.Blobs.List(ctx, chunkResultPrefix(jobID))
	if err != nil {
		return nil, false, &StoreUnavailable{Op: "list chunk results", Err: err}
	}
	sort.Strings(all)
	from := min(cursor*SegmentChunks, len(all))
	to := min(from+SegmentChunks, len(all))
	return all[from:to], to < len(all), nil
}

// A segment's count is kept in a small blob per segment rather than added to the job, so a
// segment that runs twice (a retried invocation) is counted once.
func tallyKey(jobID, stage string, cursor int) string {
	return "batches/" + jobID + "/" + stage + "/" + pad(cursor) + ".json"
}

type segmentTally struct {
	Count int `json:"count"`
}

func (t *Tasks) putTally(ctx context.Context, jobID, stage string, cursor, count int) error {
	return t.putJSON(ctx, tallyKey(jobID, stage, cursor), segmentTally{Count: count})
}

// sumTallies adds up every segment's count of a stage.
func (t *Tasks) sumTallies(ctx context.Context, jobID, stage string) (int, error) {
	keys, err := t.Blobs.List(ctx, "batches/"+jobID+"/"+stage+"/")
	if err != nil {
		return 0, &StoreUnavailable{Op: "list " + stage + " tallies", Err: err}
	}
	total := 0
	for _, key := range keys {
		body, err := t.Blobs.Get(ctx, key)
		if err != nil {
			return 0, &StoreUnavailable{Op: "read " + key, Err: err}
		}
		var tally segmentTally
		err = json.NewDecoder(body).Decode(&tally)
		body.Close()
		if err != nil {
			return 0, &InvalidInput{File: key, Reason: err.Error()}
		}
		total += tally.Count
	}
	return total, nil
}

// nextSegment moves the step on: to the next segment, or back to cursor 0 when done.
func nextSegment(in Step, more bool) Step {
	in.More = more
	if more {
		in.Cursor++
	} else {
		in.Cursor = 0
	}
	return in
}
