package csvin

import (
	"errors"
	"fmt"
)

// Sentinel causes of a *FileError, for errors.Is.
var (
	ErrNotCSV       = errors.New("not a CSV file")
	ErrNoHeader     = errors.New("no recognizable address header")
	ErrFileTooLarge = errors.New("file too large")
)

// Sentinel causes of a *RowError, for errors.Is.
var (
	ErrLineTooLong = errors.New("row too long")
	ErrBrokenQuote = errors.New("unclosed quote")
	ErrUnreadable  = errors.New("unreadable character")
)

// FileError means the whole file is unusable (not CSV text, no header, larger than its
// limit, a failed read). Next returns it; bad rows are reported as Row.Reject instead.
type FileError struct {
	File   string
	Line   int // 0 when not tied to a line
	Reason string
	Err    error // one of the sentinels above, or the underlying read error
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s: line %d: %s", e.File, e.Line, e.Reason)
	}
	return e.File + ": " + e.Reason
}

// Unwrap exposes the cause for errors.Is.
func (e *FileError) Unwrap() error { return e.Err }

// RowError says why one row was rejected, in the words a person fixing the file needs:
// "properties.csv: line 12: field zip: invalid ZIP \"1234\"".
type RowError struct {
	File   string
	Line   int
	Field  string // the file's column name, or "" when the row as a whole is malformed
	Reason string
	Err    error // the cause, e.g. an *address.FieldError wrapping address.ErrPOBox
}

func (e *RowError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s: line %d: %s", e.File, e.Line, e.Reason)
	}
	return fmt.Sprintf("%s: line %d: field %s: %s", e.File, e.Line, e.Field, e.Reason)
}

// Unwrap exposes the cause, so errors.Is(rowErr, address.ErrPOBox) works.
func (e *RowError) Unwrap() error { return e.Err }
