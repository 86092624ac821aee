package batch

import (
	"bufio"
	"bytes"
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// The export is assembled by merging the chunks' export parts, each already written best
// first (putExportPart), instead of loading every line and sorting: the old sort held the
// whole export in memory, about 1-2 KB a row (issue 12). A merge holds one reader and one
// line per part it reads; a job with more parts than exportMergeFanIn first merges them in
// groups into runs (an external merge sort), so memory stays bounded however many chunks
// the job has.

// exportMergeFanIn is how many parts or runs one merge reads at once: 128 open blobs (files
// or S3 streams) at about 16 KB each. A million rows in chunks of 100 are 10,000 parts:
// one pass of 79 runs, then the final merge.
const exportMergeFanIn = 128

// exportRunKey is the run that pass p of the merge writes for group g. Runs are
// intermediate; the next assembly of the same job overwrites them.
func exportRunKey(jobID string, pass, group int) string {
	return fmt.Sprintf("batches/%s/export-runs/%d/%s.jsonl", jobID, pass, pad(group))
}

// reduceExportRuns merges keys (sorted parts, in chunk order) in consecutive groups of
// fanIn into runs until at most fanIn remain, and returns them in order. Merging
// consecutive groups, ties taken from the earlier source, gives the order of a stable sort
// of all the parts' lines by score, highest first.
func (t *Tasks) reduceExportRuns(ctx context.Context, jobID string, keys []string, fanIn int) ([]string, error) {
	for pass := 0; len(keys) > fanIn; pass++ {
		var runs []string
		for g, start := 0, 0; start < len(keys); g, start = g+1, start+fanIn {
			key := exportRunKey(jobID, pass, g)
			if err := t.mergeToBlob(ctx, keys[start:min(start+fanIn, len(keys))], key); err != nil {
				return nil, err
			}
			runs = append(runs, key)
		}
		keys = runs
	}
	return keys, nil
}

// mergeToBlob writes the merge of keys, line by line, into the blob key.
func (t *Tasks) mergeToBlob(ctx context.Context, keys []string, key string) error {
	blob := newBlobWriter(ctx, t.Blobs, key)
	w := bufio.NewWriterSize(blob, 64*1024)
	err := t.mergeExportLines(ctx, keys, func(raw []byte) error {
		w.Write(raw)
		return w.WriteByte('\n') // a bufio.Writer keeps its first error
	})
	if err == nil {
		err = w.Flush()
	}
	closeErr := blob.Close(err)
	if err != nil {
		return err
	}
	if closeErr != nil {
		return &StoreUnavailable{Op: "write " + key, Err: closeErr}
	}
	return nil
}

// mergeExportLines calls fn with every line of the blobs keys, each sorted by score
// (highest first), in the order of a stable sort of their concatenation: highest score
// first, equal scores in key order, then line order. fn must not keep the slice.
func (t *Tasks) mergeExportLines(ctx context.Context, keys []string, fn func([]byte) error) error {
	var h partHeap
	defer func() {
		for _, c := range h {
			c.body.Close()
		}
	}()
	for i, key := range keys {
		c, err := t.openPart(ctx, i, key)
		if err != nil {
			return err
		}
		if ok, err := c.next(); err != nil || !ok {
			c.body.Close()
			if err != nil {
				return err
			}
			continue
		}
		h = append(h, c)
	}
	heap.Init(&h)
	for len(h) > 0 {
		c := h[0]
		if err := fn(c.line); err != nil {
			return err
		}
		ok, err := c.next()
		if err != nil {
			return err
		}
		if ok {
			heap.Fix(&h, 0)
		} else {
			c.body.Close()
			heap.Pop(&h)
		}
	}
	return nil
}

// partCursor reads one sorted part (or run) a line at a time.
type partCursor struct {
	key    string
	source int // the part's place in the merge: equal scores go to the earlier part
	body   io.ReadCloser
	sc     *bufio.Scanner
	lineNo int
	line   []byte // the current line; valid until next
	score  int
}

func (t *Tasks) openPart(ctx context.Context, source int, key string) (*partCursor, error) {
	body, err := t.Blobs.Get(ctx, key)
	if err != nil {
		return nil, &StoreUnavailable{Op: "read " + key, Err: err}
	}
	body = &resumingReader{ctx: ctx, blobs: t.Blobs, key: key, body: body}
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 16*1024), 16*1024*1024)
	return &partCursor{key: key, source: source, body: body, sc: sc}, nil
}

// next moves to the part's next non-blank line and reads its score; false at the end.
func (c *partCursor) next() (bool, error) {
	for c.sc.Scan() {
		if c.sc.Err() != nil { // the line the scanner gives up with is cut short
			break
		}
		c.lineNo++
		if len(bytes.TrimSpace(c.sc.Bytes())) == 0 {
			continue
		}
		c.line = c.sc.Bytes()
		var s struct {
			Score int `json:"score"`
		}
		if err := json.Unmarshal(c.line, &s); err != nil {
			return false, &InvalidInput{File: c.key, Line: c.lineNo, Reason: err.Error()}
		}
		c.score = s.Score
		return true, nil
	}
	if err := c.sc.Err(); err != nil {
		var unavailable *StoreUnavailable
		if errors.As(err, &unavailable) {
			return false, err
		}
		return false, &InvalidInput{File: c.key, Reason: err.Error()}
	}
	return false, nil
}

// blobReopens is how often a merge opens one part again after a read error.
const blobReopens = 3

// resumingReader reads a blob to its end, opening it again after a read error and skipping
// what was already read. A merge leaves a part unread while other parts' lines come first,
// for as long as the merge takes, and S3 may reset a stream left unread that long; the
// blob store has no ranged read, so a reopened part is read again up to where it broke.
type resumingReader struct {
	ctx     context.Context
	blobs   BlobStore
	key     string
	body    io.ReadCloser
	offset  int64 // bytes read so far
	reopens int
}

func (r *resumingReader) Read(p []byte) (int, error) {
	n, err := r.body.Read(p)
	r.offset += int64(n)
	if err == nil || errors.Is(err, io.EOF) {
		return n, err
	}
	if err := r.reopen(err); err != nil {
		return n, err
	}
	return n, nil
}

// reopen replaces a broken body with a new one read up to the same offset.
func (r *resumingReader) reopen(cause error) error {
	r.body.Close()
	r.body = io.NopCloser(bytes.NewReader(nil))
	if r.reopens == blobReopens {
		return &StoreUnavailable{Op: fmt.Sprintf("read %s (opened %d times)", r.key, r.reopens+1), Err: cause}
	}
	r.reopens++
	body, err := r.blobs.Get(r.ctx, r.key)
	if err != nil {
		return &StoreUnavailable{Op: "open " + r.key + " again", Err: err}
	}
	if _, err := io.CopyN(io.Discard, body, r.offset); err != nil {
		body.Close()
		return &StoreUnavailable{Op: "read " + r.key + " again", Err: err}
	}
	r.body = body
	return nil
}

func (r *resumingReader) Close() error { return r.body.Close() }

// partHeap keeps the cursors' current lines best first: highest score, then earliest part.
type partHeap []*partCursor

func (h partHeap) Len() int { return len(h) }
func (h partHeap) Less(i, j int) bool {
	if h[i].score != h[j].score {
		return h[i].score > h[j].score
	}
	return h[i].source < h[j].source
}
func (h partHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *partHeap) Push(x any)   { *h = append(*h, x.(*partCursor)) }
func (h *partHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}
