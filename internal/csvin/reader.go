// Package csvin streams a CSV of US property addresses row by row: it finds the address
// columns by their header, normalizes every address (USPS Pub 28), marks duplicates within
// the file, and hands back bad rows with their line number, field and reason instead of
// failing. Memory stays flat however long the file is.
package csvin

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/leadflow/attom-batch/internal/address"
)

// Options bounds what a file may cost. Zero values take the defaults.
type Options struct {
	// MaxLineBytes is the longest row in bytes (a row may span lines when a quoted field
	// holds newlines). Default 64 KiB.
	MaxLineBytes int
	// MaxFileBytes is the largest file in bytes. Default 1 GiB.
	MaxFileBytes int64
	// ExpectedRows, when known, sizes the duplicate set up front.
	ExpectedRows int
	// DuplicateSetBytes is the heap the duplicate set may take before its tables go to a
	// temporary file in TempDir ("" for os.TempDir), which keeps memory flat however long the
	// file is (see Seen). Default DefaultSeenBudget; negative: no limit, never a file.
	DuplicateSetBytes int
	TempDir           string
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
	if o.DuplicateSetBytes == 0 {
		o.DuplicateSetBytes = DefaultSeenBudget
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
	Blank      int // all-empty rows, skipped and not returned
}

// Reader reads one CSV file. It is not safe for concurrent use.
type Reader struct {
	file    string
	opts    Options
	counter *countingReader
	scan    *scanner
	header  []string
	cols    columns
	seen    *Seen
	counts  Counts
	records int           // records read so far, blank ones included (see reserveSeen)
	ahead   []Row         // rows read ahead of the caller; see readAhead
	next    int           // index in ahead of the row Next returns next
	lastEnd int           // physical line where the previous row ended
	text    address.Arena // normalized address text of recent rows, in shared blocks
	err     error         // what ends the file (io.EOF or a *FileError) once ahead is drained
	// size is the file's length in bytes when the source tells it (0 if not); dataStart is
	// the file offset of the first data row. See reserveSeen.
	size, dataStart int64
}

// bufferSize is the read buffer.
const bufferSize = 64 << 10

// NewReader reads the header of r and returns a Reader positioned at the first data row.
// fileName is used in every error message. A file without a recognizable header is a
// *FileError wrapping ErrNoHeader; an empty file too.
func NewReader(r io.Reader, fileName string, opts Options) (*Reader, error) {
	opts = opts.withDefaults()
	counter := &countingReader{r: r, maxFile: opts.MaxFileBytes, maxRow: int64(opts.MaxLineBytes) + bufferSize}
	br := bufio.NewReaderSize(counter, bufferSize)
	if bom, _ := br.Peek(3); string(bom) == "\ufeff" {
		_, _ = br.Discard(3)
		counter.base = 3
	}
	rd := &Reader{file: fileName, opts: opts, counter: counter, scan: newScanner(br),
		seen: NewSeen(opts.ExpectedRows), ahead: make([]Row, 0, aheadRows)}
	rd.seen.SetMemoryBudget(opts.DuplicateSetBytes, opts.TempDir)
	if err := rd.readHeader(); err != nil {
		return nil, err
	}
	if opts.ExpectedRows <= 0 {
		rd.size = sourceSize(r)
		rd.dataStart = counter.base + rd.scan.offset
	}
	return rd, nil
}

// sourceSize returns the length of a source that knows it (a *bytes.Reader, *strings.Reader,
// *io.SectionReader or a regular *os.File), or 0.
func sourceSize(r io.Reader) int64 {
	switch src := r.(type) {
	case interface{ Size() int64 }:
		return max(src.Size(), 0)
	case interface{ Stat() (fs.FileInfo, error) }:
		if fi, err := src.Stat(); err == nil && fi.Mode().IsRegular() {
			return fi.Size()
		}
	}
	return 0
}

// sampleRows is how many rows the reader reads before it estimates the row count of a file
// of known size (see reserveSeen).
const sampleRows = 512

// reserveSeen sizes the duplicate set for the whole file once sampleRows rows have been
// read: the rows still to come are estimated from the bytes left and the average size of the
// rows so far, so the set does not grow (and re-insert its keys) a dozen times on the way.
// The estimate is only a size: a wrong one costs memory or growth, never a wrong answer.
func (r *Reader) reserveSeen() {
	read := r.counter.base + r.scan.offset - r.dataStart
	if read <= 0 || r.size <= r.dataStart+read {
		return
	}
	perRow := float64(read) / float64(r.records)
	rest := float64(r.size-r.dataStart-read) / perRow
	r.seen.Reserve(r.records + int(min(rest, float64(maxReserveRows))))
}

// maxReserveRows caps the estimate, so that a file of very short rows cannot make the set
// reserve more than a file of plausible rows within MaxFileBytes would need.
const maxReserveRows = 20_000_000

func (r *Reader) readHeader() error {
	for {
		rec, line, err := r.readRecord()
		if err == io.EOF {
			return &FileError{File: r.file, Reason: "empty file: " + lookedFor, Err: ErrNoHeader}
		}
		var rowErr *RowError
		if errors.As(err, &rowErr) {
			return &FileError{File: r.file, Line: rowErr.Line, Reason: "header: " + rowErr.Reason, Err: ErrNoHeader}
		}
		if err != nil {
			return err
		}
		if isBlank(rec) {
			continue
		}
		cols, err := detectColumns(rec)
		if err != nil {
			return &FileError{File: r.file, Line: line, Reason: err.Error(), Err: ErrNoHeader}
		}
		r.header = append([]string(nil), rec...)
		r.header[0] = strings.TrimPrefix(r.header[0], "\ufeff")
		r.cols = cols
		return nil
	}
}

// Close releases the duplicate set, and with it the temporary file it may have made; the
// Reader is done. Rows already returned stay valid.
func (r *Reader) Close() error { return r.seen.Close() }

// Header returns the file's header row as written.
func (r *Reader) Header() []string { return r.header }

// Counts returns the tally of the rows returned so far (Blank may count rows read ahead);
// after Next has returned io.EOF it covers the whole file.
func (r *Reader) Counts() Counts { return r.counts }

// Next returns the next data row, io.EOF after the last one, or a *FileError when the file
// turns out to be unusable (then every later call returns the same error). A bad row is
// not an error: it comes back with Reject set.
func (r *Reader) Next() (Row, error) {
	var row Row
	err := r.NextInto(&row)
	return row, err
}

// NextInto is Next writing the row into *dst, for a caller that reads a large file: a Row is
// about 300 bytes, and returning it by value copies it once more per row. On an error *dst
// is left as the zero Row.
func (r *Reader) NextInto(dst *Row) error {
	if r.next == len(r.ahead) && !r.readAhead() {
		*dst = Row{}
		return r.err
	}
	*dst = r.ahead[r.next]
	r.next++
	r.tally(dst)
	return nil
}

// aheadRows is how many rows the reader reads, normalizes and checks for duplicates at once.
const aheadRows = 32

// readAhead fills ahead with the next rows, up to aheadRows, and marks their duplicates. It
// returns false when no row is left; r.err then says why. Working a batch at a time is for
// speed: see markDuplicates.
func (r *Reader) readAhead() bool {
	r.ahead, r.next = r.ahead[:0], 0
	for r.err == nil && len(r.ahead) < aheadRows {
		r.ahead = r.ahead[:len(r.ahead)+1]
		if err := r.readRow(&r.ahead[len(r.ahead)-1]); err != nil {
			r.ahead = r.ahead[:len(r.ahead)-1]
			r.err = err
		}
	}
	r.markDuplicates(r.ahead)
	return len(r.ahead) > 0
}

// readRow reads the next non-blank record into *dst and normalizes its address; a bad row
// comes back with Reject set. The error is io.EOF or a *FileError.
func (r *Reader) readRow(dst *Row) error {
	for {
		rec, line, err := r.readRecord()
		if err != nil {
			return r.readFailed(dst, line, rec, err)
		}
		r.records++
		if isBlank(rec) {
			r.counts.Blank++
			continue
		}
		if r.size > 0 && r.records == sampleRows {
			r.reserveSeen()
		}
		r.row(dst, line, rec)
		return nil
	}
}

// markDuplicates looks the keys of a batch of rows up in the duplicate set, in file order.
// On a large file the set is far larger than the CPU caches and each lookup misses them; it
// first touches every key's slot, so that the misses of the batch overlap instead of costing
// one full memory wait per row.
func (r *Reader) markDuplicates(rows []Row) {
	var hashes [aheadRows]uint64
	for i := range rows {
		if rows[i].Reject == nil {
			hashes[i] = r.seen.hash(rows[i].Key)
		}
	}
	r.seen.touch(hashes[:len(rows)])
	for i := range rows {
		if rows[i].Reject == nil {
			if first, dup := r.seen.add(hashes[i], rows[i].Line); dup {
				rows[i].DuplicateOf = first
			}
		}
	}
}

// tally counts a row handed to the caller.
func (r *Reader) tally(row *Row) {
	r.counts.Rows++
	switch {
	case row.Reject != nil:
		r.counts.Rejected++
	case row.DuplicateOf > 0:
		r.counts.Duplicates++
	default:
		r.counts.Accepted++
	}
}

// readFailed turns a failed read into a rejected row in *dst (bad CSV syntax in this row) or
// the error that ends the file. It is kept out of readRow so that the error targets of
// errors.As, which escape to the heap, cost nothing on rows that read cleanly.
func (r *Reader) readFailed(dst *Row, line int, rec []string, err error) error {
	var rowErr *RowError
	if errors.As(err, &rowErr) {
		r.reject(dst, line, rec, rowErr)
		return nil
	}
	*dst = Row{}
	return err
}

// readRecord reads one CSV record and its starting line. It turns CSV syntax errors that the
// parser recovers from into a *RowError and the rest into a *FileError.
func (r *Reader) readRecord() ([]string, int, error) {
	r.counter.rowStart = r.counter.base + r.scan.offset
	rec, err := r.scan.read()
	if err != nil {
		return r.readError(rec, err)
	}
	if size := r.counter.base + r.scan.offset - r.counter.rowStart; size > int64(r.opts.MaxLineBytes) {
		return nil, 0, r.tooLong(r.scan.startLine)
	}
	r.lastEnd = r.scan.lines
	return rec, r.scan.startLine, nil
}

// readError classifies an error of the CSV parser: the end of the file, a limit or read
// failure (*FileError), or a syntax error in one row (*RowError).
func (r *Reader) readError(rec []string, err error) ([]string, int, error) {
	if err == io.EOF {
		return nil, 0, io.EOF
	}
	var fileErr *FileError
	if errors.As(err, &fileErr) {
		fileErr.File = r.file
		if errors.Is(fileErr, ErrLineTooLong) {
			fileErr.Line = r.lastEnd + 1
		}
		return nil, 0, fileErr
	}
	var parseErr *csv.ParseError
	if errors.As(err, &parseErr) {
		return r.syntaxError(rec, parseErr)
	}
	return nil, 0, &FileError{File: r.file, Line: r.lastEnd + 1, Reason: "read: " + err.Error(), Err: err}
}

func (r *Reader) tooLong(line int) *FileError {
	return &FileError{File: r.file, Line: line, Err: ErrLineTooLong,
		Reason: fmt.Sprintf("row longer than %d bytes (MaxLineBytes)", r.opts.MaxLineBytes)}
}

// syntaxError rejects a row with broken quoting. When an unclosed quote swallowed the rest
// of the file there is nothing to resynchronize on, and the file is unusable.
func (r *Reader) syntaxError(rec []string, pe *csv.ParseError) ([]string, int, error) {
	if pe.Line > pe.StartLine && r.counter.eof && r.counter.base+r.scan.offset >= r.counter.n {
		return nil, 0, &FileError{File: r.file, Line: pe.StartLine, Err: ErrBrokenQuote,
			Reason: "quote opened on this line is never closed (it runs to the end of the file)"}
	}
	r.lastEnd = pe.Line
	reason := fmt.Sprintf("malformed CSV: %v (line %d, column %d)", pe.Err, pe.Line, pe.Column)
	return rec, pe.StartLine, &RowError{File: r.file, Line: pe.StartLine, Reason: reason, Err: pe}
}

// row normalizes the address of one record into *dst.
// The fields are set one by one: the address, most of a Row, is written whole by
// NormalizeInto, and zeroing it first would cost as much again.
func (r *Reader) row(dst *Row, line int, values []string) {
	key, err := r.text.NormalizeInto(&dst.Address, r.input(values))
	if err != nil {
		r.reject(dst, line, values, r.fieldError(line, err))
		return
	}
	dst.Line, dst.Columns, dst.Values, dst.Key = line, r.header, values, key
	dst.DuplicateOf, dst.Reject = 0, nil
}

func (r *Reader) reject(dst *Row, line int, values []string, rowErr *RowError) {
	*dst = Row{Line: line, Columns: r.header, Values: values, Reject: rowErr}
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

// countingReader enforces the file and row limits while bytes stream in, so that neither a
// huge file nor a runaway row (an unclosed quote) is ever held in memory.
type countingReader struct {
	r        io.Reader
	n        int64 // bytes read so far
	base     int64 // bytes skipped before the CSV reader's offset 0 (a BOM)
	rowStart int64 // file offset where the row being parsed starts
	maxFile  int64
	maxRow   int64 // MaxLineBytes plus the read buffer
	eof      bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n > c.maxFile {
		return 0, &FileError{Err: ErrFileTooLarge,
			Reason: fmt.Sprintf("file larger than %d bytes (MaxFileBytes)", c.maxFile)}
	}
	if c.n-c.rowStart > c.maxRow {
		return 0, &FileError{Err: ErrLineTooLong,
			Reason: fmt.Sprintf("row longer than %d bytes (MaxLineBytes; an unclosed quote makes the rest of the file one row)", c.maxRow-bufferSize)}
	}
	if limit := c.maxFile - c.n + 1; int64(len(p)) > limit {
		p = p[:limit]
	}
	k, err := c.r.Read(p)
	c.n += int64(k)
	if err == io.EOF {
		c.eof = true
	}
	if c.n > c.maxFile {
		return 0, &FileError{Err: ErrFileTooLarge,
			Reason: fmt.Sprintf("file larger than %d bytes (MaxFileBytes)", c.maxFile)}
	}
	return k, err
}
