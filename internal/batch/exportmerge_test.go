package batch

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

// memBlobs is a BlobStore in a map, for tests of this package (fsblob imports it).
type memBlobs struct {
	mu    sync.Mutex
	blobs map[string][]byte
}

func (m *memBlobs) Put(_ context.Context, key string, body io.Reader) error {
	raw, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.blobs[key] = raw
	return nil
}

func (m *memBlobs) Get(_ context.Context, key string) (io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	raw, ok := m.blobs[key]
	if !ok {
		return nil, ErrNotFound
	}
	return io.NopCloser(bytes.NewReader(raw)), nil
}

func (m *memBlobs) List(_ context.Context, prefix string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var keys []string
	for k := range m.blobs {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// TestExportMergeMatchesTheStableSort checks the bounded merge against what the export did
// before it: every part's lines in key order, stably sorted by score, highest first. Scores
// come from a small range, so most lines tie with lines of other parts and of their own.
func TestExportMergeMatchesTheStableSort(t *testing.T) {
	type line struct {
		score int
		raw   string
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, parts := range []int{0, 1, 3, 10, 40} {
		for _, fanIn := range []int{2, 3, 7, exportMergeFanIn} {
			t.Run(fmt.Sprintf("parts=%d/fan-in=%d", parts, fanIn), func(t *testing.T) {
				ctx := context.Background()
				tasks := &Tasks{Stores: Stores{Blobs: &memBlobs{blobs: map[string][]byte{}}}}
				var all []line
				var keys []string
				for p := range parts {
					var part []line
					for i := range rng.IntN(8) { // some parts are empty
						s := rng.IntN(4)
						part = append(part, line{s, fmt.Sprintf(`{"id":"%d-%d","score":%d}`, p, i, s)})
					}
					slices.SortStableFunc(part, func(a, b line) int { return cmp.Compare(b.score, a.score) })
					var buf bytes.Buffer
					for _, l := range part {
						buf.WriteString(l.raw + "\n")
					}
					key := exportPartKey("job", p)
					tasks.Blobs.Put(ctx, key, &buf)
					keys = append(keys, key)
					all = append(all, part...)
				}
				slices.SortStableFunc(all, func(a, b line) int { return cmp.Compare(b.score, a.score) })

				runs, err := tasks.reduceExportRuns(ctx, "job", keys, fanIn)
				if err != nil {
					t.Fatal(err)
				}
				if len(runs) > fanIn {
					t.Fatalf("%d runs left for a fan-in of %d", len(runs), fanIn)
				}
				var got []string
				err = tasks.mergeExportLines(ctx, runs, func(raw []byte) error {
					got = append(got, string(raw))
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(all) {
					t.Fatalf("got %d lines, want %d", len(got), len(all))
				}
				for i, l := range all {
					if got[i] != l.raw {
						t.Fatalf("line %d: got %s, want %s", i, got[i], l.raw)
					}
				}
			})
		}
	}
}

func TestExportMergeRefusesABrokenLine(t *testing.T) {
	ctx := context.Background()
	tasks := &Tasks{Stores: Stores{Blobs: &memBlobs{blobs: map[string][]byte{}}}}
	tasks.Blobs.Put(ctx, "a", strings.NewReader(`{"score":3}`+"\n"+`{"score":`+"\n"))
	err := tasks.mergeExportLines(ctx, []string{"a"}, func([]byte) error { return nil })
	var bad *InvalidInput
	if !errors.As(err, &bad) || bad.Line != 2 {
		t.Fatalf("want InvalidInput naming line 2, got %v", err)
	}
}

// brokenStreams is a blob store whose streams break: each of the first breaks opens fails
// after a few bytes, as an S3 stream the merge left unread too long may be reset.
type brokenStreams struct {
	*memBlobs
	breaks int
	opens  int
}

var errReset = errors.New("read: connection reset by peer")

func (b *brokenStreams) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	body, err := b.memBlobs.Get(ctx, key)
	b.opens++
	if err != nil || b.opens > b.breaks {
		return body, err
	}
	return io.NopCloser(io.MultiReader(io.LimitReader(body, int64(3+b.opens)), iotestErr{errReset})), nil
}

type iotestErr struct{ err error }

func (e iotestErr) Read([]byte) (int, error) { return 0, e.err }

// A part whose stream breaks mid-merge is opened again and read on from where it broke, so
// the export is whole; a part that keeps breaking is a store error, not a broken line.
func TestExportMergeReadsOnAfterAStreamBreaks(t *testing.T) {
	ctx := context.Background()
	lines := []string{`{"id":"a","score":9}`, `{"id":"b","score":5}`, `{"id":"c","score":1}`}
	for _, tc := range []struct {
		breaks  int
		wantErr bool
	}{{0, false}, {blobReopens, false}, {blobReopens + 1, true}} {
		blobs := &brokenStreams{memBlobs: &memBlobs{blobs: map[string][]byte{}}, breaks: tc.breaks}
		blobs.Put(ctx, "part", strings.NewReader(strings.Join(lines, "\n")+"\n"))
		tasks := &Tasks{Stores: Stores{Blobs: blobs}}
		var got []string
		err := tasks.mergeExportLines(ctx, []string{"part"}, func(raw []byte) error {
			got = append(got, string(raw))
			return nil
		})
		var unavailable *StoreUnavailable
		switch {
		case tc.wantErr && !errors.As(err, &unavailable):
			t.Errorf("%d breaks: %v, want StoreUnavailable", tc.breaks, err)
		case !tc.wantErr && (err != nil || !slices.Equal(got, lines)):
			t.Errorf("%d breaks: %v, lines %q; want all %d in order", tc.breaks, err, got, len(lines))
		}
	}
}
