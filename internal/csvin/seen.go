package csvin

import (
	"hash/maphash"
	"math"
)

// Seen remembers which dedupe keys a file has already produced and on which line, in about
// 12-24 bytes a key whatever the key's length, so a million-row file costs ~24 MB here.
//
// It stores a 64-bit hash of each key, not the key. Two different keys collide with
// probability about n²/2⁶⁵: 3·10⁻⁸ for a million rows, 3·10⁻⁶ for ten million. A collision
// would mark a row as a duplicate of an unrelated one; at these odds that is accepted in
// exchange for memory that does not grow with key length. The hash seed is random per Seen,
// so a collision is not reproducible from one run to the next.
//
// The set is an open-addressing table (linear probing, at most 3/4 full) rather than a Go
// map: one probe sequence answers "seen before?" and inserts, where a map needs a lookup and
// an assignment, and a slot costs 12 bytes.
type Seen struct {
	seed   maphash.Seed
	hashes []uint64 // 0 marks an empty slot; a key hashing to 0 is stored as 1
	lines  []int32
	count  int
	shift  uint // 64 - log2(len(hashes)): the slot of h is h >> shift
}

// NewSeen returns an empty set; sizeHint (may be 0) avoids rehashing when the row count is
// known.
func NewSeen(sizeHint int) *Seen {
	s := &Seen{seed: maphash.MakeSeed()}
	s.resize(max(sizeHint, 0))
	return s
}

// Add records key as seen on line. If the key was seen before it returns the first line it
// was seen on and true, and keeps the first line.
func (s *Seen) Add(key string, line int) (firstLine int, duplicate bool) {
	h := maphash.String(s.seed, key)
	if h == 0 {
		h = 1
	}
	mask := len(s.hashes) - 1
	i := int(h >> s.shift)
	for {
		switch s.hashes[i] {
		case h:
			return int(s.lines[i]), true
		case 0:
			if 4*(s.count+1) > 3*len(s.hashes) {
				s.resize(2 * s.count)
				return s.insert(h, line), false
			}
			s.hashes[i], s.lines[i] = h, int32(min(line, math.MaxInt32))
			s.count++
			return line, false
		}
		i = (i + 1) & mask
	}
}

// insert stores a hash known to be absent and returns line.
func (s *Seen) insert(h uint64, line int) int {
	mask := len(s.hashes) - 1
	i := int(h >> s.shift)
	for s.hashes[i] != 0 {
		i = (i + 1) & mask
	}
	s.hashes[i], s.lines[i] = h, int32(min(line, math.MaxInt32))
	s.count++
	return line
}

// resize makes room for at least n keys and moves the existing ones over.
func (s *Seen) resize(n int) {
	size, bits := 16, uint(4)
	for 3*size < 4*(n+1) {
		size, bits = 2*size, bits+1
	}
	oldHashes, oldLines := s.hashes, s.lines
	s.hashes, s.lines = make([]uint64, size), make([]int32, size)
	s.shift, s.count = 64-bits, 0
	for i, h := range oldHashes {
		if h != 0 {
			s.insert(h, int(oldLines[i]))
		}
	}
}

// Len is the number of distinct keys seen.
func (s *Seen) Len() int { return s.count }
