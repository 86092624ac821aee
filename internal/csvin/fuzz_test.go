package csvin

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzReader feeds arbitrary bytes to the reader: it must never panic, never return a row
// out of order, and its counts must add up however broken the file is.
func FuzzReader(f *testing.F) {
	f.Add([]byte("address,city,state,zip\n1 Main St,Springfield,IL,62701\nPO Box 1,X,IL,62701\n1 main street,springfield,il,62701\n"))
	f.Add([]byte("\ufefffull_address,owner\r\n\"1 Main St, Springfield, IL 62701\",\"Smith, \"\"Jo\"\"\"\r\n\r\n"))
	f.Add([]byte("street,zip\n\"1 Main\nSt\",62701\n2 Main St,1234\n\"3 Main St,62701\n"))
	f.Add([]byte("address,unit,city,state,zip\n1 Main St,Apt 4,A,IL,\n1 Main St,#4,A,Illinois,\nx\"y,,,,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), "fuzz.csv", Options{MaxLineBytes: 1024})
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("NewReader error %v is not a *FileError", err)
			}
			return
		}
		lastLine := 0
		for i := 0; ; i++ {
			row, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				var fe *FileError
				if !errors.As(err, &fe) {
					t.Fatalf("Next error %v is not a *FileError", err)
				}
				break
			}
			if row.Line <= lastLine {
				t.Fatalf("row line %d after line %d", row.Line, lastLine)
			}
			lastLine = row.Line
			switch {
			case row.Reject != nil:
				if row.Reject.Line != row.Line || row.Reject.Reason == "" {
					t.Fatalf("reject %+v on line %d", row.Reject, row.Line)
				}
			case row.Key == "":
				t.Fatalf("line %d accepted without a key", row.Line)
			case row.DuplicateOf >= row.Line:
				t.Fatalf("line %d duplicate of later line %d", row.Line, row.DuplicateOf)
			}
		}
		c := r.Counts()
		if c.Rows != c.Accepted+c.Duplicates+c.Rejected {
			t.Fatalf("counts do not add up: %+v", c)
		}
	})
}
