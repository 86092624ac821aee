// Package fsblob is the embedded backend's BlobStore: keys are files under a directory.
// Writes go to a temporary file in the target directory and are renamed into place, so a
// crash or a failed upload never leaves a half-written file under a key; readers stream.
package fsblob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/leadflow/attom-batch/internal/batch"
)

// tmpPrefix starts the names of files being written; List never shows them and keys may
// not use it.
const tmpPrefix = ".fsblob-tmp-"

// Store keeps blobs as files under Root: key "a/b.csv" is Root/a/b.csv.
type Store struct {
	root string
}

var _ batch.BlobStore = (*Store)(nil)

// New returns a Store over root, creating the directory if needed.
func New(root string) (*Store, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("fsblob: root %q: %w", root, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("fsblob: root %q: %w", root, err)
	}
	return &Store{root: abs}, nil
}

// Root is the directory the store keeps its files in.
func (s *Store) Root() string { return s.root }

// Path returns the file that holds key, for tools that want to show or open it.
func (s *Store) Path(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return filepath.Join(s.root, filepath.FromSlash(key)), nil
}

// checkKey refuses keys that could leave the root or collide with temporary files: keys are
// relative, '/'-separated, with no empty, "." or ".." segment.
func checkKey(key string) error {
	if key == "" {
		return errors.New("fsblob: empty key")
	}
	if strings.HasPrefix(key, "/") || filepath.IsAbs(key) {
		return fmt.Errorf("fsblob: key %q: must be relative, not absolute", key)
	}
	if strings.ContainsAny(key, "\\\x00") {
		return fmt.Errorf("fsblob: key %q: must not contain '\\' or NUL", key)
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch {
		case seg == "":
			return fmt.Errorf("fsblob: key %q: empty path segment", key)
		case seg == "." || seg == "..":
			return fmt.Errorf("fsblob: key %q: %q segments are not allowed", key, seg)
		case strings.HasPrefix(seg, tmpPrefix):
			return fmt.Errorf("fsblob: key %q: names starting %q are reserved", key, tmpPrefix)
		}
	}
	return nil
}

// Put implements batch.BlobStore: it streams body into a temporary file next to the target,
// syncs it and renames it over the key, so readers see the old file or the whole new one.
func (s *Store) Put(ctx context.Context, key string, body io.Reader) error {
	path, err := s.Path(key)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("fsblob: put %s: %w", key, err)
	}
	tmp, err := os.CreateTemp(dir, tmpPrefix+"*")
	if err != nil {
		return fmt.Errorf("fsblob: put %s: %w", key, err)
	}
	if err := writeAndClose(tmp, ctxReader{ctx, body}); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("fsblob: put %s: %w", key, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("fsblob: put %s: %w", key, err)
	}
	return nil
}

func writeAndClose(f *os.File, body io.Reader) error {
	_, err := io.Copy(f, body)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ctxReader stops a long copy when the context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Get implements batch.BlobStore; a missing key is batch.ErrNotFound.
func (s *Store) Get(_ context.Context, key string) (io.ReadCloser, error) {
	path, err := s.Path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("fsblob: %s: %w", key, batch.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("fsblob: get %s: %w", key, err)
	}
	if info, err := f.Stat(); err == nil && info.IsDir() {
		f.Close()
		return nil, fmt.Errorf("fsblob: %s is a folder: %w", key, batch.ErrNotFound)
	}
	return f, nil
}

// List implements batch.BlobStore: every key starting with prefix (plain text match, as S3
// does), in lexical order.
func (s *Store) List(_ context.Context, prefix string) ([]string, error) {
	if strings.HasPrefix(prefix, "/") || strings.Contains("/"+prefix, "/../") {
		return nil, fmt.Errorf("fsblob: list prefix %q: must be relative without '..'", prefix)
	}
	dir := prefix[:strings.LastIndex(prefix, "/")+1] // the folder the prefix names fully
	start := filepath.Join(s.root, filepath.FromSlash(dir))
	var keys []string
	err := filepath.WalkDir(start, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), tmpPrefix) {
			return nil
		}
		rel, err := filepath.Rel(s.root, path)
		if err != nil {
			return err
		}
		if key := filepath.ToSlash(rel); strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fsblob: list %q: %w", prefix, err)
	}
	sort.Strings(keys)
	return keys, nil
}
