package csvin

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"

	"golang.org/x/text/encoding/unicode"
)

// rowSummary is what a test checks of a row: its line, and its reject's field and reason or
// its normalized line 1.
type rowSummary struct {
	line          int
	field, reason string // the reject's, when rejected
	line1         string // the address's, when not
}

func summarize(rows []Row) []rowSummary {
	out := make([]rowSummary, len(rows))
	for i, r := range rows {
		out[i] = rowSummary{line: r.Line, line1: r.Address.Line1}
		if r.Reject != nil {
			out[i] = rowSummary{line: r.Line, field: r.Reject.Field, reason: r.Reject.Reason}
		}
	}
	return out
}

func checkRows(t *testing.T, rows []Row, want []rowSummary) {
	t.Helper()
	got := summarize(rows)
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// One bad row, one reject: a row over the limit and a quote that never closes each cost
// their own line, and reading goes on after them.
func TestABadRowCostsOnlyItself(t *testing.T) {
	text := "address,city,state,zip\n" +
		"1 Main St,Springfield,IL,62701\n" + // 2
		"2 Main St," + strings.Repeat("x", 5000) + ",IL,62701\n" + // 3: too long
		"3 Main St,Springfield,IL,62701\n" + // 4
		"\"4 Main St,Springfield,IL,62701\n" + // 5: the quote never closes
		"5 Main St,Springfield,IL,62701\n" + // 6
		"6 Main St,\"Smith, Jo\",IL,62701\n" + // 7: its quote "closes" line 5's, wrongly
		"\"7 Oak\nAve\",Springfield,IL,62701\n" + // 8-9: a quoted field over two lines is fine
		"8 Main St,Springfield,IL,62701\n" + // 10
		"\"9 Main St,Springfield,IL,62701\n" + // 11: open to the end of the file
		"10 Main St,Springfield,IL,62701" // 12, no final newline
	rows, r := readAll(t, text, Options{MaxLineBytes: 1000})
	never := "quote opened on this line is never closed"
	checkRows(t, rows, []rowSummary{
		{line: 2, line1: "1 MAIN ST"},
		{line: 3, reason: "row longer than 1000 bytes (MaxLineBytes)"},
		{line: 4, line1: "3 MAIN ST"},
		{line: 5, reason: never + ` properly (malformed CSV: extraneous or missing " in quoted-field on line 7)`},
		{line: 6, line1: "5 MAIN ST"},
		{line: 7, line1: "6 MAIN ST"},
		{line: 8, line1: "7 OAK AVE"},
		{line: 10, line1: "8 MAIN ST"},
		{line: 11, reason: never},
		{line: 12, line1: "10 MAIN ST"},
	})
	if !errors.Is(rows[1].Reject, ErrLineTooLong) || !errors.Is(rows[3].Reject, ErrBrokenQuote) || !errors.Is(rows[8].Reject, ErrBrokenQuote) {
		t.Errorf("rejects do not wrap their causes: %v / %v / %v", rows[1].Reject.Err, rows[3].Reject.Err, rows[8].Reject.Err)
	}
	if got := rows[8].Values; len(got) != 1 || got[0] != `"9 Main St,Springfield,IL,62701` {
		t.Errorf("an unclosed quote's reject keeps its line as written, got %q", got)
	}
	if c := r.Counts(); c.Rows != 10 || c.Rejected != 3 || c.Accepted != 7 {
		t.Errorf("counts %+v", c)
	}

	// A quote that stays open past MaxLineBytes is rejected there, not at the end of the file.
	text = "address,zip\n\"1 Main St,62701\n" + strings.Repeat("2 Main St,62701\n", 100)
	rows, _ = readAll(t, text, Options{MaxLineBytes: 200})
	if len(rows) != 101 || rows[0].Reject == nil || rows[0].Reject.Reason != "quote opened on this line is not closed within 200 bytes (MaxLineBytes)" ||
		rows[1].Reject != nil || rows[100].Line != 102 || rows[100].DuplicateOf != 3 {
		t.Fatalf("%d rows: first %+v, second %+v", len(rows), rows[0].Reject, rows[1])
	}
}

func TestEncodings(t *testing.T) {
	const body = "address,city,state,zip,owner\n1 Calle Española,Española,NM,87532,Peña\n"
	utf16 := func(order unicode.Endianness) string {
		s, err := unicode.UTF16(order, unicode.UseBOM).NewEncoder().String(body)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	latin1 := strings.ReplaceAll(body, "ñ", "\xf1")
	tests := []struct{ name, text, encoding string }{
		{"UTF-8", body, ""},
		{"UTF-8 with a mark", "\ufeff" + body, ""},
		{"UTF-16LE", utf16(unicode.LittleEndian), "UTF-16LE"},
		{"UTF-16BE", utf16(unicode.BigEndian), "UTF-16BE"},
		{"Windows-1252", latin1, "Windows-1252 (1 line was not valid UTF-8)"},
		{"CRLF Windows-1252", strings.ReplaceAll(latin1, "\n", "\r\n"), "Windows-1252 (1 line was not valid UTF-8)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, r := readAll(t, tt.text, Options{})
			if r.Header()[0] != "address" || len(rows) != 1 || rows[0].Reject != nil {
				t.Fatalf("header %q rows %+v", r.Header(), rows)
			}
			a := rows[0].Address
			if a.Line1 != "1 CALLE ESPAÑOLA" || a.City != "ESPAÑOLA" || rows[0].Values[4] != "Peña" {
				t.Errorf("address %q, %q, owner %q", a.Line1, a.City, rows[0].Values[4])
			}
			if r.Encoding() != tt.encoding {
				t.Errorf("Encoding() = %q, want %q", r.Encoding(), tt.encoding)
			}
		})
	}
}

// Control characters are removed from every field; U+FFFD (a character lost before the file
// was made) rejects the row when it is in the address, and is kept elsewhere.
func TestControlCharactersAndLostCharacters(t *testing.T) {
	text := "addr\x00ess,city,state,zip,notes\n" +
		"1 Ma\x00in\x07 St,Spring\x7ffield,IL,62701,a\u0085b\tc\x1b\n" +
		"2 Calle Espa\ufffdola,Springfield,IL,62701,x\n" +
		"3 Main St,Spring\ufffdfield,IL,62701,x\n" +
		"4 Main St,Springfield,IL,62701,se\ufffdor\n" +
		"\x01,\x02,,,\n"
	rows, r := readAll(t, text, Options{})
	if r.Header()[0] != "address" {
		t.Fatalf("header %q", r.Header())
	}
	lost := "unreadable character (U+FFFD) where a letter was: the text was damaged before it reached this file; retype it"
	checkRows(t, rows, []rowSummary{
		{line: 2, line1: "1 MAIN ST"},
		{line: 3, field: "address", reason: lost},
		{line: 4, field: "city", reason: lost},
		{line: 5, line1: "4 MAIN ST"},
	})
	if v := rows[0].Values; v[0] != "1 Main St" || v[1] != "Springfield" || v[4] != "ab\tc" {
		t.Errorf("values %q", v)
	}
	if !errors.Is(rows[1].Reject, ErrUnreadable) || rows[3].Values[4] != "se\ufffdor" {
		t.Errorf("reject %v, values %q", rows[1].Reject, rows[3].Values)
	}
	if c := r.Counts(); c.Blank != 1 || c.Rows != 4 {
		t.Errorf("counts %+v", c)
	}
}

func TestFilesThatAreNotCSV(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte("address,zip\n1 Main St,62701\n"))
	_ = zw.Close()
	utf16, err := unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewEncoder().String("address,zip\n1 Main St,62701\n")
	if err != nil {
		t.Fatal(err)
	}
	utf16be, _ := unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewEncoder().String("address,zip\n1 Main St,62701\n")
	tests := []struct{ name, data, says string }{
		{"gzip", gz.String(), "gzip-compressed data"},
		{"xlsx", "PK\x03\x04\x14\x00\x06\x00[Content_Types].xml", "a ZIP archive, such as an Excel .xlsx workbook"},
		{"xls", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00\x00\x00", "an Excel .xls workbook"},
		{"pdf", "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "a PDF document"},
		{"UTF-16LE without a mark", utf16, "UTF-16 (little-endian) text without a byte-order mark"},
		{"UTF-16BE without a mark", utf16be, "UTF-16 (big-endian) text without a byte-order mark"},
		{"binary", "\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00>\x00\x01\x00\x00\x00", "binary data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tt.data), "upload.csv", Options{})
			if !errors.Is(err, ErrNotCSV) || !strings.HasPrefix(err.Error(), "upload.csv: not a CSV file: it looks like "+tt.says) {
				t.Fatalf("err = %v, want ErrNotCSV saying %q", err, tt.says)
			}
		})
	}
}
