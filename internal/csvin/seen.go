package csvin

import "hash/maphash"

// Seen remembers which dedupe keys a file has already produced and on which line.
//
// It keeps a 64-bit hash of each key in a Go map, whatever the key's length: 20 to 40 bytes a
// unique address as the map fills and grows (measured: 36 MB at a million, 144 MB at four
// million; see docs/benchmarks.md). That is its limit: ten million unique addresses take up
// to about 380 MB and twenty million (about the most a 1 GiB file, MaxFileBytes, can hold)
// up to about 760 MB, inside the Prepare Lambda's 1,769 MB; past that, split the file.
//
// Two different keys share a hash with probability about n²/2⁶⁵: 3·10⁻⁸ for a million rows,
// 3·10⁻⁶ for ten million. Such a row would be marked a duplicate of an unrelated one; at
// these odds that is accepted for memory that does not grow with the keys' length.
type Seen struct {
	seed  maphash.Seed
	first map[uint64]int
}

// NewSeen returns an empty set.
func NewSeen() *Seen {
	return &Seen{seed: maphash.MakeSeed(), first: map[uint64]int{}}
}

// Add records key as seen on line. If the key was seen before it returns the first line it
// was seen on and true, and keeps the first line.
func (s *Seen) Add(key string, line int) (firstLine int, duplicate bool) {
	h := maphash.String(s.seed, key)
	if first, ok := s.first[h]; ok {
		return first, true
	}
	s.first[h] = line
	return line, false
}

// Len is the number of distinct keys seen.
func (s *Seen) Len() int { return len(s.first) }
