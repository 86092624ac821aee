package address

import (
	"strconv"
)

// parseZIP splits "62701", "62701-1234", "627011234" or "62701 1234" into ZIP5 and ZIP4.
// An empty ZIP is allowed; anything else is a *FieldError on "zip".
func parseZIP(raw string) (zip5, zip4 string, fe *FieldError) {
	z := trimSpace(raw)
	switch {
	case z == "":
		return "", "", nil
	case len(z) == 5 && allDigits(z):
		return z, "", nil
	case len(z) == 9 && allDigits(z):
		return z[:5], z[5:], nil
	case len(z) == 10 && (z[5] == '-' || z[5] == ' ') && allDigits(z[:5]) && allDigits(z[6:]):
		return z[:5], z[6:], nil
	case len(z) == 6 && z[5] == '-' && allDigits(z[:5]):
		return z[:5], "", nil
	}
	return "", "", &FieldError{Field: "zip", Reason: "invalid ZIP " + quote(raw)}
}

// isZIPWord recognizes a ZIP written as one word inside a one-line address.
func isZIPWord(w string) bool {
	_, _, fe := parseZIP(w)
	return fe == nil
}

// parseState turns a code or a name ("il", "Illinois", "N. Dak.") into the two-letter code.
// An empty state is allowed here; an unknown one is a *FieldError on "state".
func parseState(raw string) (string, *FieldError) {
	s := trimSpace(raw)
	if s == "" {
		return "", nil
	}
	if len(s) == 2 && isLetter(s[0]) && isLetter(s[1]) {
		code := [2]byte{s[0] &^ 0x20, s[1] &^ 0x20} // ASCII upper case
		if c := lookupWord(unsafeString(code[:])).state; c != "" {
			return c, nil
		}
	}
	if name, ok := upperWords(s); ok {
		if c := lookupWord(unsafeString(name.b[:name.n])).state; c != "" {
			return c, nil
		}
	} else if c := lookupWord(cleanText(s)).state; c != "" {
		return c, nil
	}
	return "", &FieldError{Field: "state", Reason: "unknown state " + quote(raw)}
}

// wordBuf holds a short upper-cased name on the stack.
type wordBuf struct {
	b [32]byte
	n int
}

// upperWords upper-cases a name made only of ASCII letters and single spaces ("New York"), the
// common case, without allocating. It reports false for anything else (punctuation, other
// characters, repeated spaces, too long), which then takes the general cleanText path.
func upperWords(s string) (wordBuf, bool) {
	var w wordBuf
	if len(s) > len(w.b) {
		return w, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		case c >= 'A' && c <= 'Z':
		case c == ' ' && i > 0 && s[i-1] != ' ' && i < len(s)-1:
		default:
			return w, false
		}
		w.b[i] = c
	}
	w.n = len(s)
	return w, true
}

// parseCity cleans a city name: upper case, no punctuation, single spaces. The text lives in
// buf (see tokenizeInto), which it returns extended.
func parseCity(buf []byte, raw string) ([]byte, string, *FieldError) {
	if b, city, ok := plainCity(buf, raw); ok {
		return b, city, nil
	}
	return parseAnyCity(buf, raw)
}

// parseAnyCity is parseCity for any text.
func parseAnyCity(buf []byte, raw string) ([]byte, string, *FieldError) {
	var ends [16]int
	buf, clean, bounds := cleanInto(buf, ends[:0], raw)
	var stack [8]string
	total := len(bounds) / 2
	for k := range min(total, len(stack)) {
		stack[k] = clean[bounds[2*k]:bounds[2*k+1]]
	}
	words := stack[:min(total, len(stack))]
	if total > maxFieldWords {
		return buf, "", &FieldError{Field: "city", Reason: "city has too many words"}
	}
	if total > len(words) { // more words than the stack holds: rare, take owned copies
		clean, words = tokenize(make([]string, 0, total), raw)
	}
	return buf, joinWords(clean, words), nil
}

// quote renders a bad value for a reason, cut short so a giant field stays readable.
func quote(s string) string {
	const max = 40
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strconv.Quote(s)
}
