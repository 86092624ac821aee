package localrun_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/leadflow/attom-batch/internal/attomsim"
	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/config"
	"github.com/leadflow/attom-batch/statemachine"
)

// countingBlobs counts the listings of chunk results and the keys they return.
type countingBlobs struct {
	batch.BlobStore
	mu            sync.Mutex
	lists, listed int
}

func (c *countingBlobs) List(ctx context.Context, prefix string) ([]string, error) {
	keys, err := c.BlobStore.List(ctx, prefix)
	if strings.HasSuffix(prefix, "/lookups/") {
		c.mu.Lock()
		c.lists++
		c.listed += len(keys)
		c.mu.Unlock()
	}
	return keys, err
}

// Issue 12: Process listed every chunk result at each of its segments (and Leads once
// more), so a million addresses (10,000 chunks, 500 segments) listed five million keys. Each
// segment now takes its range of chunk numbers: Process and Leads list nothing.
func TestProcessAndLeadsDoNotListEveryChunkResultPerSegment(t *testing.T) {
	const n = 12 * batch.SegmentChunks // chunks of one address: 12 segments
	w := newWorldWith(t, func(c *config.Config) { c.ChunkSize = 1 }, attomsim.Options{NotFoundRate: -1})
	blobs := &countingBlobs{BlobStore: w.sys.Tasks.Blobs}
	w.sys.Tasks.Blobs = blobs
	exec, job := w.run(w.csvFile("many.csv", addresses(n)...), "many-chunks")
	if exec.Status != statemachine.StatusSucceeded || job.ChunkCount != n {
		t.Fatalf("execution %s (%s), %d chunks", exec.Status, exec.Cause, job.ChunkCount)
	}
	if job.ProcessedRecords != n || job.LeadsCreated != n {
		t.Fatalf("processed %d, leads %d, want %d", job.ProcessedRecords, job.LeadsCreated, n)
	}
	t.Logf("%d chunks: %d listings of chunk results returned %d keys", n, blobs.lists, blobs.listed)
	// Download lists them once, and Poll once when the lookup run has ended (before: 3,600
	// keys, 2,880 of them in Process's 12 listings).
	if blobs.listed > 3*n {
		t.Fatalf("%d chunk result keys listed for %d chunks: a listing per segment is back", blobs.listed, n)
	}
}
