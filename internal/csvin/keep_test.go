package csvin

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/leadflow/attom-batch/internal/address"
	"github.com/leadflow/attom-batch/internal/csvin/csvgen"
)

// TestRowsStayValidAfterNext keeps every row of a generated file (units, duplicates, bad rows)
// and compares it at the end with a deep copy taken when Next returned it. Callers keep rows
// across Next calls, so no field may share memory that a later call reuses (the CSV parser's
// record, the reader's value blocks, the normalizer's scratch).
func TestRowsStayValidAfterNext(t *testing.T) {
	for _, oneLine := range []bool{false, true} {
		var file bytes.Buffer
		cfg := csvgen.Config{Rows: 3000, Seed: 7, BadShare: 0.05, DuplicateShare: 0.1, OneLine: oneLine}
		if _, err := csvgen.Write(&file, cfg); err != nil {
			t.Fatal(err)
		}
		r, err := NewReader(&file, "kept.csv", Options{})
		if err != nil {
			t.Fatal(err)
		}
		var kept, copies []Row
		for {
			row, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			kept = append(kept, row)
			copies = append(copies, cloneRow(row))
		}
		if len(kept) != cfg.Rows {
			t.Fatalf("read %d rows, want %d", len(kept), cfg.Rows)
		}
		for i := range kept {
			got, want := kept[i], copies[i]
			if got.Key != want.Key || got.Address != want.Address || strings.Join(got.Values, "\x00") != strings.Join(want.Values, "\x00") {
				t.Fatalf("row at line %d changed after later Next calls:\n got %q %+v %q\nwant %q %+v %q",
					got.Line, got.Key, got.Address, got.Values, want.Key, want.Address, want.Values)
			}
		}
	}
}

func cloneRow(r Row) Row {
	c := strings.Clone
	a := r.Address
	r.Address = address.Address{Number: c(a.Number), PreDir: c(a.PreDir), Street: c(a.Street),
		Suffix: c(a.Suffix), PostDir: c(a.PostDir), UnitType: c(a.UnitType), UnitNumber: c(a.UnitNumber),
		Line1: c(a.Line1), Unit: c(a.Unit), City: c(a.City), State: c(a.State), ZIP5: c(a.ZIP5), ZIP4: c(a.ZIP4)}
	r.Key = c(r.Key)
	values := make([]string, len(r.Values))
	for i, v := range r.Values {
		values[i] = c(v)
	}
	r.Values = values
	return r
}
