package csvin

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/leadflow/attom-batch/internal/address"
	"github.com/leadflow/attom-batch/internal/csvin/csvgen"
)

// eachRow calls f with every row of r, failing the test on an error that ends the file.
func eachRow(t *testing.T, r *Reader, f func(Row)) {
	t.Helper()
	for {
		row, err := r.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		f(row)
	}
}

// rowsBeforeError counts the rows Next returns before its first error, and returns that.
func rowsBeforeError(r *Reader) (int, error) {
	for n := 0; ; n++ {
		if _, err := r.Next(); err != nil {
			return n, err
		}
	}
}

// readAll reads every row of a CSV given as text.
func readAll(t *testing.T, text string, opts Options) ([]Row, *Reader) {
	t.Helper()
	r, err := NewReader(strings.NewReader(text), "properties.csv", opts)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	var rows []Row
	for {
		row, err := r.Next()
		if err == io.EOF {
			return rows, r
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		rows = append(rows, row)
	}
}

func TestHeaderAliases(t *testing.T) {
	tests := []struct{ name, csv string }{
		{"plain", "address,city,state,zip\n1 Main St,Springfield,IL,62701\n"},
		{"street/st/zip_code", "Street,City,ST,Zip Code\n1 Main St,Springfield,IL,62701\n"},
		{"address1/zipcode", "ADDRESS1,CITY,STATE,ZIPCODE\n1 Main St,Springfield,IL,62701\n"},
		{"address_1/postal_code", "address_1,city,state,postal_code\n1 Main St,Springfield,IL,62701\n"},
		{"property_address/zip5", "property_address,city,state,zip5\n1 Main St,Springfield,IL,62701\n"},
		{"street_address dash", "Street-Address,City,State,ZIP\n1 Main St,Springfield,IL,62701\n"},
		{"street and zip only", "street,zip\n1 Main St,62701\n"},
		{"no zip column", "address,city,state\n1 Main St,Springfield,IL\n"},
		{"address2/unit", "address,unit,city,state,zip\n1 Main St,Apt 4,Springfield,IL,62701\n"},
		{"full_address", "id,full_address\n7,\"1 Main St, Springfield, IL 62701\"\n"},
		{"one_line", "one_line\n\"1 Main St, Springfield, IL 62701\"\n"},
		{"address alone is one line", "Address,owner\n\"1 Main St, Springfield, IL 62701\",Jo\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, _ := readAll(t, tt.csv, Options{})
			if len(rows) != 1 {
				t.Fatalf("%d rows, want 1", len(rows))
			}
			row := rows[0]
			if row.Reject != nil {
				t.Fatalf("rejected: %v", row.Reject)
			}
			if row.Address.Line1 != "1 MAIN ST" || row.Line != 2 {
				t.Errorf("line %d address %+v", row.Line, row.Address)
			}
			if strings.Contains(tt.csv, "Apt 4") && row.Address.Unit != "APT 4" {
				t.Errorf("unit %q, want APT 4", row.Address.Unit)
			}
		})
	}
}

func TestNoRecognizableHeader(t *testing.T) {
	for _, text := range []string{"name,phone\nJo,555\n", "", "\n\n", "1 Main St,Springfield,IL,62701\n"} {
		_, err := NewReader(strings.NewReader(text), "leads.csv", Options{})
		if !errors.Is(err, ErrNoHeader) {
			t.Fatalf("%q: err = %v, want ErrNoHeader", text, err)
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "leads.csv: ") || !strings.Contains(msg, "zip_code") || !strings.Contains(msg, "full_address") {
			t.Errorf("error %q should name the file and the columns looked for", msg)
		}
	}
}

func TestBOMCRLFQuotingAndExtraColumns(t *testing.T) {
	text := "\ufeff\"Address\",City,State,Zip,Owner,Notes\r\n" +
		"\"12 Oak Ave, Apt 3\",Austin,TX,78701,\"Smith, Jane\",\"said \"\"hi\"\"\"\r\n" +
		"\"34 Elm\r\nStreet\",Austin,TX,78701,Lee,\r\n" +
		"56 Pine Rd,Austin,TX,78701,Kim,x,extra1,extra2\r\n" +
		"\r\n,,,,,\r\n\r\n"
	rows, r := readAll(t, text, Options{})
	if got := r.Header(); got[0] != "Address" || len(got) != 6 {
		t.Fatalf("header %q", got)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3", len(rows))
	}
	want := []struct {
		line        int
		line1, unit string
		values      int
	}{{2, "12 OAK AVE", "APT 3", 6}, {3, "34 ELM ST", "", 6}, {5, "56 PINE RD", "", 8}}
	for i, w := range want {
		row := rows[i]
		if row.Reject != nil {
			t.Fatalf("row %d rejected: %v", i, row.Reject)
		}
		if row.Line != w.line || row.Address.Line1 != w.line1 || row.Address.Unit != w.unit || len(row.Values) != w.values {
			t.Errorf("row %d: line %d %q %q %d values, want %+v", i, row.Line, row.Address.Line1, row.Address.Unit, len(row.Values), w)
		}
	}
	if rows[0].Values[4] != "Smith, Jane" || rows[0].Values[5] != `said "hi"` || rows[2].Values[7] != "extra2" {
		t.Errorf("values not kept: %q %q", rows[0].Values, rows[2].Values)
	}
	if c := r.Counts(); c.Rows != 3 || c.Accepted != 3 || c.Blank != 1 {
		t.Errorf("counts %+v", c)
	}
}

