package csvgen

import (
	"bytes"
	"encoding/csv"
	"io"
	"testing"
)

func TestWriteIsDeterministicAndCounts(t *testing.T) {
	cfg := Config{Rows: 2000, Seed: 7, BadShare: 0.1, DuplicateShare: 0.05}
	var a, b bytes.Buffer
	ca, err := Write(&a, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Write(&b, cfg); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same seed gave different files")
	}
	if ca.Rows != 2000 || ca.Good+ca.Bad+ca.Duplicates != ca.Rows || ca.Bad == 0 || ca.Duplicates == 0 {
		t.Fatalf("counts %+v", ca)
	}
	recs, err := csv.NewReader(&a).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2001 {
		t.Fatalf("%d records, want header + 2000", len(recs))
	}
	var c bytes.Buffer
	if _, err := Write(&c, Config{Rows: 2000, Seed: 8}); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Fatal("different seeds gave the same file")
	}
}

func TestReaderStreamsInSmallReads(t *testing.T) {
	r := NewReader(Config{Rows: 500, Seed: 1, OneLine: true})
	var out bytes.Buffer
	p := make([]byte, 7)
	for {
		n, err := r.Read(p)
		out.Write(p[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil || len(recs) != 501 || recs[0][0] != "full_address" {
		t.Fatalf("%d records, %v", len(recs), err)
	}
}
