package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/unicode"

	"github.com/leadflow/attom-batch/internal/batch"
)

const badInputHeader = "address,city,state,zip,notes\n"

// badInputCase is one file through run-all, and what must come of it.
type badInputCase struct {
	name     string
	body     []byte
	rows     int // data rows: the job's record_count
	rejected int
	check    func(t *testing.T, r runAllResult)
}

// runAllResult is a finished run-all: the job and where its files are.
type runAllResult struct {
	job     batch.Job
	results string // the results directory
	stderr  string
}

// rejects reads the job's rejects.csv.
func (r runAllResult) rejects(t *testing.T) [][]string {
	return readCSV(t, filepath.Join(r.results, r.job.RejectsPath))
}

// leadsExport reads the job's leads.csv.
func (r runAllResult) leadsExport(t *testing.T) [][]string {
	return readCSV(t, filepath.Join(r.results, "exports", r.job.ID, "leads.csv"))
}

// sentToATTOM is every address of the job's chunks: what the lookups send.
func (r runAllResult) sentToATTOM(t *testing.T) []batch.ChunkAddress {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(r.results, "batches", r.job.ID, "chunks", "*.jsonl"))
	var out []batch.ChunkAddress
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(raw))
		for sc.Scan() {
			var a batch.ChunkAddress
			if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
				t.Fatal(err)
			}
			out = append(out, a)
		}
	}
	return out
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = -1 // a reject of an unparsable line has the line as its one value
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// csvBody is the bad-input header and rows, one per line.
func csvBody(rows ...string) []byte {
	return []byte(badInputHeader + strings.Join(rows, "\n") + "\n")
}

