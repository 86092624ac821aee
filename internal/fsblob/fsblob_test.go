package fsblob

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/batch/storetest"
)

func TestConformance(t *testing.T) {
	storetest.RunBlobs(t, func(t *testing.T) batch.BlobStore {
		s, err := New(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestSplitConformance(t *testing.T) {
	storetest.RunBlobs(t, func(t *testing.T) batch.BlobStore {
		s, err := NewSplit(t.TempDir(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestKeysThatLeaveTheRootAreRejected(t *testing.T) {
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct{ key, want string }{
		{"", "empty key"},
		{"/etc/passwd", "must be relative"},
		{"../outside", `".." segments`},
		{"jobs/../../outside", `".." segments`},
		{"jobs/./x", `"." segments`},
		{"jobs//x", "empty path segment"},
		{"jobs/x/", "empty path segment"},
		{`jobs\..\x`, `'\'`},
		{"jobs/" + tmpPrefix + "1", "reserved"},
	} {
		t.Run(tc.key, func(t *testing.T) {
			err := s.Put(ctx, tc.key, strings.NewReader("x"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Put(%q) = %v, want an error containing %q", tc.key, err, tc.want)
			}
			if _, err := s.Get(ctx, tc.key); err == nil || errors.Is(err, batch.ErrNotFound) {
				t.Errorf("Get(%q) = %v, want a key error, not ErrNotFound", tc.key, err)
			}
		})
	}
	if _, err := s.List(ctx, "../"); err == nil {
		t.Error(`List("../") succeeded`)
	}
}

func TestSplitRoutesIncomingToTheUploadDir(t *testing.T) {
	uploads, results := t.TempDir(), t.TempDir()
	s, err := NewSplit(uploads, results)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, key := range []string{"incoming/a.csv", "incoming/sub/b.csv", "jobs/j1/result.json", "exports/leads.csv"} {
		if err := s.Put(ctx, key, strings.NewReader(key)); err != nil {
			t.Fatal(err)
		}
	}
	for key, file := range map[string]string{
		"incoming/a.csv":      filepath.Join(uploads, "a.csv"),
		"incoming/sub/b.csv":  filepath.Join(uploads, "sub", "b.csv"),
		"jobs/j1/result.json": filepath.Join(results, "jobs", "j1", "result.json"),
		"exports/leads.csv":   filepath.Join(results, "exports", "leads.csv"),
	} {
		if body, err := os.ReadFile(file); err != nil || string(body) != key {
			t.Errorf("%s: file %s holds %q, %v", key, file, body, err)
		}
	}
	// A CSV dropped straight into the upload folder is an incoming/ key.
	if err := os.WriteFile(filepath.Join(uploads, "dropped.csv"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for prefix, want := range map[string]string{
		"":           "exports/leads.csv incoming/a.csv incoming/dropped.csv incoming/sub/b.csv jobs/j1/result.json",
		"in":         "incoming/a.csv incoming/dropped.csv incoming/sub/b.csv",
		"incoming/":  "incoming/a.csv incoming/dropped.csv incoming/sub/b.csv",
		"incoming/s": "incoming/sub/b.csv",
		"jobs/":      "jobs/j1/result.json",
	} {
		got, err := s.List(ctx, prefix)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, " ") != want {
			t.Errorf("List(%q) = %v, want %s", prefix, got, want)
		}
	}
}

func TestPutStreamsAndLeavesNoTempFiles(t *testing.T) {
	root := t.TempDir()
	s, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Put(ctx, "jobs/x", strings.NewReader("body")); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a cancelled context = %v, want context.Canceled", err)
	}
	body := bytes.Repeat([]byte("0123456789"), 1<<16)
	if err := s.Put(context.Background(), "jobs/y", bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	rc, _ := s.Get(context.Background(), "jobs/y")
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, body) {
		t.Error("large body did not round-trip")
	}
	entries, _ := os.ReadDir(filepath.Join(root, "jobs"))
	if len(entries) != 1 || entries[0].Name() != "y" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("jobs/ holds %v, want only y (no temporary files)", names)
	}
}

func BenchmarkPut64KiB(b *testing.B) {
	s, err := New(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	body := bytes.Repeat([]byte("x"), 64<<10)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := s.Put(context.Background(), "jobs/j/chunk.json", bytes.NewReader(body)); err != nil {
			b.Fatal(err)
		}
	}
}
