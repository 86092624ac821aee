package s3blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// maxParts is S3's limit of parts in one multipart upload.
const maxParts = 10000

// putMultipart uploads first (a full part already read) and the rest of body part by part,
// reusing one buffer, and completes the upload; on any error it aborts the upload so no
// object appears and S3 keeps no orphaned parts.
func (s *Store) putMultipart(ctx context.Context, key string, first []byte, body io.Reader, metadata map[string]string) (err error) {
	created, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Metadata: metadata,
		Bucket:   aws.String(s.bucket),
		Key:      aws.String(key),
	})
	if err != nil {
		return fmt.Errorf("s3blob: put %s: start multipart upload: %w", key, err)
	}
	upload := created.UploadId
	defer func() {
		if err != nil {
			err = errors.Join(err, s.abort(ctx, key, upload))
		}
	}()
	parts, err := s.uploadParts(ctx, key, upload, first, body)
	if err != nil {
		return err
	}
	_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(s.bucket),
		Key:             aws.String(key),
		UploadId:        upload,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return fmt.Errorf("s3blob: put %s: complete multipart upload: %w", key, err)
	}
	return nil
}

// uploadParts sends buf as part 1, then refills buf from body for each next part until
// body ends.
func (s *Store) uploadParts(ctx context.Context, key string, upload *string, buf []byte, body io.Reader) ([]types.CompletedPart, error) {
	var parts []types.CompletedPart
	for n := len(buf); n > 0; {
		number := int32(len(parts) + 1)
		if number > maxParts {
			return nil, fmt.Errorf("s3blob: put %s: body needs more than %d parts of %d bytes", key, maxParts, len(buf))
		}
		out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket:        aws.String(s.bucket),
			Key:           aws.String(key),
			UploadId:      upload,
			PartNumber:    aws.Int32(number),
			Body:          bytesReader(buf[:n]),
			ContentLength: aws.Int64(int64(n)),
		})
		if err != nil {
			return nil, fmt.Errorf("s3blob: put %s: upload part %d: %w", key, number, err)
		}
		parts = append(parts, types.CompletedPart{
			PartNumber: aws.Int32(number), ETag: out.ETag,
			ChecksumCRC32: out.ChecksumCRC32, ChecksumCRC32C: out.ChecksumCRC32C,
			ChecksumCRC64NVME: out.ChecksumCRC64NVME, ChecksumSHA1: out.ChecksumSHA1,
			ChecksumSHA256: out.ChecksumSHA256,
		})
		var err2 error
		n, err2 = io.ReadFull(body, buf)
		if err2 != nil && !errors.Is(err2, io.EOF) && !errors.Is(err2, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("s3blob: put %s: read body after part %d: %w", key, number, err2)
		}
	}
	return parts, nil
}

// abort cancels an upload; it runs even when ctx is done, since the upload must not linger.
func (s *Store) abort(ctx context.Context, key string, upload *string) error {
	_, err := s.client.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{
		Bucket:   aws.String(s.bucket),
		Key:      aws.String(key),
		UploadId: upload,
	})
	if err != nil {
		return fmt.Errorf("s3blob: put %s: abort multipart upload: %w", key, err)
	}
	return nil
}

// bytesReader is a seekable body, so the SDK can sign, checksum and retry it.
func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
