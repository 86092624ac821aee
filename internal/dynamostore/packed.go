package dynamostore

import (
	"bytes"
	"compress/flate"
	_ "embed"
	"fmt"
	"io"
)

// Large text attributes (an answer's raw ATTOM block; a record's or a lead's document with
// the unified property or the score's breakdown) are stored deflated in a binary attribute
// named with a "_z" suffix. A write costs a unit per started KB of the whole item, in the
// table and in every index that projects it (issue 12), and these JSON texts shrink to a
// fifth or less: deflate starts from a preset dictionary, a sample of each kind (packdict.txt),
// so even one small item finds the field names it repeats. Reads still accept the plain
// attributes of items written before.
//
// A packed value is one format byte, then the deflate stream. Format 1 uses packdict.txt,
// which therefore must never change: a new dictionary is a new format byte (and file), and
// unpack keeps reading the old ones.

//go:embed packdict.txt
var packDict1 []byte

const packFormat1 = 1

// pack deflates s with the current dictionary; nil for "" (the attribute is then left out).
func pack(s string) []byte {
	if s == "" {
		return nil
	}
	buf := bytes.NewBuffer([]byte{packFormat1})
	w, _ := flate.NewWriterDict(buf, flate.BestCompression, packDict1) // the level is valid
	_, _ = w.Write([]byte(s))                                          // a bytes.Buffer never fails
	_ = w.Close()
	return buf.Bytes()
}

// unpack inflates a packed attribute, or returns plain when there is none.
func unpack(name string, packed []byte, plain string) (string, error) {
	if len(packed) == 0 {
		return plain, nil
	}
	if packed[0] != packFormat1 {
		return "", fmt.Errorf("attribute %s_z: unknown format %d", name, packed[0])
	}
	b, err := io.ReadAll(flate.NewReaderDict(bytes.NewReader(packed[1:]), packDict1))
	if err != nil {
		return "", fmt.Errorf("attribute %s_z: %w", name, err)
	}
	return string(b), nil
}
