package csvin

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"io"
	"strings"
	"unsafe"
)

// scanner reads CSV records by the rules of encoding/csv as this package used it (comma
// separator, no comments, any number of fields, strict quotes): the same records, the same
// *csv.ParseError values, line numbers and byte offsets, which FuzzScannerMatchesEncodingCSV
// checks on arbitrary input. It exists for speed, as ingest is measured against a plain
// encoding/csv read: a line without a quote, or whose quoted fields hold no quote, becomes
// one string cut at its commas, the text of records and their field slices are cut from shared
// blocks instead of allocated a row at a time, and no per-field positions are kept (a row
// needs only its first and last line).
//
// Unlike encoding/csv it returns a read failure other than io.EOF at once, without the
// fields read before it: for this package such a failure ends the file anyway.
type scanner struct {
	br        *bufio.Reader
	lines     int      // physical lines read so far, the last one included
	offset    int64    // bytes read so far
	startLine int      // line where the last record returned starts
	long      []byte   // a line longer than the read buffer, assembled
	text      []byte   // block the fields of records point into; see view
	fields    []string // block the field slices of records are cut from; see cutFields
	width     int      // fields in the last record, to size the next fields block
	ends      []int    // ends of the fields parse has read, in text
}

// textBlock is the size of one block of record text: about 60 rows of a typical file.
const textBlock = 4 << 10

func newScanner(br *bufio.Reader) *scanner { return &scanner{br: br} }

// read returns the next record, io.EOF after the last one, or a *csv.ParseError with the
// fields before the broken one. The record is the caller's: later reads never change it.
func (s *scanner) read() ([]string, error) {
	line, err := s.readLine()
	for err == nil && len(line) == lengthNL(line) { // empty lines are skipped
		line, err = s.readLine()
	}
	if err != nil {
		return nil, err
	}
	s.startLine = s.lines
	content := line[:len(line)-lengthNL(line)]
	q := bytes.IndexByte(content, '"')
	if q < 0 {
		return s.splitPlain(content), nil
	}
	if rec, ok := s.splitQuoted(content, q); ok {
		return rec, nil
	}
	return s.parse(line)
}

