package fsblob

import (
	"context"
	"io"
	"sort"
	"strings"

	"github.com/leadflow/attom-batch/internal/batch"
)

// IncomingPrefix is the key prefix of uploaded CSVs, as on S3 where the bucket's incoming/
// folder starts the pipeline.
const IncomingPrefix = "incoming/"

// Split keeps the embedded backend's two folders behind one BlobStore: keys under
// incoming/ are files in the upload directory (BATCH_UPLOAD_DIR; "incoming/a.csv" is
// UPLOAD_DIR/a.csv, so a user drops CSVs straight into it), every other key is a file in the
// results directory (BATCH_RESULTS_DIR; "jobs/x/result.json" is RESULTS_DIR/jobs/x/result.json).
type Split struct {
	Uploads *Store
	Results *Store
}

var _ batch.BlobStore = (*Split)(nil)

// NewSplit returns the Split over the two directories, creating them if needed.
func NewSplit(uploadDir, resultsDir string) (*Split, error) {
	uploads, err := New(uploadDir)
	if err != nil {
		return nil, err
	}
	results, err := New(resultsDir)
	if err != nil {
		return nil, err
	}
	return &Split{Uploads: uploads, Results: results}, nil
}

// route picks the store and the key inside it.
func (s *Split) route(key string) (*Store, string) {
	if rest, ok := strings.CutPrefix(key, IncomingPrefix); ok {
		return s.Uploads, rest
	}
	return s.Results, key
}

// Put implements batch.BlobStore.
func (s *Split) Put(ctx context.Context, key string, body io.Reader) error {
	store, inner := s.route(key)
	return store.Put(ctx, inner, body)
}

// Get implements batch.BlobStore.
func (s *Split) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	store, inner := s.route(key)
	return store.Get(ctx, inner)
}

// List implements batch.BlobStore over both directories, in lexical order.
func (s *Split) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	if strings.HasPrefix(IncomingPrefix, prefix) || strings.HasPrefix(prefix, IncomingPrefix) {
		inner := strings.TrimPrefix(prefix, IncomingPrefix)
		if len(prefix) < len(IncomingPrefix) {
			inner = ""
		}
		uploads, err := s.Uploads.List(ctx, inner)
		if err != nil {
			return nil, err
		}
		for _, k := range uploads {
			keys = append(keys, IncomingPrefix+k)
		}
	}
	if !strings.HasPrefix(prefix, IncomingPrefix) {
		results, err := s.Results.List(ctx, prefix)
		if err != nil {
			return nil, err
		}
		for _, k := range results {
			if !strings.HasPrefix(k, IncomingPrefix) { // never written through Split
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys, nil
}
