package csvin

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// records cuts a file into the text of its records before encoding/csv parses them, so
// that one broken record costs one row: a record is one physical line, or several while a
// quoted field is open. A line longer than the limit is skipped, and a quote that does not
// close within the limit (or before the end of the file) is reported on the line that
// opened it, after which reading resumes on the next line.
//
// It also decodes the text: a UTF-8 byte-order mark is dropped, a UTF-16 one makes the file
// UTF-16, and a line that is not valid UTF-8 is read as Windows-1252.
type records struct {
	br      *bufio.Reader
	max     int
	utf16   string // "UTF-16LE" or "UTF-16BE" when a byte-order mark said so
	recoded int    // lines read as Windows-1252
	lineNo  int    // number of the last line taken
	buf     []byte // the physical line being read
	rec     []byte // the record being assembled from several lines
	lines   []line // the lines of the record last returned, when there were several
	pending []line // lines to read again (see retryAfterFirst)
}

// line is one physical line with its newline; text is nil for a line over the limit.
type line struct {
	text    []byte
	tooLong bool
}

const bufferSize = 64 << 10

// open starts reading r: the size limit, the byte-order mark, and a look at the first bytes
// for a file that is not CSV text at all.
func (rs *records) open(r io.Reader, opts Options) error {
	rs.max = opts.MaxLineBytes
	rs.br = bufio.NewReaderSize(&capped{r: r, max: opts.MaxFileBytes}, bufferSize)
	head, _ := rs.br.Peek(1024) // a read error shows again on the next read
	var decoder transform.Transformer
	switch {
	case bytes.HasPrefix(head, []byte("\xef\xbb\xbf")):
		_, _ = rs.br.Discard(3)
	case bytes.HasPrefix(head, []byte("\xff\xfe")):
		rs.utf16, decoder = "UTF-16LE", unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
	case bytes.HasPrefix(head, []byte("\xfe\xff")):
		rs.utf16, decoder = "UTF-16BE", unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder()
	default:
		if what := notCSV(head); what != "" {
			return &FileError{Err: ErrNotCSV, Reason: "not a CSV file: it looks like " + what}
		}
	}
	if decoder != nil {
		rs.br = bufio.NewReaderSize(transform.NewReader(rs.br, decoder), bufferSize)
	}
	return nil
}

// encoding is Reader.Encoding.
func (rs *records) encoding() string {
	if rs.recoded == 0 {
		return rs.utf16
	}
	if rs.recoded == 1 {
		return "Windows-1252 (1 line was not valid UTF-8)"
	}
	return fmt.Sprintf("Windows-1252 (%d lines were not valid UTF-8)", rs.recoded)
}

// next returns the text of the next non-empty record, ending in a newline, and its first
// line. problem is set when the record is a line over the limit (text nil) or a quote that
// never closes (text is the line it opened on); err is io.EOF at the end or what ended the
// file.
func (rs *records) next() (text []byte, first int, problem *RowError, err error) {
	rs.lines = rs.lines[:0]
	l, err := rs.nextLine()
	for err == nil && !l.tooLong && isEmptyLine(l.text) {
		l, err = rs.nextLine()
	}
	first = rs.lineNo
	switch {
	case err != nil:
		return nil, first, nil, err
	case l.tooLong:
		return nil, first, &RowError{Line: first, Err: ErrLineTooLong,
			Reason: fmt.Sprintf("row longer than %d bytes (MaxLineBytes)", rs.max)}, nil
	case !quoteOpen(l.text, false):
		return withNewline(l.text), first, nil, nil
	}
	// A quoted field runs on: gather lines, each a copy, until it closes.
	rs.lines = append(rs.lines, line{text: bytes.Clone(l.text)})
	rs.rec = append(rs.rec[:0], l.text...)
	for open := true; open; {
		l, err := rs.nextLine()
		if err != nil && err != io.EOF {
			return nil, first, nil, err
		}
		if err == io.EOF || l.tooLong || len(rs.rec)+len(l.text) > rs.max {
			reason := "quote opened on this line is never closed"
			if err == nil {
				rs.lines = append(rs.lines, line{text: bytes.Clone(l.text), tooLong: l.tooLong})
				reason = fmt.Sprintf("quote opened on this line is not closed within %d bytes (MaxLineBytes)", rs.max)
			}
			return rs.retryAfterFirst(), first, &RowError{Line: first, Reason: reason, Err: ErrBrokenQuote}, nil
		}
		rs.lines = append(rs.lines, line{text: bytes.Clone(l.text)})
		rs.rec = append(rs.rec, l.text...)
		open = quoteOpen(l.text, true)
	}
	return withNewline(rs.rec), first, nil, nil
}

