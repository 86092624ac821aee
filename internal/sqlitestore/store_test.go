package sqlitestore

import (
	"path/filepath"
	"testing"

	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/batch/storetest"
	"github.com/leadflow/attom-batch/internal/fsblob"
)

func openTemp(t testing.TB) *Store {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(filepath.Join(dir, "attom-batch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) batch.Stores {
		blobs, err := fsblob.New(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return openTemp(t).Stores(blobs, 1000)
	})
}
