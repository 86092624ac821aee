//go:build !unix

package csvin

import "errors"

// spillFile is not built on this platform: a Seen past its budget keeps growing on the heap.
type spillFile struct{}

func newSpillFile(string) (*spillFile, error) {
	return nil, errors.New("temporary-file tables need a unix system")
}

func (*spillFile) allocate(int) ([]seenSlot, error) { return nil, errors.New("not supported") }
func (*spillFile) release([]seenSlot) bool          { return false }
func (*spillFile) close() error                     { return nil }
