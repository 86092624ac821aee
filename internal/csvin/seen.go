package csvin

import (
	"hash/maphash"
	"math"
)

// Seen remembers which dedupe keys a file has already produced and on which line, in about
// 16 bytes a key whatever the key's length.
//
// Its memory is bounded: once its tables would take more than a budget of heap (see
// SetMemoryBudget), new tables are mapped from a temporary file instead (see spillFile), whose
// pages the kernel caches while memory is free and writes back when it is not. The process's
// own memory then stays flat however many rows the file has; the file costs about 16 bytes of
// disk a row. Close releases it.
//
// It stores a 64-bit hash of each key, not the key. Two different keys collide with
// probability about n²/2⁶⁵: 3·10⁻⁸ for a million rows, 3·10⁻⁶ for ten million. A collision
// would mark a row as a duplicate of an unrelated one; at these odds that is accepted in
// exchange for memory that does not grow with key length. The hash seed is random per Seen,
// so a collision is not reproducible from one run to the next.
//
// The set is 256 open-addressing tables picked by the hash's top byte. A row costs one hash
// and one probe sequence (a Go map takes a lookup and then an insert: two). Each table grows
// by half on its own, and the tables start at different sizes so that they do not all grow
// at the same moment: growing never holds more than a small part of the set twice (one
// table doubling would briefly need the old and the new array, and peak memory would jump).
type Seen struct {
	seed   maphash.Seed
	shards [seenShards]seenShard
	n      int
	hint   int // slots the tables start with, at least
	// reserved is the size Reserve asked for: a table smaller than it grows to it at once,
	// without the stagger (the rows are known, not guessed).
	reserved int
	touched  uint32 // sum of the slots touch loaded, kept so that the compiler keeps the loads
	// budget is the bytes of heap the tables may take (negative: no limit); heapBytes what
	// they take now. spill holds the tables past the budget, nil until the first one.
	budget, heapBytes int
	spill             *spillFile
	tempDir           string
}

// DefaultSeenBudget is the heap a Seen's tables may take before they go to a temporary file:
// about 260,000 keys, so most files never touch the disk.
const DefaultSeenBudget = 4 << 20

const (
	seenShardBits = 8
	seenShards    = 1 << seenShardBits
	minShardSlots = 16
)

// seenShard is one linear-probing table; hash 0 marks an empty slot. A hash's home slot is
// its low 32 bits scaled to the table's length, so any length works.
type seenShard struct {
	slots []seenSlot // nil until first used
	used  int
}

// seenSlot packs a 64-bit key hash and a line into 12 bytes (a struct of uint64 and int32
// would be padded to 16).
type seenSlot [3]uint32

func (s *seenSlot) hash() uint64 { return uint64(s[0]) | uint64(s[1])<<32 }

// NewSeen returns an empty set; sizeHint (may be 0) avoids rehashing when the row count is
// known.
func NewSeen(sizeHint int) *Seen {
	slots := max(minShardSlots, (sizeHint/seenShards+1)*4/3+1)
	return &Seen{seed: maphash.MakeSeed(), hint: slots, budget: DefaultSeenBudget}
}

// SetMemoryBudget sets the bytes of heap the set's tables may take (negative: no limit) and
// the directory of the temporary file that takes the rest ("" for os.TempDir). Call it before
// the first Add.
func (s *Seen) SetMemoryBudget(bytes int, tempDir string) {
	s.budget, s.tempDir = bytes, tempDir
}

// Close removes the temporary file, if the set made one, and empties the set.
func (s *Seen) Close() error {
	for i := range s.shards {
		s.shards[i] = seenShard{}
	}
	s.n, s.heapBytes = 0, 0
	if s.spill == nil {
		return nil
	}
	err := s.spill.close()
	s.spill = nil
	return err
}

// Spilled tells whether the set has gone past its budget into a temporary file.
func (s *Seen) Spilled() bool { return s.spill != nil }

// Add records key as seen on line. If the key was seen before it returns the first line it
// was seen on and true, and keeps the first line.
func (s *Seen) Add(key string, line int) (firstLine int, duplicate bool) {
	return s.add(s.hash(key), line)
}

