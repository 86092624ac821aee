//go:build unix

package csvin

import (
	"errors"
	"os"
	"runtime"
	"syscall"
	"unsafe"
)

// spillFile holds the tables of a Seen that has gone past its heap budget: each table is a
// shared mapping of a region of one unlinked temporary file. The process touches the tables
// as memory, but their pages belong to the file, so the kernel may write them back and drop
// them under memory pressure instead of counting them against the process.
type spillFile struct {
	f    *os.File
	size int64                 // bytes of the file mapped so far
	maps map[*byte]spillRegion // live mappings by their first byte
}

// spillRegion is one mapping and where it lies in the file.
type spillRegion struct {
	b   []byte
	off int64
}

var pageSize = os.Getpagesize()

// newSpillFile creates the file in dir ("" for os.TempDir) and unlinks it at once, so that it
// disappears with the last mapping and descriptor even if the process dies.
func newSpillFile(dir string) (*spillFile, error) {
	f, err := os.CreateTemp(dir, "attom-batch-seen-*")
	if err != nil {
		return nil, err
	}
	if err := os.Remove(f.Name()); err != nil {
		_ = f.Close()
		return nil, err
	}
	sp := &spillFile{f: f, maps: map[*byte]spillRegion{}}
	// A Seen dropped without Close still gives its mappings and descriptor back.
	runtime.AddCleanup(sp, func(m spillMappings) { m.unmap() }, spillMappings{f: f, maps: sp.maps})
	return sp, nil
}

// allocate maps n empty slots from a new region at the end of the file.
func (sp *spillFile) allocate(n int) ([]seenSlot, error) {
	length := (n*seenSlotBytes + pageSize - 1) / pageSize * pageSize
	if err := reserveDisk(sp.f, sp.size, int64(length)); err != nil {
		return nil, err
	}
	b, err := syscall.Mmap(int(sp.f.Fd()), sp.size, length, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	sp.maps[&b[0]] = spillRegion{b: b, off: sp.size}
	sp.size += int64(length)
	return unsafe.Slice((*seenSlot)(unsafe.Pointer(&b[0])), n), nil
}

// release unmaps a table allocate returned and frees its disk blocks where the system can
// (punchHole); false if it is not one of the file's.
func (sp *spillFile) release(slots []seenSlot) bool {
	first := (*byte)(unsafe.Pointer(&slots[0]))
	r, ok := sp.maps[first]
	if ok {
		delete(sp.maps, first)
		_ = syscall.Munmap(r.b)
		punchHole(sp.f, r.off, int64(len(r.b)))
	}
	return ok
}

func (sp *spillFile) close() error {
	return spillMappings{f: sp.f, maps: sp.maps}.unmap()
}

// spillMappings is what a spillFile must give back, apart from the spillFile itself so that
// the cleanup does not keep it reachable.
type spillMappings struct {
	f    *os.File
	maps map[*byte]spillRegion
}

func (m spillMappings) unmap() error {
	var errs []error
	for first, r := range m.maps {
		errs = append(errs, syscall.Munmap(r.b))
		delete(m.maps, first)
	}
	errs = append(errs, m.f.Close())
	return errors.Join(errs...)
}