func utf16Body(t *testing.T, order unicode.Endianness, bom unicode.BOMPolicy, body []byte) []byte {
	t.Helper()
	out, err := unicode.UTF16(order, bom).NewEncoder().Bytes(body)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Every kind of bad input, through run-all on the embedded default and the simulator: a bad
// row costs only itself, the job's counts add up (record_count is the file's data rows), and
// a file that is not CSV fails saying what it looks like.
func TestBadInputThroughRunAll(t *testing.T) {
	ok := func(n int) []string {
		rows := make([]string, n)
		for i := range rows {
			rows[i] = string(rune('1'+i)) + "0 Birch Lane,Springfield,IL,62701,ok"
		}
		return rows
	}
	cases := []badInputCase{
		{name: "row over the length limit", rows: 4, rejected: 1,
			body: csvBody(append(ok(3), "90 Birch Lane,Springfield,IL,62701,"+strings.Repeat("x", 70<<10))...),
			check: func(t *testing.T, r runAllResult) {
				wantReject(t, r, "5", "", "row longer than 65536 bytes (MaxLineBytes)")
			}},
		{name: "quote never closed, mid-file and at the end", rows: 5, rejected: 2,
			body: csvBody(ok(1)[0], `"20 Birch Lane,Springfield,IL,62701,x`, ok(3)[2], ok(4)[3], `"50 Birch Lane,Springfield,IL,62701`),
			check: func(t *testing.T, r runAllResult) {
				wantReject(t, r, "3", "", "quote opened on this line is never closed properly (malformed CSV: extraneous or missing \" in quoted-field on line 6)")
				wantReject(t, r, "6", "", "quote opened on this line is never closed")
			}},
		{name: "broken quoting", rows: 4, rejected: 2,
			body: csvBody(`10 Birch Lane,Spring"field,IL,62701,x`, `"20 Birch Lane"x,Springfield,IL,62701,x`, ok(3)[2], ok(4)[3]),
			check: func(t *testing.T, r runAllResult) {
				wantReject(t, r, "2", "", "malformed CSV: bare \" in non-quoted-field (line 2, column 21)")
				wantReject(t, r, "3", "", "malformed CSV: extraneous or missing \" in quoted-field (line 3, column 15)")
			}},
		{name: "Windows-1252", rows: 2,
			body: csvBody("10 Calle Espa\xf1ola,Espa\xf1ola,NM,87532,se\xf1or", ok(2)[1]),
			check: func(t *testing.T, r runAllResult) {
				if r.job.Encoding != "Windows-1252 (1 line was not valid UTF-8)" {
					t.Errorf("encoding %q", r.job.Encoding)
				}
				if out, _, _ := runCLI(t, "", "status"); !strings.Contains(out, "Encoding          Windows-1252 (1 line was not valid UTF-8)") {
					t.Errorf("status does not tell the encoding:\n%s", out)
				}
				sent := r.sentToATTOM(t)
				if len(sent) != 2 || sent[0].Line1 != "10 CALLE ESPAÑOLA" || sent[0].City != "ESPAÑOLA" || sent[0].Input["notes"] != "señor" {
					t.Errorf("sent %+v", sent)
				}
			}},
		{name: "UTF-16LE with a mark", rows: 3, body: utf16Body(t, unicode.LittleEndian, unicode.UseBOM, csvBody(ok(3)...)),
			check: func(t *testing.T, r runAllResult) { wantEncoding(t, r, "UTF-16LE") }},
		{name: "UTF-16BE with a mark", rows: 3, body: utf16Body(t, unicode.BigEndian, unicode.UseBOM, csvBody(ok(3)...)),
			check: func(t *testing.T, r runAllResult) { wantEncoding(t, r, "UTF-16BE") }},
		{name: "UTF-8 with a mark and CRLF", rows: 3,
			body:  []byte("\ufeff" + strings.ReplaceAll(string(csvBody(ok(3)...)), "\n", "\r\n")),
			check: func(t *testing.T, r runAllResult) { wantEncoding(t, r, "") }},
		{name: "NUL and control bytes", rows: 2,
			body: csvBody("10 Bi\x00rch La\x07ne,Springfield,IL,62701,a\x00b\x1bc", ok(2)[1]),
			check: func(t *testing.T, r runAllResult) {
				sent := r.sentToATTOM(t)
				if len(sent) != 2 || sent[0].Line1 != "10 BIRCH LN" || sent[0].Input["notes"] != "abc" {
					t.Errorf("sent %+v", sent)
				}
				for _, rec := range r.leadsExport(t) {
					if strings.ContainsAny(strings.Join(rec, ""), "\x00\x07\x1b") {
						t.Errorf("control bytes in the export: %q", rec)
					}
				}
			}},
		{name: "a character lost before the file was made", rows: 3, rejected: 1,
			body: csvBody("10 Calle Espa\ufffdola,Springfield,IL,62701,x", "20 Birch Lane,Springfield,IL,62701,se\ufffdor", ok(3)[2]),
			check: func(t *testing.T, r runAllResult) {
				wantReject(t, r, "2", "address", "unreadable character (U+FFFD) where a letter was: the text was damaged before it reached this file; retype it")
				for _, a := range r.sentToATTOM(t) {
					if strings.ContainsRune(a.Line1+a.Unit+a.City+a.State+a.ZIP, '\ufffd') {
						t.Errorf("U+FFFD sent to ATTOM: %+v", a)
					}
				}
			}},
		{name: "formulas in rejected rows", rows: 3, rejected: 2,
			body: csvBody(`"=HYPERLINK(""http://x.example"",""fix"")",Springfield,IL,62701,x`, "=cmd|' /C calc'!A0,Springfield,IL,1,-2+3", ok(3)[2]),
			check: func(t *testing.T, r runAllResult) {
				recs := r.rejects(t)
				if len(recs) != 3 || recs[1][3] != `'=HYPERLINK("http://x.example","fix")` || recs[2][3] != "'=cmd|' /C calc'!A0" || recs[2][7] != "'-2+3" {
					t.Errorf("rejects %q", recs)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runAllOn(t, tc.body)
			if code := r.job.Status; code != batch.StatusCompleted {
				t.Fatalf("job %s: %s\n%s", r.job.Status, r.job.Error, r.stderr)
			}
			j := r.job
			if j.RecordCount != tc.rows || j.RejectedRecords != tc.rejected || j.DuplicateRecords != 0 {
				t.Fatalf("rows %d rejected %d duplicates %d, want %d, %d and 0", j.RecordCount, j.RejectedRecords, j.DuplicateRecords, tc.rows, tc.rejected)
			}
			if sum := j.RejectedRecords + j.DuplicateRecords + j.RecordsFound + j.NotFoundRecords + j.ErrorRecords + j.PendingRecords(); sum != j.RecordCount || j.PendingRecords() != 0 {
				t.Fatalf("counts do not add up: %+v", j)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func TestFilesThatAreNotCSVFailSayingWhatTheyLookLike(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(csvBody("10 Birch Lane,Springfield,IL,62701,x"))
	_ = zw.Close()
	cases := []struct {
		name string
		body []byte
		says string
	}{
		{"gzip", gz.Bytes(), "gzip-compressed data"},
		{"xlsx", []byte("PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml"), "a ZIP archive, such as an Excel .xlsx workbook"},
		{"xls", []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00\x00\x00\x00\x00\x00\x00"), "an Excel .xls workbook"},
		{"UTF-16 without a mark", utf16Body(t, unicode.LittleEndian, unicode.IgnoreBOM, csvBody("10 Birch Lane,Springfield,IL,62701,x")), "UTF-16 (little-endian) text without a byte-order mark"},
		{"binary", []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00>\x00\x01\x00\x00\x00"), "binary data"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runAllOn(t, tc.body)
			if r.job.Status != batch.StatusFailed || !strings.Contains(r.job.Error, "upload.csv: not a CSV file: it looks like "+tc.says) {
				t.Fatalf("job %s error %q; stderr %s", r.job.Status, r.job.Error, r.stderr)
			}
			if r.job.RecordCount != 0 || r.job.UniqueRecords != 0 || r.job.CostSpentCents != 0 {
				t.Fatalf("a refused file counted rows or spent: %+v", r.job)
			}
		})
	}
}

// runAllOn runs `run-all --leads --json` on body in a fresh sandbox and returns the job.
func runAllOn(t *testing.T, body []byte) runAllResult {
	t.Helper()
	dir := sandbox(t)
	t.Setenv("ATTOM_BATCH_POLL_MIN_SECONDS", "0") // the lookups of a few rows are over at once
	t.Setenv("ATTOM_BATCH_POLL_MAX_SECONDS", "1")
	path := filepath.Join(dir, "upload.csv")
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI(t, "", "run-all", path, "--leads", "--json")
	var summary struct {
		Job batch.Job `json:"job"`
	}
	if err := json.Unmarshal([]byte(out), &summary); err != nil || (code != 0) != (summary.Job.Status == batch.StatusFailed) {
		t.Fatalf("exit %d, %v:\n%s\n%s", code, err, out, errOut)
	}
	return runAllResult{job: summary.Job, results: filepath.Join(dir, "results"), stderr: errOut}
}

func wantReject(t *testing.T, r runAllResult, line, field, reason string) {
	t.Helper()
	for _, rec := range r.rejects(t)[1:] {
		if rec[0] == line {
			if rec[1] != field || rec[2] != reason {
				t.Errorf("line %s rejected as %q: %q, want %q: %q", line, rec[1], rec[2], field, reason)
			}
			return
		}
	}
	t.Errorf("line %s is not in the rejects: %q", line, r.rejects(t))
}

func wantEncoding(t *testing.T, r runAllResult, want string) {
	t.Helper()
	if r.job.Encoding != want {
		t.Errorf("encoding %q, want %q", r.job.Encoding, want)
	}
	if sent := r.sentToATTOM(t); len(sent) != r.job.RecordCount || sent[0].Line1 != "10 BIRCH LN" {
		t.Errorf("sent %+v", sent)
	}
}
