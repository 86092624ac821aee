package csvin

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

// scanSeeds are inputs where the rules of encoding/csv have corners: quotes, line endings,
// empty lines, errors and what follows them.
var scanSeeds = []string{
	"a,b,c\n1,2,3\n",
	"a,b\r\n1,2\r\n\r\n\n3,4",
	"a,\"b,c\",d\n\"x\"\"y\",,\"\"\n",
	"\"multi\nline\",x\n\"crlf\r\ninside\"\r\nlast,\"\"\r\n",
	"a\"b,c\nnext,row\n",
	"\"a\"b,c\nnext,row\n",
	"\"never closed,x\ny,z\n",
	"x,\"open at end",
	"x,\"",
	"a,b\r",
	"\r\n\r\n,\n",
	" , ,\n\"\"\n",
	"\"a\n\n\nb\",c\n\"d\r",
	"\"\"\"\",\"a\"\"\"\n",
	"f\xff,\"\xfe\"\n",
	"a,\"b, c\",d\n\"whole\"\n,\"\"\n\"x\",\n", // quoted fields splitQuoted takes
	"a,\"b\"x,c\na,\"b\"\"c\",d\na\"b,\"c\"\n\"a,\"b\"\n", // and lines it leaves to parse
}

func TestScannerMatchesEncodingCSVOnSeeds(t *testing.T) {
	for _, in := range scanSeeds {
		compareWithEncodingCSV(t, []byte(in), 64)
	}
}

// FuzzScannerMatchesEncodingCSV reads arbitrary bytes with the scanner and with encoding/csv
// side by side: every record, error (line and column included), offset and line must agree.
func FuzzScannerMatchesEncodingCSV(f *testing.F) {
	for _, in := range scanSeeds {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		compareWithEncodingCSV(t, data, 16) // a small buffer takes the long-line path too
	})
}

func compareWithEncodingCSV(t *testing.T, data []byte, bufSize int) {
	t.Helper()
	want := csv.NewReader(bufio.NewReaderSize(bytes.NewReader(data), bufSize))
	want.FieldsPerRecord = -1
	want.ReuseRecord = true
	got := newScanner(bufio.NewReaderSize(bytes.NewReader(data), bufSize))
	for n := 0; ; n++ {
		wantRec, wantErr := want.Read()
		gotRec, gotErr := got.read()
		if !sameCSVError(gotErr, wantErr) {
			t.Fatalf("%q record %d: error %v, encoding/csv %v", data, n, gotErr, wantErr)
		}
		if wantErr == io.EOF {
			return
		}
		if n > len(data) {
			t.Fatalf("%q: more records than bytes", data)
		}
		if !slices.Equal(gotRec, wantRec) {
			t.Fatalf("%q record %d: %q, encoding/csv %q", data, n, gotRec, wantRec)
		}
		if got.offset != want.InputOffset() {
			t.Fatalf("%q record %d: offset %d, encoding/csv %d", data, n, got.offset, want.InputOffset())
		}
		if wantErr != nil {
			continue
		}
		start, _ := want.FieldPos(0)
		end, _ := want.FieldPos(len(wantRec) - 1)
		end += strings.Count(wantRec[len(wantRec)-1], "\n")
		if got.startLine != start || got.lines != end {
			t.Fatalf("%q record %d: lines %d-%d, encoding/csv %d-%d", data, n, got.startLine, got.lines, start, end)
		}
	}
}

func sameCSVError(got, want error) bool {
	var g, w *csv.ParseError
	if errors.As(want, &w) {
		return errors.As(got, &g) && *g == *w
	}
	return got == want
}

// Records and their strings live in shared blocks: reading on must never change them.
func TestScannerRecordsStayIntact(t *testing.T) {
	var in strings.Builder
	for i := range 3000 {
		in.WriteString(strings.Repeat("w,", i%13)) // records of changing widths
		switch i % 3 {
		case 0:
			in.WriteString("plain,row," + strings.Repeat("x", i%97) + "\n")
		case 1:
			in.WriteString("\"quoted \"\"row\"\"\"," + strings.Repeat("y", i%89) + "\n")
		default:
			in.WriteString("\"spans\nlines " + strings.Repeat("z", i%300) + "\",end\n")
		}
	}
	s := newScanner(bufio.NewReaderSize(strings.NewReader(in.String()), 64))
	var kept [][]string
	var copies [][]string
	for {
		rec, err := s.read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, rec)
		copies = append(copies, cloneStrings(rec))
	}
	if len(kept) != 3000 {
		t.Fatalf("read %d records, want 3000", len(kept))
	}
	for i := range kept {
		if !slices.Equal(kept[i], copies[i]) {
			t.Fatalf("record %d changed to %q, was %q", i, kept[i], copies[i])
		}
	}
}

func cloneStrings(rec []string) []string {
	out := make([]string, len(rec))
	for i, v := range rec {
		out[i] = strings.Clone(v)
	}
	return out
}

// A read failure other than the end of the file stops the scanner with that error.
func TestScannerReturnsReadFailure(t *testing.T) {
	boom := errors.New("disk gone")
	s := newScanner(bufio.NewReaderSize(io.MultiReader(strings.NewReader("a,b\n\"c"), &failingReader{boom}), 16))
	if rec, err := s.read(); err != nil || !slices.Equal(rec, []string{"a", "b"}) {
		t.Fatalf("first record %q, %v", rec, err)
	}
	if _, err := s.read(); !errors.Is(err, boom) {
		t.Fatalf("got %v, want the read failure", err)
	}
}

type failingReader struct{ err error }

func (f *failingReader) Read([]byte) (int, error) { return 0, f.err }
