package batch

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// metaBlobs keeps each object's metadata, as S3 does.
type metaBlobs struct {
	*memBlobs
	meta map[string]map[string]string
}

func (m *metaBlobs) PutWithMetadata(ctx context.Context, key string, body io.Reader, metadata map[string]string) error {
	m.meta[key] = metadata
	return m.Put(ctx, key, body)
}

// A file the task code drops under incoming/ itself (a refresh) carries its job's options
// where the start function reads them, on a store that keeps metadata.
func TestPutUploadLeavesTheOptions(t *testing.T) {
	ctx := context.Background()
	blobs := &metaBlobs{memBlobs: &memBlobs{blobs: map[string][]byte{}}, meta: map[string]map[string]string{}}
	tasks := &Tasks{Stores: Stores{Blobs: blobs}}
	opts := RefreshOptions(time.Date(2026, 12, 6, 23, 59, 0, 0, time.UTC))
	if err := tasks.PutUpload(ctx, "incoming/refresh-x.csv", strings.NewReader("address\n"), opts); err != nil {
		t.Fatal(err)
	}
	got, err := uploadOptions(blobs.meta["incoming/refresh-x.csv"])
	if err != nil || got == nil || got.Name != "refresh 2026-12-06" || got.MaxAgeDays == nil || *got.MaxAgeDays != 0 || got.Leads == nil || !*got.Leads {
		t.Fatalf("options read back %+v (%v), want %+v", got, err, opts)
	}
	plain := &Tasks{Stores: Stores{Blobs: blobs.memBlobs}}
	if err := plain.PutUpload(ctx, "incoming/plain.csv", strings.NewReader("address\n"), opts); err != nil || len(blobs.blobs["incoming/plain.csv"]) == 0 {
		t.Fatalf("a store without metadata: %v", err)
	}
}
