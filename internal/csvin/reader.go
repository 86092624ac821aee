// Package csvin streams a CSV of US property addresses row by row: it finds the address
// columns by their header, normalizes every address (USPS Pub 28), marks duplicates within
// the file, and hands back bad rows with their line number, field and reason instead of
// failing. A bad row costs only itself: a row over the length limit, broken quoting or a
// quote that never closes is one rejected row, and reading goes on at the next line.
//
// encoding/csv parses the fields; this package only cuts the file into records first (see
// records.go), so that a broken record cannot take the rest of the file with it.
package csvin

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/leadflow/attom-batch/internal/address"
)

// Options bounds what a file may cost. Zero values take the defaults.
type Options struct {
	// MaxLineBytes is the longest row in bytes (a row may span lines when a quoted field
	// holds newlines). A longer row is rejected. Default 64 KiB.
	MaxLineBytes int
	// MaxFileBytes is the largest file in bytes; a larger one is refused. Default 1 GiB.
	MaxFileBytes int64
	// Rename, when set, gives the name a header column is read as when finding the
	// address columns (an import's --map "Situs=address"); the header itself is kept.
	Rename func(column string) string
}

// Default limits.
const (
	DefaultMaxLineBytes = 64 << 10
	DefaultMaxFileBytes = 1 << 30
)

func (o Options) withDefaults() Options {
	if o.MaxLineBytes <= 0 {
		o.MaxLineBytes = DefaultMaxLineBytes
	}
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	return o
}

// Row is one data row. Exactly one of these holds: Reject is set (the row is bad),
// DuplicateOf is set (same property as an earlier row), or the row is new.
type Row struct {
	Line        int      // 1-based physical line where the row starts
	Columns     []string // the file's header, shared by all rows; do not modify
	Values      []string // the row's fields in file order, extra columns included; owned by the row
	Address     address.Address
	Key         string    // dedupe key (address.Address.Key)
	DuplicateOf int       // line of the first row with the same Key, 0 if this is the first
	Reject      *RowError // why the row cannot be used, nil if it can
}

// Counts adds up every row of a file: Rows == Accepted + Duplicates + Rejected.
type Counts struct {
	Rows       int // data rows returned by Next
	Accepted   int // first rows of their property
	Duplicates int
	Rejected   int
	Blank      int // rows whose fields are all empty, skipped and not returned
}

// Reader reads one CSV file. It is not safe for concurrent use.
type Reader struct {
	file    string
	records records
	csv     *csv.Reader
	feed    feed // what csv reads: the current record, nothing more
	header  []string
	cols    columns
	seen    *Seen
	counts  Counts
	text    address.Arena // normalized address text of recent rows, in shared blocks
	err     error         // the *FileError that ended the file, returned again by later calls
	rename  func(string) string
}

// NewReader reads the header of r and returns a Reader positioned at the first data row.
// fileName is used in every error message. A file that is not CSV text is a *FileError
// wrapping ErrNotCSV; one without a recognizable header (an empty file too) wraps ErrNoHeader.
func NewReader(r io.Reader, fileName string, opts Options) (*Reader, error) {
	opts = opts.withDefaults()
	rd := &Reader{file: fileName, seen: NewSeen(), rename: opts.Rename}
	if err := rd.records.open(r, opts); err != nil {
		return nil, rd.fileError(err)
	}
	rd.csv = rd.newCSV()
	if err := rd.readHeader(); err != nil {
		return nil, err
	}
	return rd, nil
}

func (r *Reader) newCSV() *csv.Reader {
	c := csv.NewReader(&r.feed)
	c.FieldsPerRecord = -1
	c.ReuseRecord = true
	return c
}

func (r *Reader) readHeader() error {
	for {
		rec, line, bad, err := r.readRecord()
		switch {
		case err == io.EOF:
			return &FileError{File: r.file, Reason: "empty file: " + lookedFor, Err: ErrNoHeader}
		case err != nil:
			return err
		case bad != nil:
			return &FileError{File: r.file, Line: line, Reason: "header: " + bad.Reason, Err: ErrNoHeader}
		case isBlank(rec):
			continue
		}
		named := rec
		if r.rename != nil {
			named = make([]string, len(rec))
			for i, h := range rec {
				named[i] = r.rename(h)
			}
		}
		cols, err := detectColumns(named)
		if err != nil {
			return &FileError{File: r.file, Line: line, Reason: err.Error(), Err: ErrNoHeader}
		}
		r.header, r.cols = rec, cols
		return nil
	}
}