// retryAfterFirst puts back every line of the last record but its first, to be read again,
// and returns the first.
func (rs *records) retryAfterFirst() []byte {
	first := rs.lines[0].text
	rs.lineNo -= len(rs.lines) - 1
	rs.pending = append(append([]line(nil), rs.lines[1:]...), rs.pending...)
	rs.lines = rs.lines[:0]
	return first
}

// nextLine takes the next physical line: one put back, or one read from the file.
func (rs *records) nextLine() (line, error) {
	if len(rs.pending) > 0 {
		l := rs.pending[0]
		rs.pending = rs.pending[1:]
		rs.lineNo++
		return l, nil
	}
	l, err := rs.readLine()
	if err == nil {
		rs.lineNo++
	}
	return l, err
}

// readLine reads one line, newline included (the last line may lack it). Past max bytes it
// keeps nothing and reads on to the line's end. The text is valid only until the next call.
func (rs *records) readLine() (line, error) {
	rs.buf = rs.buf[:0]
	tooLong := false
	for {
		frag, err := rs.br.ReadSlice('\n')
		if !tooLong && len(rs.buf)+len(frag) <= rs.max {
			rs.buf = append(rs.buf, frag...)
		} else {
			tooLong = true
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && (len(rs.buf) > 0 || tooLong):
		case err != nil:
			return line{}, err
		}
		if tooLong {
			return line{tooLong: true}, nil
		}
		if !utf8.Valid(rs.buf) {
			rs.recoded++
			rs.buf, _ = charmap.Windows1252.NewDecoder().Bytes(rs.buf)
		}
		return line{text: rs.buf}, nil
	}
}

// quoteOpen reports whether a quoted field is still open at the end of text, given whether
// one was open at its start, by encoding/csv's rules: a quote opens a field only at the
// field's start, "" inside it is a quote, and another quote closes it.
func quoteOpen(text []byte, open bool) bool {
	if !open && bytes.IndexByte(text, '"') < 0 {
		return false
	}
	fieldStart := !open
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case open && c == '"' && i+1 < len(text) && text[i+1] == '"':
			i++
		case open && c == '"':
			open = false
		case !open && c == '"' && fieldStart:
			open = true
		}
		fieldStart = !open && text[i] == ','
	}
	return open
}

func isEmptyLine(text []byte) bool {
	return len(bytes.TrimRight(text, "\r\n")) == 0
}

func withNewline(text []byte) []byte {
	if len(text) == 0 || text[len(text)-1] != '\n' {
		text = append(text, '\n')
	}
	return text
}

// notCSV names what the first bytes of a file look like when it is plainly not CSV text, or
// returns "".
func notCSV(head []byte) string {
	for _, m := range []struct{ magic, what string }{
		{"\x1f\x8b", "gzip-compressed data: decompress it and upload the CSV inside"},
		{"PK\x03\x04", "a ZIP archive, such as an Excel .xlsx workbook: save or export it as CSV"},
		{"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel .xls workbook (or another Office document): save it as CSV"},
		{"%PDF-", "a PDF document"},
	} {
		if bytes.HasPrefix(head, []byte(m.magic)) {
			return m.what
		}
	}
	var evenNUL, oddNUL, control int
	for i, c := range head {
		switch {
		case c == 0 && i%2 == 0:
			evenNUL++
		case c == 0:
			oddNUL++
		}
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			control++
		}
	}
	switch {
	case oddNUL > len(head)/4 && evenNUL <= oddNUL/16:
		return "UTF-16 (little-endian) text without a byte-order mark: save it as UTF-8 CSV"
	case evenNUL > len(head)/4 && oddNUL <= evenNUL/16:
		return "UTF-16 (big-endian) text without a byte-order mark: save it as UTF-8 CSV"
	case control*10 > len(head):
		return "binary data, not text"
	}
	return ""
}

// capped refuses a file larger than max bytes while it streams in, so a huge file is never
// read whole.
type capped struct {
	r      io.Reader
	n, max int64
}

func (c *capped) Read(p []byte) (int, error) {
	if limit := c.max - c.n + 1; int64(len(p)) > limit {
		p = p[:limit]
	}
	k, err := c.r.Read(p)
	if c.n += int64(k); c.n > c.max {
		return 0, &FileError{Err: ErrFileTooLarge, Reason: fmt.Sprintf("file larger than %d bytes (MaxFileBytes)", c.max)}
	}
	return k, err
}
