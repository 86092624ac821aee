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

// getJSON reads a small JSON blob the tasks wrote.
func (t *Tasks) getJSON(ctx context.Context, key string, v any) error {
	body, err := t.Blobs.Get(ctx, key)
	if err != nil {
		return &StoreUnavailable{Op: "read " + key, Err: err}
	}
	defer body.Close()
	if err := json.NewDecoder(body).Decode(v); err != nil {
		return &InvalidInput{File: key, Reason: err.Error()}
	}
	return nil
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