func TestRejectReasons(t *testing.T) {
	text := "address,city,state,zip_code\n" +
		"1 Main St,Springfield,IL,62701\n" + // 2 ok
		"PO Box 12,Springfield,IL,62701\n" + // 3
		",Springfield,IL,62701\n" + // 4
		"Main St,Springfield,IL,62701\n" + // 5
		"2 Main St,Springfield,XX,62701\n" + // 6
		"3 Main St,Springfield,IL,1234\n" + // 7
		"4 Main St,,IL,\n" + // 8
		"5 Main St,Springfield,,\n" + // 9
		"6 Main St,Spring\"field,IL,62701\n" + // 10 bare quote
		"\"7 Main St\"x,Springfield,IL,62701\n" + // 11 text after closing quote
		"8 Main St\n" + // 12 short row: no ZIP, no city
		"9 Main St,Springfield,IL,62701\n" // 13 ok
	rows, r := readAll(t, text, Options{})
	want := []struct {
		line          int
		field, reason string
	}{
		{3, "address", "PO box is not a property address"},
		{4, "address", "missing street address"},
		{5, "address", "missing house number"},
		{6, "state", `unknown state "XX"`},
		{7, "zip_code", `invalid ZIP "1234"`},
		{8, "city", "missing city (needed when the ZIP is missing)"},
		{9, "state", "missing state (needed when the ZIP is missing)"},
		{10, "", `malformed CSV: bare " in non-quoted-field (line 10, column 17)`},
		{11, "", "malformed CSV: extraneous or missing \" in quoted-field (line 11, column 11)"},
		{12, "city", "missing city (needed when the ZIP is missing)"},
	}
	var rejects []Row
	for _, row := range rows {
		if row.Reject != nil {
			rejects = append(rejects, row)
		}
	}
	if len(rejects) != len(want) {
		t.Fatalf("%d rejects, want %d: %v", len(rejects), len(want), rejects)
	}
	for i, w := range want {
		got := rejects[i]
		if got.Line != w.line || got.Reject.Line != w.line || got.Reject.Field != w.field || got.Reject.Reason != w.reason {
			t.Errorf("reject %d: line %d field %q reason %q, want %+v", i, got.Line, got.Reject.Field, got.Reject.Reason, w)
		}
	}
	if msg := rejects[4].Reject.Error(); msg != `properties.csv: line 7: field zip_code: invalid ZIP "1234"` {
		t.Errorf("message %q", msg)
	}
	if !errors.Is(rejects[0].Reject, address.ErrPOBox) {
		t.Error("PO box reject does not wrap address.ErrPOBox")
	}
	if c := r.Counts(); c.Rows != 12 || c.Accepted != 2 || c.Rejected != 10 || c.Duplicates != 0 {
		t.Errorf("counts %+v", c)
	}
}

func TestDuplicates(t *testing.T) {
	text := "address,unit,city,state,zip\n" +
		"123 North Main Street,Apt 4,Springfield,Illinois,62701\n" +
		"9 Oak Ave,,Austin,TX,78701\n" +
		"123 n. main st. apt #4,,springfield,il,62701-1234\n" +
		"123 N Main St,,Springfield,IL,62701\n" + // no unit: another property
		"9 OAK AVENUE,,AUSTIN,TEXAS,78701\n"
	rows, r := readAll(t, text, Options{})
	wantDup := []int{0, 0, 2, 0, 3}
	for i, row := range rows {
		if row.DuplicateOf != wantDup[i] {
			t.Errorf("line %d: DuplicateOf %d, want %d (key %q)", row.Line, row.DuplicateOf, wantDup[i], row.Key)
		}
	}
	if c := r.Counts(); c.Accepted != 3 || c.Duplicates != 2 {
		t.Errorf("counts %+v", c)
	}
}

