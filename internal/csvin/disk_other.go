//go:build unix && !linux

package csvin

import "os"

// punchHole does nothing here: a replaced table's disk blocks stay until Close.
func punchHole(*os.File, int64, int64) {}

// reserveDisk extends f by a region. The blocks are allocated as the set writes to them, so
// a full disk at that moment stops the process (SIGBUS); Linux allocates them up front.
func reserveDisk(f *os.File, off, length int64) error {
	return f.Truncate(off + length)
}
