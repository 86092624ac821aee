// Package s3blob is the AWS backend's batch.BlobStore: uploads, chunks, lookup results,
// rejects and exports as objects in one S3 bucket (layout: docs/storage.md). Bodies of
// unknown length are streamed: one PutObject when they fit in a part, else a multipart
// upload of partSize parts that is aborted on any error, so a failed Put leaves no object
// and never replaces an existing one.
package s3blob

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/leadflow/attom-batch/internal/batch"
)

// Store is a bucket seen as a batch.BlobStore.
type Store struct {
	client   *s3.Client
	bucket   string
	partSize int
}

var _ batch.BlobStore = (*Store)(nil)

// DefaultPartSize is the multipart part size and the most a Put buffers: bodies up to it
// go in one PutObject. S3 wants parts of at least 5 MiB (but the last) and at most 10,000
// parts, so 8 MiB parts carry objects up to about 78 GiB.
const DefaultPartSize = 8 << 20

// minPartSize is S3's smallest part but the last.
const minPartSize = 5 << 20

// New returns the store of bucket, using client (build it with NewClient so a custom
// endpoint gets path-style addressing).
func New(client *s3.Client, bucket string) *Store {
	return &Store{client: client, bucket: bucket, partSize: DefaultPartSize}
}

// WithPartSize returns a copy of s that buffers and uploads parts of size bytes (at least
// S3's 5 MiB minimum), trading memory per Put for fewer requests.
func (s *Store) WithPartSize(size int) (*Store, error) {
	if size < minPartSize {
		return nil, fmt.Errorf("s3blob: part size %d is below S3's minimum %d", size, minPartSize)
	}
	c := *s
	c.partSize = size
	return &c, nil
}

// Bucket is the bucket's name, for building s3:// URIs and Step Functions item readers.
func (s *Store) Bucket() string { return s.bucket }

// The bucket keeps uploads' options in their metadata (batch.Tasks.PutUpload).
var _ batch.MetadataBlobStore = (*Store)(nil)

// Put implements batch.BlobStore. It reads at most one part before deciding: a body that
// ends within it is one PutObject; a longer one is a multipart upload. A read or upload
// error leaves the key as it was.
func (s *Store) Put(ctx context.Context, key string, body io.Reader) error {
	return s.PutWithMetadata(ctx, key, body, nil)
}

// PutWithMetadata is Put with user metadata on the object (x-amz-meta-*; US-ASCII values),
// which a reader gets back with Metadata.
func (s *Store) PutWithMetadata(ctx context.Context, key string, body io.Reader, metadata map[string]string) error {
	buf := make([]byte, s.partSize)
	n, err := io.ReadFull(body, buf)
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return s.putObject(ctx, key, buf[:n], metadata)
	case err != nil:
		return fmt.Errorf("s3blob: put %s: read body: %w", key, err)
	}
	return s.putMultipart(ctx, key, buf, body, metadata)
}

// Metadata reads the user metadata of an object's version, the latest when version is ""
// (HeadObject: no body is read).
func (s *Store) Metadata(ctx context.Context, key, version string) (map[string]string, error) {
	in := &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)}
	if version != "" {
		in.VersionId = aws.String(version)
	}
	out, err := s.client.HeadObject(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("s3blob: head %s: %w", key, err)
	}
	return out.Metadata, nil
}

// putObject uploads a body that fits in memory with one request.
func (s *Store) putObject(ctx context.Context, key string, body []byte, metadata map[string]string) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(key),
		Body:          bytesReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		Metadata:      metadata,
	})
	if err != nil {
		return fmt.Errorf("s3blob: put %s: %w", key, err)
	}
	return nil
}

// Get implements batch.BlobStore: the caller reads and closes the object's body stream. A
// missing key wraps batch.ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	var missing *types.NoSuchKey
	switch {
	case errors.As(err, &missing):
		return nil, fmt.Errorf("s3blob: get %s: %w", key, batch.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("s3blob: get %s: %w", key, err)
	}
	return out.Body, nil
}

// Exists reports whether key is there with a HeadObject, reading no body: a chunk's
// lookups file marks the chunk done. HEAD answers carry no error body, so S3 reports a
// missing bucket as a plain 404 too, which reads as false.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	_, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	var notFound *types.NotFound
	var missing *types.NoSuchKey
	switch {
	case errors.As(err, &notFound) || errors.As(err, &missing):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("s3blob: head %s: %w", key, err)
	}
	return true, nil
}

// List implements batch.BlobStore: the keys under prefix in lexical order (S3's order),
// through the ListObjectsV2 paginator. The prefix is plain text, not a folder: "a/b" also
// matches "a/bc".
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket),
		Prefix: aws.String(prefix),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("s3blob: list %s: %w", prefix, err)
		}
		for _, obj := range page.Contents {
			keys = append(keys, aws.ToString(obj.Key))
		}
	}
	return keys, nil
}