// readLine reads one physical line with its newline ("\r\n" becomes "\n"; a last line may
// have none). The bytes are valid until the next read.
func (s *scanner) readLine() ([]byte, error) {
	line, err := s.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		s.long = append(s.long[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = s.br.ReadSlice('\n')
			s.long = append(s.long, line...)
		}
		line = s.long
	}
	n := len(line)
	if n > 0 && err == io.EOF {
		err = nil
		if line[n-1] == '\r' { // encoding/csv drops a carriage return ending the file
			line = line[:n-1]
		}
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	s.lines++
	s.offset += int64(n)
	if m := len(line); m >= 2 && line[m-2] == '\r' && line[m-1] == '\n' {
		line[m-2] = '\n'
		line = line[:m-1]
	}
	return line, err
}

// splitPlain cuts a line without quotes at its commas.
func (s *scanner) splitPlain(line []byte) []string {
	s.reserve(len(line))
	at := len(s.text)
	s.text = append(s.text, line...)
	rest := s.view(at)
	fields := s.freeFields()
	for {
		i := strings.IndexByte(rest, ',')
		if i < 0 {
			break
		}
		fields = append(fields, rest[:i])
		rest = rest[i+1:]
	}
	return s.cutFields(append(fields, rest))
}

// splitQuoted reads a one-line record whose quoted fields hold no quote and end at a comma
// or the end of the line, the common shape of a line with quotes ("Smith, Jane"): its fields
// are substrings of one copy of the line. q is the first quote in line. It reports false for
// any other line, which parse then reads, and leaves the text block as it was.
func (s *scanner) splitQuoted(line []byte, q int) ([]string, bool) {
	s.reserve(len(line))
	start := len(s.text)
	s.text = append(s.text, line...)
	text := s.view(start)
	fields := s.freeFields()
	for at := 0; ; {
		if at < len(line) && line[at] == '"' {
			end := bytes.IndexByte(line[at+1:], '"') + at + 1 // the closing quote
			if end == at || end+1 < len(line) && line[end+1] != ',' {
				s.text = s.text[:start] // nothing was handed out
				return nil, false
			}
			fields = append(fields, text[at+1:end])
			if end+1 == len(line) {
				return s.cutFields(fields), true
			}
			at = end + 2
			if q = bytes.IndexByte(line[at:], '"'); q >= 0 {
				q += at
			}
			continue
		}
		end := len(line)
		if i := bytes.IndexByte(line[at:], ','); i >= 0 {
			end = at + i
		}
		if q >= 0 && q < end { // a quote inside an unquoted field
			s.text = s.text[:start]
			return nil, false
		}
		fields = append(fields, text[at:end])
		if end == len(line) {
			return s.cutFields(fields), true
		}
		at = end + 1
	}
}

// parse reads a record holding at least one quote, field by field, reading more lines while
// a quoted field goes on. On a syntax error it returns the fields completed before it; the
// rest of the line is dropped and the next read starts on the next line.
func (s *scanner) parse(line []byte) ([]string, error) {
	s.reserve(len(line))
	at := len(s.text)
	s.ends = s.ends[:0]
	col := 1                        // column of line[0] on its physical line, in bytes from 1
	q := bytes.IndexByte(line, '"') // the next quote in line, -1 if none
	for {
		if len(line) == 0 || line[0] != '"' {
			i := bytes.IndexByte(line, ',')
			end := i
			if i < 0 {
				end = len(line) - lengthNL(line)
			}
			if q >= 0 && q < end {
				return s.record(at), s.syntaxError(s.lines, col+q, csv.ErrBareQuote)
			}
			s.endField(line[:end])
			if i < 0 {
				return s.record(at), nil
			}
			line, col, q = line[i+1:], col+i+1, q-(i+1)
			continue
		}
		var err error
		var last bool
		line, col, last, err = s.quoted(line[1:], col+1)
		if err != nil || last {
			return s.record(at), err
		}
		q = bytes.IndexByte(line, '"')
	}
}

// quoted reads a quoted field starting after its opening quote, through as many lines as it
// spans, and returns what follows its closing quote and comma. last tells that the record
// ends with this field.
func (s *scanner) quoted(line []byte, col int) (rest []byte, restCol int, last bool, err error) {
	fieldLine := s.lines
	for {
		i := bytes.IndexByte(line, '"')
		if i < 0 {
			if len(line) == 0 { // the file ends inside the quotes
				return nil, 0, false, s.syntaxError(fieldLine, col, csv.ErrQuote)
			}
			s.text = append(s.text, line...)
			col += len(line)
			if line, err = s.readLine(); err != nil && err != io.EOF {
				return nil, 0, false, err
			}
			if len(line) > 0 {
				fieldLine++
				col = 1
			}
			continue
		}
		s.text = append(s.text, line[:i]...)
		line, col = line[i+1:], col+i+1
		switch {
		case len(line) > 0 && line[0] == '"': // "" is one quote
			s.text = append(s.text, '"')
			line, col = line[1:], col+1
		case len(line) > 0 && line[0] == ',':
			s.ends = append(s.ends, len(s.text))
			return line[1:], col + 1, false, nil
		case len(line) == lengthNL(line):
			s.ends = append(s.ends, len(s.text))
			return nil, 0, true, nil
		default:
			return nil, 0, false, s.syntaxError(s.lines, col-1, csv.ErrQuote)
		}
	}
}

func (s *scanner) endField(field []byte) {
	s.text = append(s.text, field...)
	s.ends = append(s.ends, len(s.text))
}

// record turns the fields completed since offset at of the text block into strings.
func (s *scanner) record(at int) []string {
	text := s.view(at)
	fields := s.freeFields()
	prev := at
	for _, end := range s.ends {
		fields = append(fields, text[prev-at:end-at])
		prev = end
	}
	return s.cutFields(fields)
}

// fieldsBlock is how many records' field slices share one allocation.
const fieldsBlock = 64

// freeFields returns the free tail of the fields block, empty, for a record to append its
// fields to; a new block when the tail is short of the last record's width.
func (s *scanner) freeFields() []string {
	if cap(s.fields)-len(s.fields) < max(s.width, 1) {
		s.fields = make([]string, 0, fieldsBlock*max(s.width, 8))
	}
	return s.fields[len(s.fields):]
}

// cutFields hands out the fields a record appended to freeFields' tail, closing them to
// further appends. A record wider than the tail went to a new array of its own on append.
func (s *scanner) cutFields(fields []string) []string {
	n := len(fields)
	s.width = n
	if cap(fields) == cap(s.fields)-len(s.fields) { // still in the block
		s.fields = s.fields[:len(s.fields)+n]
	}
	return fields[:n:n]
}

func (s *scanner) syntaxError(line, col int, err error) error {
	return &csv.ParseError{StartLine: s.startLine, Line: line, Column: col, Err: err}
}

// reserve starts a new text block when the current one cannot take n more bytes. A record
// that spans lines may still outgrow it; append then moves the block, which leaves the
// strings already handed out pointing into the old one, unchanged.
func (s *scanner) reserve(n int) {
	if cap(s.text)-len(s.text) < n {
		s.text = make([]byte, 0, max(textBlock, n))
	}
}

// view returns the block's bytes from at on as a string without copying. Bytes of the block
// are never written again once appended, so the string cannot change.
func (s *scanner) view(at int) string {
	b := s.text[at:]
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// lengthNL is 1 if b ends with a newline, else 0.
func lengthNL(b []byte) int {
	if len(b) > 0 && b[len(b)-1] == '\n' {
		return 1
	}
	return 0
}
