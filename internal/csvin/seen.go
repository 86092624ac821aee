package csvin

import (
	"hash/maphash"
	"math"
)

// Seen remembers which dedupe keys a file has already produced and on which line, in about
// 20 bytes a key whatever the key's length, so a million-row file costs ~20-40 MB here.
//
// It stores a 64-bit hash of each key, not the key. Two different keys collide with
// probability about n²/2⁶⁵: 3·10⁻⁸ for a million rows, 3·10⁻⁶ for ten million. A collision
// would mark a row as a duplicate of an unrelated one; at these odds that is accepted in
// exchange for memory that does not grow with key length. The hash seed is random per Seen,
// so a collision is not reproducible from one run to the next.
type Seen struct {
	seed  maphash.Seed
	first map[uint64]int32
}

// NewSeen returns an empty set; sizeHint (may be 0) avoids rehashing when the row count is
// known.
func NewSeen(sizeHint int) *Seen {
	return &Seen{seed: maphash.MakeSeed(), first: make(map[uint64]int32, sizeHint)}
}

// Add records key as seen on line. If the key was seen before it returns the first line it
// was seen on and true, and keeps the first line.
func (s *Seen) Add(key string, line int) (firstLine int, duplicate bool) {
	h := maphash.String(s.seed, key)
	if first, ok := s.first[h]; ok {
		return int(first), true
	}
	s.first[h] = int32(min(line, math.MaxInt32))
	return line, false
}

// Len is the number of distinct keys seen.
func (s *Seen) Len() int { return len(s.first) }
