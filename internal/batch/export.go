package batch

import (
	"context"
	"errors"
	"io"

	"github.com/leadflow/attom-batch/internal/csvin"
	"github.com/leadflow/attom-batch/internal/leads"
)

// leadExport streams leads into the export CSV blob through a pipe.
type leadExport struct {
	pw   *io.PipeWriter
	w    *leads.CSVWriter
	done chan error
}

func newLeadExport(ctx context.Context, blobs BlobStore, key string, columns []string) *leadExport {
	pr, pw := io.Pipe()
	e := &leadExport{pw: pw, done: make(chan error, 1)}
	go func() {
		err := blobs.Put(ctx, key, pr)
		pr.CloseWithError(err)
		e.done <- err
	}()
	e.w = leads.NewCSVWriter(pw, columns)
	return e
}

func (e *leadExport) write(l leads.Lead) error { return e.w.Write(l) }

func (e *leadExport) close() error {
	err := e.w.Flush()
	e.pw.CloseWithError(err)
	if putErr := <-e.done; err == nil {
		err = putErr
	}
	return err
}

func (e *leadExport) abort(err error) {
	e.pw.CloseWithError(err)
	<-e.done
}

// inputColumns reads the uploaded file's header, so the export keeps the input's columns in
// their original order.
func (t *Tasks) inputColumns(ctx context.Context, job Job) ([]string, error) {
	body, err := t.Blobs.Get(ctx, job.FilePath)
	if errors.Is(err, ErrNotFound) {
		return nil, nil // the upload was removed: export the lead columns only
	}
	if err != nil {
		return nil, &StoreUnavailable{Op: "read " + job.FilePath, Err: err}
	}
	defer body.Close()
	r, err := csvin.NewReader(body, job.FileName, csvin.Options{})
	if err != nil {
		return nil, invalidFile(job.FileName, err)
	}
	return r.Header(), nil
}
