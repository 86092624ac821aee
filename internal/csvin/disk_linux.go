package csvin

import (
	"os"
	"syscall"
)

// punchHole frees the disk blocks of a region of f that a replaced table used, keeping the
// file's size, so that a set growing step by step holds on disk about what it uses. Where the
// file system cannot, the blocks stay until Close.
func punchHole(f *os.File, off, length int64) {
	const punchHoleKeepSize = 0x02 | 0x01 // FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
	_ = syscall.Fallocate(int(f.Fd()), punchHoleKeepSize, off, length)
}

// reserveDisk extends f by a region and allocates its disk blocks now. A write through a
// mapping into a hole of a sparse file on a full disk would kill the process with SIGBUS;
// allocated up front, a full disk is an error here instead, and the set stays on the heap.
func reserveDisk(f *os.File, off, length int64) error {
	return syscall.Fallocate(int(f.Fd()), 0, off, length)
}
