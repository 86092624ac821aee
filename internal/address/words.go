package address

import (
	"math/bits"
	"strings"
	"unsafe"
)

// wordInfo is what the Pub 28 tables say about one upper-case word (or a multi-word name such
// as "US HIGHWAY" or "NEW YORK"). The parser asks about each word several times (suffix?
// directional? unit designator?); one entry answers all of it.
type wordInfo struct {
	word        string
	suffix      string // standard suffix abbreviation ("AVENUE" -> "AVE"), "" if none
	dir         string // directional abbreviation ("NORTH" -> "N"), "" if none
	ordinal     string // numeric ordinal ("FIRST" -> "1ST"), "" if none
	unit        unitDesignator
	routePrefix string // numbered-route name ("HIGHWAY" -> "HWY"), "" if none
	isRoute     bool   // routePrefix is set (some route names map to themselves)
	routeFirst  bool   // first word of some route prefix
	routeSuffix bool   // a suffix abbreviation that a route number follows ("HWY")
	state       string // two-letter state code, "" if none
}

// noWord answers for a word in no table.
var noWord wordInfo

// wordTable is an open-addressing hash table over every key of the Pub 28 tables. Go's map
// hashes a string with a general-purpose function on every lookup; the parser makes a dozen
// lookups per address, and on these short keys a simple rotate-xor hash with one multiply
// and a linear probe is several times cheaper.
type wordTable struct {
	slots   []uint32 // tag<<16 | index+1 into entries; 0 is an empty slot
	entries []wordInfo
	shift   uint // 64 - log2(len(slots))
}

// words holds every known word; built once from the tables in tables.go.
var words = buildWordTable()

// lookupWord returns what the tables know about w, or &noWord.
func lookupWord(w string) *wordInfo { return lookupHashed(w, wordHash(w)) }

// lookupHashed is lookupWord for a caller that has computed wordHash(w) while scanning w.
func lookupHashed(w string, h uint64) *wordInfo {
	t := &words
	mask := len(t.slots) - 1
	tag := wordTag(h)
	for i := int(h >> t.shift); ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return &noWord
		}
		if s>>16 != tag {
			continue // another word: no need to read its entry
		}
		if e := &t.entries[s&0xffff-1]; e.word == w {
			return e
		}
	}
}

// wordTag is 16 bits of h that the slot index does not use, kept in the slot so that a probe
// reads an entry only when its word very likely matches.
func wordTag(h uint64) uint32 { return uint32(h>>32) & 0xffff }

// wordHash mixes the bytes of w; for words of up to 8 bytes the rotate-xor step is
// collision-free, and the final multiply spreads them over the high bits used as the index.
func wordHash(w string) uint64 {
	x := uint64(len(w))
	for i := 0; i < len(w); i++ {
		x = bits.RotateLeft64(x, 8) ^ uint64(w[i])
	}
	return x * wordHashMultiplier
}

// wordHashMultiplier is the odd constant (2⁶⁴ divided by the golden ratio) of wordHash.
const wordHashMultiplier = 0x9E3779B97F4A7C15

func buildWordTable() wordTable {
	byWord := make(map[string]*wordInfo)
	get := func(w string) *wordInfo {
		e := byWord[w]
		if e == nil {
			e = &wordInfo{word: w}
			byWord[w] = e
		}
		return e
	}
	for w, abbr := range suffixes {
		get(w).suffix = abbr
	}
	for w, abbr := range directionals {
		get(w).dir = abbr
	}
	for w, o := range ordinals {
		get(w).ordinal = o
	}
	for w, d := range unitDesignators {
		get(w).unit = d
	}
	for w, c := range routePrefixes {
		e := get(w)
		e.routePrefix, e.isRoute = c, true
	}
	for w := range routeFirstWords {
		get(w).routeFirst = true
	}
	for w := range routeSuffixes {
		get(w).routeSuffix = true
	}
	for w, code := range states {
		get(w).state = code
	}
	size := 1
	for size < 4*len(byWord) {
		size *= 2
	}
	t := wordTable{slots: make([]uint32, size), shift: uint(64 - bits.TrailingZeros(uint(size)))}
	for _, e := range byWord {
		t.entries = append(t.entries, *e)
		mask := size - 1
		h := wordHash(e.word)
		i := int(h >> t.shift)
		for t.slots[i] != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = wordTag(h)<<16 | uint32(len(t.entries))
	}
	return t
}

// unsafeString views b as a string without copying. The caller must never change those bytes
// of b afterwards (append-only scratch memory, or a lookup that does not keep the string).
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// trimSpace is strings.TrimSpace with the answer for the common field inlined: one that starts
// and ends with a printable ASCII character other than space has nothing to trim (a Unicode
// space starts and ends with bytes of 0x80 and above).
func trimSpace(s string) string {
	if len(s) > 0 && s[0]-0x21 < 0x5e && s[len(s)-1]-0x21 < 0x5e {
		return s
	}
	return strings.TrimSpace(s)
}
