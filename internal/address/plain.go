package address

import (
	"math/bits"
	"slices"
)

// maxPlainNameWords bounds the words after the house number that plainStreet takes; a longer
// line takes the general parser.
const maxPlainNameWords = 8

// plainStreet is parseStreet for the common shape of a street line: a house number of ASCII
// digits, then words of ASCII letters separated by single spaces, each of which may end in a
// period ("123 N Main St", "9 Lake Shore Dr."), none of them a unit designator or a spelled
// ordinal, and not starting like a numbered route (mayBeRoute). It copies, upper-cases and hashes the words in one
// pass, looks each up once, and assigns the parts as parseNamedStreet does. For anything else
// it reports false and leaves buf as it was; the general parser then answers. When it accepts,
// its result is the general parser's (FuzzNormalize checks this): such a line is no PO box or
// rural route, its number has no fraction, and it has no unit, route or bare unit number.
func plainStreet(buf []byte, line string) ([]byte, streetLine, bool) {
	n := len(line)
	if n == 0 || !isDigit(line[0]) {
		return buf, streetLine{}, false
	}
	start := len(buf)
	buf = slices.Grow(buf, n)
	out := buf[start : start+n]
	i := 0
	for i < n && isDigit(line[i]) {
		out[i] = line[i]
		i++
	}
	o, numberEnd := i, i
	var name [maxPlainNameWords]string
	var infos [maxPlainNameWords]*wordInfo
	count := 0
	for i < n {
		if line[i] != ' ' || count == maxPlainNameWords {
			return buf[:start], streetLine{}, false
		}
		out[o] = ' '
		i, o = i+1, o+1
		at, x := o, uint64(0)
		for i < n {
			c := plainUpper[line[i]]
			if c < 'A' { // not a letter
				break
			}
			out[o] = c
			x = bits.RotateLeft64(x, 8) ^ uint64(c)
			i, o = i+1, o+1
		}
		size := o - at
		if size == 0 {
			return buf[:start], streetLine{}, false
		}
		if i < n && line[i] == '.' && (i+1 == n || line[i+1] == ' ') {
			i++ // a period that ends a word is dropped, as scanPlain does
		}
		w := unsafeString(out[at:o])
		e := lookupHashed(w, (x^bits.RotateLeft64(uint64(size), 8*size))*wordHashMultiplier)
		if e.unit.abbr != "" || e.ordinal != "" {
			return buf[:start], streetLine{}, false
		}
		name[count], infos[count] = w, e
		count++
	}
	if count == 0 || mayBeRoute(name[:count], infos[:count]) {
		return buf[:start], streetLine{}, false
	}
	clean := unsafeString(out[:o])
	st := streetLine{number: clean[:numberEnd]}
	st.street = parseNamedStreet(clean, name[:count], infos[:count], &st)
	return buf[:start+o], st, true
}

// maxPlainUnitWords bounds the words of a second-line unit that plainStreetWithUnit takes.
const maxPlainUnitWords = 8

// plainStreetWithUnit is parseStreet for a plain line 1 (see plainStreet) followed by the
// unit of line 2 as parseLine2 rendered it ("APT 4", "# 4B"), without joining the two into
// one line and parsing that again. A plain line holds no unit designator or "#", so the unit
// of the joined line starts exactly where unit2 does, and its street parts are line 1's.
// When it accepts, its result is parseAnyStreet's on the joined line (FuzzNormalize checks
// this); otherwise it reports false and leaves buf as it was.
func plainStreetWithUnit(buf []byte, line1, unit2 string) ([]byte, streetLine, bool) {
	var stack [maxPlainUnitWords]string
	n := 0
	for rest := unit2; rest != ""; n++ {
		if n == maxPlainUnitWords {
			return buf, streetLine{}, false
		}
		w := rest
		if i := indexByte(rest, ' '); i >= 0 {
			w, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		stack[n] = w // (append could grow onto the heap and take unit2's scratch with it)
	}
	words := stack[:n]
	if n == 0 || isBareUnitTail(words) || !isUnitTail(words) {
		return buf, streetLine{}, false // parseLine2 never renders a bare unit
	}
	start := len(buf)
	buf, st, ok := plainStreet(buf, line1)
	if !ok {
		return buf[:start], streetLine{}, false
	}
	buf, st.unit = renderUnits(buf, words, false)
	return buf, st, true
}

// plainCity is parseCity for the common shape of a city: ASCII letters and single spaces
// between words ("Springfield", "new york"). It upper-cases into buf (or returns raw itself
// when it is upper case already) in one pass; for anything else it reports false and the
// general parser answers. When it accepts, its result is parseCity's (FuzzNormalize checks
// this).
func plainCity(buf []byte, raw string) ([]byte, string, bool) {
	n := len(raw)
	if n == 0 || n > maxPlainCityBytes || raw[0] == ' ' || raw[n-1] == ' ' {
		return buf, "", false
	}
	lower := false
	for i := 0; i < n; i++ {
		switch c := raw[i]; {
		case c >= 'A' && c <= 'Z':
		case c >= 'a' && c <= 'z':
			lower = true
		case c == ' ' && raw[i-1] != ' ': // i > 0: raw does not start with a space
		default:
			return buf, "", false
		}
	}
	if !lower {
		return buf, raw, true
	}
	start := len(buf)
	buf = slices.Grow(buf, n)[:start+n]
	out := buf[start:]
	for i := 0; i < n; i++ {
		out[i] = plainUpper[raw[i]]
	}
	return buf, unsafeString(out), true
}

// maxPlainCityBytes bounds the cities plainCity takes, far below the general parser's word
// limit (a word and a space take at least two bytes).
const maxPlainCityBytes = 64
