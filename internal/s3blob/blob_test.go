package s3blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/leadflow/attom-batch/internal/awstest"
	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/batch/storetest"
)

// moto is the package's one server.
var moto awstest.Shared

func TestMain(m *testing.M) { os.Exit(moto.Run(m)) }

// motoConfig returns an SDK config aimed at the package's moto.
func motoConfig(t *testing.T) aws.Config {
	return moto.Config(t)
}

// newTestStore returns a store on a fresh bucket and its client.
func newTestStore(t *testing.T) (*Store, *s3.Client) {
	t.Helper()
	client := NewClient(motoConfig(t))
	bucket := awstest.UniqueName("blob-")
	if err := CreateBucket(context.Background(), client, bucket); err != nil {
		t.Fatal(err)
	}
	return New(client, bucket), client
}

func TestConformance(t *testing.T) {
	storetest.RunBlobs(t, func(t *testing.T) batch.BlobStore {
		s, _ := newTestStore(t)
		return s
	})
}

// streamOnly hides Seek and Len, so Put cannot learn the body's size up front.
type streamOnly struct{ r io.Reader }

func (s streamOnly) Read(p []byte) (int, error) { return s.r.Read(p) }

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/4096)
	}
	return b
}

// TestMultipartStreams puts bodies of one part and more through the multipart path and
// checks the bytes and, by the ETag's "-N" suffix, the number of parts S3 assembled.
func TestMultipartStreams(t *testing.T) {
	ctx := context.Background()
	s, client := newTestStore(t)
	for _, tc := range []struct {
		name  string
		size  int
		parts string // ETag suffix; "" for a single PutObject
	}{
		{"one byte short of a part", DefaultPartSize - 1, ""},
		{"exactly one part", DefaultPartSize, "-1"},
		{"two parts and a tail", 2*DefaultPartSize + 123, "-3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := pattern(tc.size)
			key := "batches/job/results-" + strings.ReplaceAll(tc.name, " ", "-") + ".jsonl"
			if err := s.Put(ctx, key, streamOnly{bytes.NewReader(body)}); err != nil {
				t.Fatalf("Put of %d bytes: %v", tc.size, err)
			}
			head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.Bucket()), Key: aws.String(key)})
			if err != nil {
				t.Fatal(err)
			}
			etag := strings.Trim(aws.ToString(head.ETag), `"`)
			if got := etag[max(0, strings.LastIndex(etag, "-")):]; strings.Contains(etag, "-") != (tc.parts != "") || (tc.parts != "" && got != tc.parts) {
				t.Errorf("ETag %s: want part suffix %q", etag, tc.parts)
			}
			if aws.ToInt64(head.ContentLength) != int64(tc.size) {
				t.Errorf("stored %d bytes, want %d", aws.ToInt64(head.ContentLength), tc.size)
			}
			rc, err := s.Get(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			h := sha256.New()
			if _, err := io.Copy(h, rc); err != nil {
				t.Fatal(err)
			}
			if want := sha256.Sum256(body); !bytes.Equal(h.Sum(nil), want[:]) {
				t.Error("the body read back differs from the one put")
			}
		})
	}
}

// failAfter yields n bytes of the pattern, then an error, like an upload dropped midway.
type failAfter struct {
	left int
}

var errDropped = errors.New("client went away")

func (f *failAfter) Read(p []byte) (int, error) {
	if f.left == 0 {
		return 0, errDropped
	}
	n := min(len(p), f.left)
	copy(p, pattern(n))
	f.left -= n
	return n, nil
}

// TestFailedMultipartAborts: a body that fails after the first part leaves neither an
// object nor an unfinished upload, and does not touch what was stored under the key.
func TestFailedMultipartAborts(t *testing.T) {
	ctx := context.Background()
	s, client := newTestStore(t)
	key := "batches/job/results.jsonl"
	if err := s.Put(ctx, key, strings.NewReader("previous")); err != nil {
		t.Fatal(err)
	}
	fresh := "batches/job/other.jsonl"
	for _, k := range []string{key, fresh} {
		err := s.Put(ctx, k, &failAfter{left: DefaultPartSize + 1<<20})
		if !errors.Is(err, errDropped) {
			t.Errorf("Put(%s) from a reader failing after one part: %v, want the read error", k, err)
		}
	}
	uploads, err := client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(s.Bucket())})
	if err != nil {
		t.Fatal(err)
	}
	if len(uploads.Uploads) != 0 {
		t.Errorf("%d multipart uploads left open, want all aborted", len(uploads.Uploads))
	}
	if _, err := s.Get(ctx, fresh); !errors.Is(err, batch.ErrNotFound) {
		t.Errorf("Get(%s) after a failed first Put: %v, want ErrNotFound", fresh, err)
	}
	rc, err := s.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if got, _ := io.ReadAll(rc); string(got) != "previous" {
		t.Errorf("a failed Put over %s left %q", key, got)
	}
}

func TestExists(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	key := "batches/job/lookups/000003.jsonl"
	if ok, err := s.Exists(ctx, key); err != nil || ok {
		t.Errorf("Exists before Put = %v, %v; want false, nil", ok, err)
	}
	if err := s.Put(ctx, key, strings.NewReader("{}\n")); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Exists(ctx, key); err != nil || !ok {
		t.Errorf("Exists after Put = %v, %v; want true, nil", ok, err)
	}
}

func TestCreateBucketTwice(t *testing.T) {
	client := NewClient(motoConfig(t))
	bucket := awstest.UniqueName("twice-")
	for range 2 {
		if err := CreateBucket(context.Background(), client, bucket); err != nil {
			t.Fatalf("CreateBucket(%s): %v", bucket, err)
		}
	}
}

func TestNewClientPathStyle(t *testing.T) {
	for _, tc := range []struct {
		name     string
		endpoint *string
		want     bool
	}{
		{"AWS", nil, false},
		{"custom endpoint", aws.String("http://127.0.0.1:4566"), true},
	} {
		cfg := aws.Config{Region: "us-east-1", BaseEndpoint: tc.endpoint}
		if got := NewClient(cfg).Options().UsePathStyle; got != tc.want {
			t.Errorf("%s: UsePathStyle = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestWithPartSize(t *testing.T) {
	s := New(nil, "b")
	if _, err := s.WithPartSize(1 << 20); err == nil {
		t.Error("a 1 MiB part size was accepted; S3 wants at least 5 MiB")
	}
	big, err := s.WithPartSize(16 << 20)
	if err != nil || big.partSize != 16<<20 || s.partSize != DefaultPartSize {
		t.Errorf("WithPartSize(16 MiB) = %v, %v; original now %d", big, err, s.partSize)
	}
}

// TestPutWithMetadata: user metadata reaches the object by either path (one PutObject, a
// multipart upload) and reads back with Metadata.
func TestPutWithMetadata(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t)
	meta := map[string]string{"attom-batch-options": "%7B%22name%22%3A%22Spring%22%7D"}
	for _, size := range []int{10, DefaultPartSize + 1} {
		key := fmt.Sprintf("incoming/meta-%d.csv", size)
		if err := s.PutWithMetadata(ctx, key, streamOnly{bytes.NewReader(pattern(size))}, meta); err != nil {
			t.Fatal(err)
		}
		got, err := s.Metadata(ctx, key, "")
		if err != nil || !maps.Equal(got, meta) {
			t.Errorf("%d bytes: metadata %v (%v), want %v", size, got, err, meta)
		}
	}
	if _, err := s.Metadata(ctx, "incoming/missing.csv", ""); err == nil {
		t.Error("Metadata of a missing object: no error")
	}
}
