package batch

import (
	"context"
	"io"
)

// blobWriter streams what is written to it into one blob through a pipe, so rejects,
// results and exports of any size never sit in memory. Close(nil) finishes the blob;
// Close(err) aborts it, and the store keeps no partial object.
type blobWriter struct {
	pw   *io.PipeWriter
	done chan error
}

func newBlobWriter(ctx context.Context, blobs BlobStore, key string) *blobWriter {
	pr, pw := io.Pipe()
	w := &blobWriter{pw: pw, done: make(chan error, 1)}
	go func() {
		err := blobs.Put(ctx, key, pr)
		pr.CloseWithError(err)
		w.done <- err
	}()
	return w
}

func (w *blobWriter) Write(p []byte) (int, error) { return w.pw.Write(p) }

// Close ends the blob with cause (nil for success) and returns the first error.
func (w *blobWriter) Close(cause error) error {
	w.pw.CloseWithError(cause)
	putErr := <-w.done
	if cause != nil {
		return cause
	}
	return putErr
}
