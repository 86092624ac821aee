package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/leadflow/attom-batch/internal/batch"
)

// RunBlobs checks a BlobStore: bytes round-trip (large ones too), a put replaces, a missing
// key is ErrNotFound, List returns the keys under a prefix in lexical order, and a put whose
// reader fails leaves no object behind.
func RunBlobs(t *testing.T, newStore func(t *testing.T) batch.BlobStore) {
	t.Run("RoundTrip", func(t *testing.T) { testBlobRoundTrip(t, newStore(t)) })
	t.Run("PutReplaces", func(t *testing.T) { testBlobReplace(t, newStore(t)) })
	t.Run("GetMissing", func(t *testing.T) { testBlobMissing(t, newStore(t)) })
	t.Run("ListByPrefix", func(t *testing.T) { testBlobList(t, newStore(t)) })
	t.Run("FailedPutLeavesNothing", func(t *testing.T) { testBlobFailedPut(t, newStore(t)) })
}

func put(t *testing.T, s batch.BlobStore, key string, body []byte) {
	t.Helper()
	if err := s.Put(context.Background(), key, bytes.NewReader(body)); err != nil {
		t.Fatalf("Put(%s): %v", key, err)
	}
}

func get(t *testing.T, s batch.BlobStore, key string) []byte {
	t.Helper()
	rc, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%s): %v", key, err)
	}
	defer rc.Close()
	body, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %s: %v", key, err)
	}
	return body
}

func testBlobRoundTrip(t *testing.T, s batch.BlobStore) {
	large := make([]byte, 3<<20+17) // bigger than any single buffer, odd size
	_, _ = rand.Read(large)
	for key, body := range map[string][]byte{
		"incoming/" + uniq("in") + ".csv":        []byte("address,city,state,zip\n1 Main St,Austin,TX,78701\n"),
		"jobs/" + uniq("job") + "/chunks/0.json": large,
		"jobs/" + uniq("job") + "/empty":         {},
	} {
		put(t, s, key, body)
		if got := get(t, s, key); !bytes.Equal(got, body) {
			t.Errorf("Get(%s) returned %d bytes, want the %d put", key, len(got), len(body))
		}
	}
}

func testBlobReplace(t *testing.T, s batch.BlobStore) {
	key := "results/" + uniq("r") + ".json"
	put(t, s, key, []byte("first, longer body"))
	put(t, s, key, []byte("second"))
	if got := string(get(t, s, key)); got != "second" {
		t.Errorf("after two puts Get = %q, want %q", got, "second")
	}
}

func testBlobMissing(t *testing.T, s batch.BlobStore) {
	_, err := s.Get(context.Background(), "results/"+uniq("absent"))
	if !errors.Is(err, batch.ErrNotFound) {
		t.Errorf("Get of a missing key: %v, want ErrNotFound", err)
	}
}

func testBlobList(t *testing.T, s batch.BlobStore) {
	ctx := context.Background()
	job := uniq("job")
	keys := []string{
		"jobs/" + job + "/chunks/1.json",
		"jobs/" + job + "/chunks/0.json",
		"jobs/" + job + "/result.json",
		"jobs/" + job + "x/other.json", // shares the prefix text, not the folder
	}
	for _, k := range keys {
		put(t, s, k, []byte(k))
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"jobs/" + job + "/", []string{keys[1], keys[0], keys[2]}},
		{"jobs/" + job + "/chunks/", []string{keys[1], keys[0]}},
		{"jobs/" + job, []string{keys[1], keys[0], keys[2], keys[3]}},
		{"jobs/" + job + "/chunks/0", []string{keys[1]}},
		{"jobs/" + uniq("none") + "/", nil},
	} {
		got, err := s.List(ctx, tc.prefix)
		if err != nil {
			t.Fatalf("List(%q): %v", tc.prefix, err)
		}
		if d := diff(tc.want, got); d != "" {
			t.Errorf("List(%q) (-want +got):\n%s", tc.prefix, d)
		}
	}
}

// failingReader yields some bytes and then an error, like a dropped upload.
type failingReader struct{ sent bool }

var errDropped = errors.New("connection dropped")

func (r *failingReader) Read(p []byte) (int, error) {
	if r.sent {
		return 0, errDropped
	}
	r.sent = true
	return copy(p, strings.Repeat("partial,", 64)), nil
}

func testBlobFailedPut(t *testing.T, s batch.BlobStore) {
	ctx := context.Background()
	dir := "jobs/" + uniq("job") + "/"
	fresh, kept := dir+"fresh.csv", dir+"kept.csv"
	put(t, s, kept, []byte("complete"))
	for _, key := range []string{fresh, kept} {
		if err := s.Put(ctx, key, &failingReader{}); err == nil {
			t.Errorf("Put(%s) from a failing reader succeeded", key)
		}
	}
	if _, err := s.Get(ctx, fresh); !errors.Is(err, batch.ErrNotFound) {
		t.Errorf("after a failed first Put, Get(%s) = %v, want ErrNotFound", fresh, err)
	}
	if got := string(get(t, s, kept)); got != "complete" {
		t.Errorf("a failed Put over %s left %q, want the previous %q", kept, got, "complete")
	}
	if got, err := s.List(ctx, dir); err != nil || len(got) != 1 || got[0] != kept {
		t.Errorf("List after failed puts = %v, %v; want only %s (no partial or temporary files)", got, err, kept)
	}
}
