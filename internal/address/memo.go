package address

// placeMemo remembers recent city and state spellings with what they normalized to. A file
// names far fewer places than it has rows and spells most of them the same way each time, so
// with an Arena most rows skip parsing both. It is direct-mapped by a few bytes of the text: two
// spellings that share a slot only cost each other a parse. Failures are not remembered.
type placeMemo struct {
	cities [1 << memoCityBits]memoEntry
	states [1 << memoStateBits]memoEntry
}

const (
	memoCityBits  = 8
	memoStateBits = 6
)

// memoEntry is one remembered spelling; raw and value are copies in the arena, so that the
// memo does not keep the blocks of the rows they came from in memory.
type memoEntry struct{ raw, value string }

// memoSlot picks a slot from the length and the first, second, middle and last bytes of raw
// (not empty).
func memoSlot(raw string, slotBits int) int {
	n := len(raw)
	x := uint64(n) | uint64(raw[0])<<8 | uint64(raw[n/2])<<16 | uint64(raw[n-1])<<24 | uint64(raw[min(1, n-1)])<<32
	return int(x * wordHashMultiplier >> (64 - slotBits))
}

// city is parseCity through the memo (straight parseCity without an arena).
func (ar *Arena) city(buf []byte, raw string) (string, *FieldError) {
	if ar == nil || raw == "" {
		_, city, fe := parseCity(buf, raw)
		return city, fe
	}
	e := &ar.memo.cities[memoSlot(raw, memoCityBits)]
	if e.raw == raw {
		return e.value, nil
	}
	_, city, fe := parseCity(buf, raw)
	if fe == nil {
		*e = memoEntry{raw: ar.store([]byte(raw)), value: ar.store([]byte(city))}
	}
	return city, fe
}

// state is parseState through the memo (straight parseState without an arena).
func (ar *Arena) state(raw string) (string, *FieldError) {
	if ar == nil || raw == "" {
		return parseState(raw)
	}
	e := &ar.memo.states[memoSlot(raw, memoStateBits)]
	if e.raw == raw {
		return e.value, nil
	}
	state, fe := parseState(raw)
	if fe == nil {
		*e = memoEntry{raw: ar.store([]byte(raw)), value: state} // state codes are table constants
	}
	return state, fe
}
