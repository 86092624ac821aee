package dynamostore

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
)

// Large text attributes (ATTOM's raw blocks, a record's unified property, a lead's score
// breakdown) are stored deflated in a binary attribute named with a "_z" suffix: JSON
// shrinks to a fraction, and a write costs a unit per started KB of the whole item, in the
// table and in every index that projects it (issue 12). Reads still accept the plain
// attribute of items written before.

// pack deflates s; nil for "" (the attribute is then left out).
func pack(s string) []byte {
	if s == "" {
		return nil
	}
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression) // the level is valid
	_, _ = w.Write([]byte(s))                             // a bytes.Buffer never fails
	_ = w.Close()
	return buf.Bytes()
}

// unpack inflates a packed attribute, or returns plain when there is none.
func unpack(name string, packed []byte, plain string) (string, error) {
	if len(packed) == 0 {
		return plain, nil
	}
	b, err := io.ReadAll(flate.NewReader(bytes.NewReader(packed)))
	if err != nil {
		return "", fmt.Errorf("attribute %s_z: %w", name, err)
	}
	return string(b), nil
}