// AddressColumns reports, per header column, whether the address is read from it.
func (r *Reader) AddressColumns() []bool {
	out := make([]bool, len(r.header))
	for _, i := range []int{r.cols.street, r.cols.street2, r.cols.city, r.cols.state, r.cols.zip, r.cols.oneLine} {
		if i >= 0 && i < len(out) {
			out[i] = true
		}
	}
	return out
}

// Header returns the file's header row as written (control characters removed).
func (r *Reader) Header() []string { return r.header }

// Counts returns the tally of the rows returned so far; after Next has returned io.EOF it
// covers the whole file.
func (r *Reader) Counts() Counts { return r.counts }

// Encoding says how the file's text was read when it was not plain UTF-8: "UTF-16LE" or
// "UTF-16BE" (from a byte-order mark), or with a count of the lines that were not valid UTF-8
// and were read as Windows-1252. It is "" for UTF-8 (with or without a mark), and complete
// once Next has returned io.EOF.
func (r *Reader) Encoding() string { return r.records.encoding() }

// Close releases the duplicate set. Rows already returned stay valid.
func (r *Reader) Close() error {
	r.seen = NewSeen()
	return nil
}

// Next returns the next data row, io.EOF after the last one, or a *FileError when the file
// turns out to be unusable (then every later call returns the same error). A bad row is
// not an error: it comes back with Reject set.
func (r *Reader) Next() (Row, error) {
	var row Row
	err := r.NextInto(&row)
	return row, err
}

// NextInto is Next writing the row into *dst, which saves a copy of the Row per row of a
// large file. On an error *dst is left as the zero Row.
func (r *Reader) NextInto(dst *Row) error {
	*dst = Row{}
	for r.err == nil {
		rec, line, bad, err := r.readRecord()
		switch {
		case err != nil:
			r.err = err
		case bad != nil:
			r.reject(dst, line, rec, bad)
			return nil
		case isBlank(rec):
			r.counts.Blank++
		default:
			r.row(dst, line, rec)
			return nil
		}
	}
	return r.err
}

// readRecord reads the next record's fields (a copy the row may keep, control characters
// removed) and its first line. A record that cannot be read comes back as bad, with the
// fields it has, if any; err is io.EOF or a *FileError that ends the file.
func (r *Reader) readRecord() (fields []string, line int, bad *RowError, err error) {
	text, line, problem, err := r.records.next()
	if err != nil {
		return nil, line, nil, r.fileError(err)
	}
	if problem != nil {
		problem.File = r.file
		return lineAsFields(text), line, problem, nil
	}
	r.feed.rec = text
	rec, err := r.csv.Read()
	if err != nil {
		return r.parseFailed(text, line, err)
	}
	return cleanFields(rec), line, nil, nil
}

// parseFailed rejects a record encoding/csv could not parse. (Apart from readRecord, so that
// the target of errors.As, which escapes, costs nothing on the rows that parse.)
func (r *Reader) parseFailed(text []byte, line int, err error) ([]string, int, *RowError, error) {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return nil, line, nil, r.fileError(err)
	}
	// Start afresh: the failed reader may hold part of this record.
	r.feed.rec, r.csv = nil, r.newCSV()
	if len(r.records.lines) > 1 {
		// A quoted field ran on over several lines and broke: most likely its quote never
		// closed. Reject the line it opened on and read the others again as rows.
		reason := fmt.Sprintf("quote opened on this line is never closed properly (malformed CSV: %v on line %d)", pe.Err, line+pe.Line-pe.StartLine)
		return lineAsFields(r.records.retryAfterFirst()), line, &RowError{File: r.file, Line: line, Reason: reason, Err: ErrBrokenQuote}, nil
	}
	reason := fmt.Sprintf("malformed CSV: %v (line %d, column %d)", pe.Err, line, pe.Column)
	return lineAsFields(text), line, &RowError{File: r.file, Line: line, Reason: reason, Err: pe}, nil
}

// lineAsFields keeps a line that could not be parsed as the one field of its reject, so the
// rejects file shows it as written.
func lineAsFields(text []byte) []string {
	if text == nil {
		return nil
	}
	return cleanFields([]string{strings.TrimRight(string(text), "\r\n")})
}