func TestLimits(t *testing.T) {
	var file bytes.Buffer
	if _, err := csvgen.Write(&file, csvgen.Config{Rows: 5000, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(&file, "huge.csv", Options{MaxFileBytes: 200000})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := rowsBeforeError(r)
	if !errors.Is(err, ErrFileTooLarge) || err.Error() != "huge.csv: file larger than 200000 bytes (MaxFileBytes)" {
		t.Fatalf("err = %v, want file too large", err)
	}
	if rows == 0 || rows >= 5000 {
		t.Errorf("read %d rows before the limit, want some but not all", rows)
	}
	if _, again := r.Next(); again != err {
		t.Errorf("later Next returned %v, want the same error", again)
	}
	_, err = NewReader(strings.NewReader("address,zip\n1 Main St,62701\n"), "tiny.csv", Options{MaxFileBytes: 10})
	if !errors.Is(err, ErrFileTooLarge) {
		t.Errorf("tiny limit: err = %v, want file too large", err)
	}
}

func TestEmptyHeaderOnlyAndAllBadFiles(t *testing.T) {
	if _, err := NewReader(strings.NewReader(""), "empty.csv", Options{}); !errors.Is(err, ErrNoHeader) || !strings.Contains(err.Error(), "empty file") {
		t.Errorf("empty file: %v", err)
	}
	rows, r := readAll(t, "address,city,state,zip\r\n\r\n", Options{})
	if len(rows) != 0 || r.Counts() != (Counts{}) {
		t.Errorf("header-only file: %d rows, counts %+v", len(rows), r.Counts())
	}
	rows, r = readAll(t, "address,city,state,zip\nPO Box 1,A,IL,62701\n1 A St,B,QQ,62701\n2 A St,B,IL,999\n", Options{})
	if len(rows) != 3 || r.Counts().Rejected != 3 || r.Counts().Accepted != 0 {
		t.Errorf("all-bad file: %d rows, counts %+v", len(rows), r.Counts())
	}
}

// The rejects file keeps each row's line, field, reason and values, every cell protected
// against formula injection as in the leads export.
func TestRejectsWriter(t *testing.T) {
	text := "address,city,state,zip,owner,=sum(A1)\n" +
		"1 Main St,Springfield,IL,1234,\"Smith, Jo\",-1250\n" +
		"PO Box 3,X,IL,62701\n" +
		"\"=HYPERLINK(\"\"http://evil\"\",\"\"fix me\"\")\",+1,@SUM(A1),-2+3,\"=cmd|' /C calc'!A0\",\t=1\n" +
		"=1+1,Spring\"field,IL,62701\n"
	rows, r := readAll(t, text, Options{})
	var out bytes.Buffer
	w, err := NewRejectsWriter(&out, r.Header())
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		if err := w.Write(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "line,field,reason,address,city,state,zip,owner,'=sum(A1)\n" +
		"2,zip,\"invalid ZIP \"\"1234\"\"\",1 Main St,Springfield,IL,1234,\"Smith, Jo\",-1250\n" +
		"3,address,PO box is not a property address,PO Box 3,X,IL,62701\n" +
		"4,address,missing house number,\"'=HYPERLINK(\"\"http://evil\"\",\"\"fix me\"\")\",'+1,'@SUM(A1),'-2+3,'=cmd|' /C calc'!A0,'\t=1\n" +
		"5,,\"malformed CSV: bare \"\" in non-quoted-field (line 5, column 12)\",\"'=1+1,Spring\"\"field,IL,62701\"\n"
	if out.String() != want {
		t.Errorf("rejects file:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestGeneratedFileCountsMatch(t *testing.T) {
	for _, oneLine := range []bool{false, true} {
		gen := csvgen.NewReader(csvgen.Config{Rows: 20000, Seed: 42, BadShare: 0.05, DuplicateShare: 0.1, OneLine: oneLine})
		r, err := NewReader(gen, "gen.csv", Options{})
		if err != nil {
			t.Fatal(err)
		}
		eachRow(t, r, func(row Row) {
			if row.Reject == nil && row.Key == "" {
				t.Fatalf("line %d: accepted row without key", row.Line)
			}
		})
		want := gen.Counts()
		got := r.Counts()
		if got.Rows != want.Rows || got.Accepted != want.Good || got.Rejected != want.Bad || got.Duplicates != want.Duplicates {
			t.Errorf("oneLine=%v: reader counts %+v, generator %+v", oneLine, got, want)
		}
	}
}

func TestDuplicatesIgnoreUnitDesignator(t *testing.T) {
	text := "address,unit,city,state,zip\n" +
		"123 Main St,Apt 4,Springfield,IL,62701\n" +
		"123 Main St # 4,,Springfield,IL,62701\n" +
		"123 Main St,Unit 4,Springfield,IL,62701\n" +
		"123 Main St,Apt 5,Springfield,IL,62701\n"
	rows, r := readAll(t, text, Options{})
	wantDup := []int{0, 2, 2, 0}
	for i, row := range rows {
		if row.DuplicateOf != wantDup[i] {
			t.Errorf("line %d: DuplicateOf %d, want %d (key %q)", row.Line, row.DuplicateOf, wantDup[i], row.Key)
		}
	}
	if rows[0].Key != "123 MAIN ST|4|62701" || rows[1].Address.Unit != "# 4" {
		t.Errorf("key %q, unit %q", rows[0].Key, rows[1].Address.Unit)
	}
	if c := r.Counts(); c.Accepted != 2 || c.Duplicates != 2 {
		t.Errorf("counts %+v", c)
	}
}

// TestNextIntoMatchesNext reads the same file with Next and with NextInto reusing one Row
// (so every field of the previous row must be overwritten) and expects the same rows, counts
// and final error.
func TestNextIntoMatchesNext(t *testing.T) {
	for _, oneLine := range []bool{false, true} {
		cfg := csvgen.Config{Rows: 3000, Seed: 7, BadShare: 0.1, DuplicateShare: 0.1, OneLine: oneLine}
		var data bytes.Buffer
		if _, err := csvgen.Write(&data, cfg); err != nil {
			t.Fatal(err)
		}
		data.WriteString("\"unclosed quote,to the end\n1 Main St,,,\x00\n") // a reject, then more
		byValue, err := NewReader(bytes.NewReader(data.Bytes()), "gen.csv", Options{})
		if err != nil {
			t.Fatal(err)
		}
		inPlace, err := NewReader(bytes.NewReader(data.Bytes()), "gen.csv", Options{})
		if err != nil {
			t.Fatal(err)
		}
		var got Row
		for {
			want, wantErr := byValue.Next()
			gotErr := inPlace.NextInto(&got)
			if !sameError(gotErr, wantErr) {
				t.Fatalf("oneLine=%v: NextInto error %v, Next error %v", oneLine, gotErr, wantErr)
			}
			if !sameRow(got, want) {
				t.Fatalf("oneLine=%v: NextInto row\n%+v\nNext row\n%+v", oneLine, got, want)
			}
			if wantErr != nil {
				break
			}
		}
		if byValue.Counts() != inPlace.Counts() {
			t.Errorf("oneLine=%v: counts %+v vs %+v", oneLine, inPlace.Counts(), byValue.Counts())
		}
	}
}

func sameError(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Error() == b.Error()
}

func sameRow(a, b Row) bool {
	if (a.Reject == nil) != (b.Reject == nil) || a.Reject != nil && a.Reject.Error() != b.Reject.Error() {
		return false
	}
	a.Reject, b.Reject = nil, nil
	return reflect.DeepEqual(a, b)
}

// A read failure ends the file after the complete rows before it, as a *FileError that
// wraps the cause.
func TestReadFailureEndsTheFile(t *testing.T) {
	head := "address,zip\n" + strings.Repeat("1 Main St,62701\n", 40)
	boom := errors.New("disk gone")
	r, err := NewReader(io.MultiReader(strings.NewReader(head), &failingReader{boom}), "fail.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := rowsBeforeError(r)
	var fileErr *FileError
	if !errors.Is(err, boom) || !errors.As(err, &fileErr) || got != 40 {
		t.Fatalf("read %d rows then %v, want 40 rows then the read failure", got, err)
	}
}

type failingReader struct{ err error }

func (f *failingReader) Read([]byte) (int, error) { return 0, f.err }

// The reader normalizes through an arena that remembers recent city and state spellings; on
// a generated file with many places, spellings and bad rows every address, key and reason
// must still be exactly what the standalone normalizer says for that row.
func TestRowsMatchStandaloneNormalizer(t *testing.T) {
	gen := csvgen.NewReader(csvgen.Config{Rows: 20000, Seed: 11, BadShare: 0.05, DuplicateShare: 0.05})
	r, err := NewReader(gen, "gen.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	eachRow(t, r, func(row Row) {
		want, key, wantErr := address.NormalizeWithKey(r.input(row.Values))
		var fe *address.FieldError
		switch {
		case row.Reject != nil && row.Reject.Err != nil && errors.As(row.Reject.Err, &fe):
			if wantErr == nil || wantErr.Error() != row.Reject.Err.Error() {
				t.Fatalf("line %d rejected with %v, normalizer says %v", row.Line, row.Reject.Err, wantErr)
			}
		case row.Reject == nil:
			if wantErr != nil || row.Address != want || row.Key != key {
				t.Fatalf("line %d: reader %+v %q, normalizer %+v %q %v", row.Line, row.Address, row.Key, want, key, wantErr)
			}
		}
		checked++
	})
	if checked != 20000 {
		t.Fatalf("checked %d rows, want 20000", checked)
	}
}
