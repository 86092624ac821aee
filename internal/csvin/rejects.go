package csvin

import (
	"encoding/csv"
	"io"
	"strconv"

	"github.com/leadflow/attom-batch/internal/leads"
)

// RejectsWriter writes rejected rows to a CSV a person can fix and resubmit: the line, field
// and reason first (so they stay aligned even when rows have extra or missing fields), then
// the row's original values under the original header. People open it in a spreadsheet, so
// every cell is protected against formula injection as the leads export is (leads.SafeCell).
type RejectsWriter struct {
	w *csv.Writer
}

// NewRejectsWriter writes the header: line, field, reason, then the input's columns.
func NewRejectsWriter(w io.Writer, columns []string) (*RejectsWriter, error) {
	cw := csv.NewWriter(w)
	header := append([]string{"line", "field", "reason"}, columns...)
	if err := cw.Write(leads.SafeRow(header)); err != nil {
		return nil, err
	}
	return &RejectsWriter{w: cw}, nil
}

// Write appends one rejected row; a row without Reject is written with an empty reason.
func (rw *RejectsWriter) Write(row Row) error {
	field, reason := "", ""
	if row.Reject != nil {
		field, reason = row.Reject.Field, row.Reject.Reason
	}
	rec := make([]string, 0, 3+len(row.Values))
	rec = append(rec, strconv.Itoa(row.Line), field, reason)
	rec = append(rec, row.Values...)
	return rw.w.Write(leads.SafeRow(rec))
}

// Flush writes buffered rows and reports any write error.
func (rw *RejectsWriter) Flush() error {
	rw.w.Flush()
	return rw.w.Error()
}