// fileError names the file in an error that ends it.
func (r *Reader) fileError(err error) error {
	var fe *FileError
	if errors.As(err, &fe) {
		fe.File = r.file
		return fe
	}
	if err == io.EOF {
		return err
	}
	return &FileError{File: r.file, Reason: "read: " + err.Error(), Err: err}
}

// row normalizes the address of one record into *dst and checks it against the duplicate set.
func (r *Reader) row(dst *Row, line int, values []string) {
	in := r.input(values)
	if field := unreadableField(in); field != "" {
		r.reject(dst, line, values, r.fieldError(line, &address.FieldError{Field: field, Err: ErrUnreadable,
			Reason: "unreadable character (U+FFFD) where a letter was: the text was damaged before it reached this file; retype it"}))
		return
	}
	key, err := r.text.NormalizeInto(&dst.Address, in)
	if err != nil {
		r.reject(dst, line, values, r.fieldError(line, err))
		return
	}
	dst.Line, dst.Columns, dst.Values, dst.Key = line, r.header, values, key
	if first, dup := r.seen.Add(key, line); dup {
		dst.DuplicateOf = first
		r.counts.Duplicates++
	} else {
		r.counts.Accepted++
	}
	r.counts.Rows++
}

func (r *Reader) reject(dst *Row, line int, values []string, rowErr *RowError) {
	*dst = Row{Line: line, Columns: r.header, Values: values, Reject: rowErr}
	r.counts.Rows++
	r.counts.Rejected++
}

// input picks the address fields out of a record.
func (r *Reader) input(values []string) address.Input {
	get := func(i int) string {
		if i < 0 || i >= len(values) {
			return ""
		}
		return values[i]
	}
	return address.Input{
		Line1: get(r.cols.street), Line2: get(r.cols.street2), City: get(r.cols.city),
		State: get(r.cols.state), ZIP: get(r.cols.zip), OneLine: get(r.cols.oneLine),
	}
}

// unreadableField names the address part holding U+FFFD, the mark decoders leave where a
// character was lost, or "". Such text is never sent to ATTOM.
func unreadableField(in address.Input) string {
	for _, f := range []struct{ name, text string }{{"address", in.Line1}, {"address", in.Line2},
		{"city", in.City}, {"state", in.State}, {"zip", in.ZIP}, {"address", in.OneLine}} {
		if strings.ContainsRune(f.text, utf8.RuneError) {
			return f.name
		}
	}
	return ""
}

// fieldError turns a normalization error into a RowError naming the file's own column.
func (r *Reader) fieldError(line int, err error) *RowError {
	re := &RowError{File: r.file, Line: line, Reason: err.Error(), Err: err}
	var fe *address.FieldError
	if !errors.As(err, &fe) {
		return re
	}
	re.Reason = fe.Reason
	re.Field = fe.Field
	col := -1
	switch fe.Field {
	case "address":
		col = max(r.cols.street, r.cols.oneLine)
	case "city":
		col = r.cols.city
	case "state":
		col = r.cols.state
	case "zip":
		col = r.cols.zip
	}
	if col < 0 && r.cols.oneLine >= 0 {
		col = r.cols.oneLine
	}
	if col >= 0 && col < len(r.header) {
		re.Field = r.header[col]
	}
	return re
}

func isBlank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// cleanFields copies a record (encoding/csv reuses its slice) without NUL and the other
// control characters; tab, CR and LF stay, as a quoted field may hold them.
func cleanFields(rec []string) []string {
	if rec == nil {
		return nil
	}
	out := make([]string, len(rec))
	for i, f := range rec {
		out[i] = f
		for j := 0; j < len(f); j++ {
			// 0xc2 leads U+0080-U+00BF in UTF-8, the C1 controls among them.
			if c := f[j]; c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f || c == 0xc2 {
				out[i] = strings.Map(dropControl, f)
				break
			}
		}
	}
	return out
}

func dropControl(r rune) rune {
	if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
		return -1
	}
	return r
}

// feed hands encoding/csv one record at a time: csv reads up to the record's last newline
// and asks for nothing more, so the record's end is where this package put it.
type feed struct{ rec []byte }

func (f *feed) Read(p []byte) (int, error) {
	if len(f.rec) == 0 {
		return 0, io.EOF
	}
	n := copy(p, f.rec)
	f.rec = f.rec[n:]
	return n, nil
}