// hash is the 64-bit hash the set stores for key; never 0.
func (s *Seen) hash(key string) uint64 {
	h := maphash.String(s.seed, key)
	if h == 0 {
		h = 1 // 0 marks empty slots; folding it into 1 adds a 2⁻⁶⁴ chance of collision
	}
	return h
}

// touch loads the slot where the lookup of each hash starts (0 is skipped), so that a
// following add of the hash finds it in the CPU cache. The loop does nothing else, so that the
// CPU has the loads of many hashes, and their cache misses, in flight at once.
func (s *Seen) touch(hashes []uint64) {
	var sum uint32
	for _, h := range hashes {
		sh := &s.shards[h>>(64-seenShardBits)]
		if h != 0 && len(sh.slots) > 0 {
			sum += sh.slots[sh.home(h)][0]
		}
	}
	s.touched += sum
}

// add is Add for a key's hash.
func (s *Seen) add(h uint64, line int) (firstLine int, duplicate bool) {
	shard := h >> (64 - seenShardBits)
	sh := &s.shards[shard]
	if (sh.used+1)*4 > len(sh.slots)*3 {
		s.grow(sh, max(s.reserved, s.hint+int(shard%16)*s.hint/16))
	}
	for i := sh.home(h); ; {
		slot := &sh.slots[i]
		switch slot.hash() {
		case h:
			return int(slot[2]), true
		case 0:
			*slot = seenSlot{uint32(h), uint32(h >> 32), uint32(min(line, math.MaxInt32))}
			sh.used++
			s.n++
			return line, false
		}
		if i++; i == len(sh.slots) {
			i = 0
		}
	}
}

// Reserve prepares the set for about rows keys in all, so that it stops growing step by step
// (each step re-inserts a table's entries). A reader calls it once it can estimate the file's
// row count; a table already larger is left alone, and a smaller one grows to the reserved
// size the next time it fills.
func (s *Seen) Reserve(rows int) {
	s.reserved = max(s.reserved, (rows/seenShards+1)*4/3+1)
}

// home is the slot where the probe for hash h starts.
func (sh *seenShard) home(h uint64) int {
	return int(uint64(uint32(h)) * uint64(len(sh.slots)) >> 32)
}

// grow makes a table half as large again (or creates it with initial slots) and re-inserts
// its entries.
func (s *Seen) grow(sh *seenShard, initial int) {
	old := sh.slots
	sh.slots = s.allocate(max(initial, len(old)+len(old)/2))
	sh.rehash(old)
	s.release(old)
}

// allocate returns n empty slots: from the heap while the budget allows, else from the
// temporary file. If the file cannot be made or grown, the heap takes them after all: memory
// then grows past the budget, but no answer is lost.
func (s *Seen) allocate(n int) []seenSlot {
	bytes := n * seenSlotBytes
	if s.budget < 0 || s.heapBytes+bytes <= s.budget {
		s.heapBytes += bytes
		return make([]seenSlot, n)
	}
	if s.spill == nil {
		s.spill, _ = newSpillFile(s.tempDir)
	}
	if s.spill != nil {
		if slots, err := s.spill.allocate(n); err == nil {
			return slots
		}
	}
	s.heapBytes += bytes
	return make([]seenSlot, n)
}

// release gives back a table that grow has replaced.
func (s *Seen) release(slots []seenSlot) {
	if len(slots) == 0 {
		return
	}
	if s.spill == nil || !s.spill.release(slots) {
		s.heapBytes -= len(slots) * seenSlotBytes
	}
}

const seenSlotBytes = 12

// rehash inserts the entries of an old table into the (empty, larger) current one.
func (sh *seenShard) rehash(old []seenSlot) {
	for k := range old {
		h := old[k].hash()
		if h == 0 {
			continue
		}
		i := sh.home(h)
		for sh.slots[i].hash() != 0 {
			if i++; i == len(sh.slots) {
				i = 0
			}
		}
		sh.slots[i] = old[k]
	}
}

// Len is the number of distinct keys seen.
func (s *Seen) Len() int { return s.n }
