package batch

import (
	"context"
	"encoding/json"
	"errors"
)

// SegmentChunks is how many chunk results one Process or Leads invocation handles (about
// 2,000 addresses at the default chunk size), so each invocation stays far inside Lambda's
// 15 minutes however large the file. The state machine loops while Step.More is true.
const SegmentChunks = 20

// segmentChunks returns the chunk numbers of segment cursor and whether more follow. Chunks
// are numbered 0 to ChunkCount-1 and their result keys follow from the number, so a segment
// is a range: nothing is listed, and a job of n chunks costs n reads in all, not a listing
// of every chunk result per segment (n²/SegmentChunks keys).
func segmentChunks(job Job, cursor int) ([]int, bool) {
	from := min(cursor*SegmentChunks, job.ChunkCount)
	to := min(from+SegmentChunks, job.ChunkCount)
	chunks := make([]int, 0, to-from)
	for c := from; c < to; c++ {
		chunks = append(chunks, c)
	}
	return chunks, to < job.ChunkCount
}

// finishChunks finishes the given chunks (see finishChunk); a chunk without a result (none
// after a finished lookup run; a job processed before its lookups ended) is left for later.
func (t *Tasks) finishChunks(ctx context.Context, job Job, chunks []int) error {
	for _, chunk := range chunks {
		err := t.finishChunk(ctx, job, chunk)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
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
