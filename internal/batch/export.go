package batch

import (
	"context"
	"errors"

	"github.com/leadflow/attom-batch/internal/csvin"
)

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
