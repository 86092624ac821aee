package address

import (
	"slices"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// tokenize upper-cases s, strips punctuation and splits it into words, appending them to dst.
// It keeps '-' between two characters when one of them is a digit ("123-45", "4-B"), '/'
// between digits ("1/2"), and turns '#' into a word of its own. A '.' after a single letter
// joins ("P.O." -> "PO", "N.W." -> "NW"); elsewhere it separates ("ST.JAMES" -> "ST JAMES").
// All words share the memory of one cleaned string, so a call allocates once (not at all when
// s is already clean). The words may be kept: they own their memory.
func tokenize(dst []string, s string) (clean string, words []string) {
	var stack [128]byte
	var ends [64]int
	buf, bounds := scanWords(stack[:0], ends[:0], s)
	if len(bounds) == 0 {
		return "", dst
	}
	if string(buf) == s {
		clean = s // already clean: no copy
	} else {
		clean = string(buf)
	}
	for k := 0; k+1 < len(bounds); k += 2 {
		dst = append(dst, clean[bounds[k]:bounds[k+1]])
	}
	return clean, dst
}

// cleanInto is tokenize writing the cleaned text at the end of buf, the caller's scratch
// memory, instead of allocating it, and returning the start and end offsets of each word in
// clean instead of the words: the caller cuts the words into an array of its own (a function
// that stored them into the caller's array would move clean, and so buf, to the heap). It
// returns buf extended past the text. clean views buf (or is s itself when s is already
// clean): the caller must only append to buf while it uses clean, and must copy what it keeps
// once buf's memory is gone (a stack array that goes out of scope).
func cleanInto(buf []byte, ends []int, s string) (rest []byte, clean string, bounds []int) {
	start := len(buf)
	buf, bounds = scanWords(buf, ends, s)
	if len(bounds) == 0 {
		return buf[:start], "", bounds
	}
	if string(buf[start:]) == s {
		clean, buf = s, buf[:start] // already clean: view s itself
	} else {
		clean = unsafeString(buf[start:])
	}
	for k := range bounds {
		bounds[k] -= start
	}
	return buf, clean, bounds
}

// scanWords appends the cleaned text of s to buf (tokenize's rules) and the start and end
// offsets in buf of each word to bounds.
func scanWords(buf []byte, bounds []int, s string) ([]byte, []int) {
	if b, bd, ok := scanPlain(buf, bounds, s); ok {
		return b, bd
	}
	return scanAny(buf, bounds, s)
}

// scanAny is scanWords for any text, a byte or rune at a time.
func scanAny(buf []byte, bounds []int, s string) ([]byte, []int) {
	start := len(buf)
	wordStart := -1 // index in buf where the current word starts, -1 between words
	for i := 0; i < len(s); {
		c := s[i]
		if class := byteClass[c]; class == classWordByte && wordStart >= 0 {
			buf = append(buf, c&^lowerBit(c)) // fast path: inside a word
			i++
			continue
		}
		var r rune
		if c >= utf8.RuneSelf {
			var size int
			r, size = utf8.DecodeRuneInString(s[i:])
			i += size
			if r == utf8.RuneError || !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				c = ' ' // a separator
			}
		} else {
			i++
			if c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
		}
		switch {
		case r != 0 && c != ' ' || c >= 'A' && c <= 'Z' || isDigit(c):
			if wordStart < 0 {
				if len(buf) > start {
					buf = append(buf, ' ')
				}
				wordStart = len(buf)
			}
			if r != 0 {
				buf = utf8.AppendRune(buf, unicode.ToUpper(r))
			} else {
				buf = append(buf, c)
			}
		case c == '-' && wordStart >= 0 && i < len(s) && isAlnum(s[i]) &&
			(isDigit(buf[len(buf)-1]) || isDigit(s[i])):
			buf = append(buf, '-')
		case c == '/' && wordStart >= 0 && i < len(s) && isDigit(s[i]) && isDigit(buf[len(buf)-1]):
			buf = append(buf, '/')
		case c == '\'':
			// O'BRIEN -> OBRIEN
		case c == '.' && wordStart >= 0 && len(buf)-wordStart == 1 && isLetter(buf[wordStart]):
			// single-letter abbreviation: join with what follows
		default:
			if wordStart >= 0 {
				bounds = append(bounds, wordStart, len(buf))
				wordStart = -1
			}
			if c == '#' {
				if len(buf) > start {
					buf = append(buf, ' ')
				}
				bounds = append(bounds, len(buf), len(buf)+1)
				buf = append(buf, '#')
			}
		}
	}
	if wordStart >= 0 {
		bounds = append(bounds, wordStart, len(buf))
	}
	return buf, bounds
}

// scanPlain is scanWords for the common plain text: ASCII letters and digits in words that
// single spaces separate ("123 N Main St", "Springfield"), where a word may end in a period
// ("St. Louis", "N. Main St."; scanAny drops such a period too). It copies and upper-cases s
// in one tight loop and reports false, having appended nothing, for anything else.
func scanPlain(buf []byte, bounds []int, s string) ([]byte, []int, bool) {
	if s == "" || s[0] == ' ' || s[0] == '.' || s[len(s)-1] == ' ' {
		return buf, bounds, false
	}
	start, given := len(buf), bounds
	buf = slices.Grow(buf, len(s))
	out := buf[start : start+len(s)]
	n, wordStart := 0, 0 // bytes written, start of the current word (both from start)
	for i := 0; i < len(s); i++ {
		c := plainUpper[s[i]]
		switch c {
		case 0:
			return buf[:start], given, false
		case ' ':
			if s[i-1] == ' ' { // i > 0: s does not start with a space
				return buf[:start], given, false
			}
			bounds = append(bounds, start+wordStart, start+n)
			wordStart = n + 1
		case '.':
			if s[i-1] == ' ' || s[i-1] == '.' || i+1 < len(s) && s[i+1] != ' ' {
				return buf[:start], given, false // not a period that ends a word
			}
			continue
		}
		out[n] = c
		n++
	}
	return buf[:start+n], append(bounds, start+wordStart, start+n), true
}

// plainUpper maps the bytes scanPlain accepts to their cleaned form (ASCII letters upper
// case, digits, space and period as they are) and every other byte to 0.
var plainUpper = func() (t [256]byte) {
	for c := 0; c < 256; c++ {
		switch {
		case c >= 'a' && c <= 'z':
			t[c] = byte(c) - ('a' - 'A')
		case c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ' ' || c == '.':
			t[c] = byte(c)
		}
	}
	return t
}()

// cleanText normalizes free text such as a city: upper case, no punctuation, single spaces.
func cleanText(s string) string {
	var stack [16]string
	clean, words := tokenize(stack[:0], s)
	return joinWords(clean, words)
}

// joinWords joins words with single spaces. When they are consecutive words of clean (the
// string tokenize returned), the result is a substring of clean and costs no allocation.
func joinWords(clean string, words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	if s, ok := contiguous(clean, words); ok {
		return s
	}
	n := len(words) - 1
	for _, w := range words {
		n += len(w)
	}
	b := make([]byte, 0, n)
	for i, w := range words {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, w...)
	}
	return string(b)
}

// Byte classes for tokenize's fast path.
const (
	classOther    = 0
	classWordByte = 1 // ASCII letter or digit
)

var byteClass = func() (t [256]byte) {
	for c := 0; c < 256; c++ {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			t[c] = classWordByte
		}
	}
	return t
}()

// lowerBit is the bit that makes an ASCII letter lower case, 0 for other bytes.
func lowerBit(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return 0x20
	}
	return 0
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }
func isAlnum(c byte) bool  { return isDigit(c) || isLetter(c) }

// hasDigit reports whether a word contains a digit.
func hasDigit(w string) bool {
	for i := 0; i < len(w); i++ {
		if isDigit(w[i]) {
			return true
		}
	}
	return false
}

// allDigits reports whether a non-empty word is only digits.
func allDigits(w string) bool {
	if w == "" {
		return false
	}
	for i := 0; i < len(w); i++ {
		if !isDigit(w[i]) {
			return false
		}
	}
	return true
}

// contiguous returns words as one substring of clean when they lie one space apart in it.
func contiguous(clean string, words []string) (string, bool) {
	if clean == "" {
		return "", false
	}
	base := uintptr(unsafe.Pointer(unsafe.StringData(clean)))
	offset := func(w string) int {
		p := uintptr(unsafe.Pointer(unsafe.StringData(w)))
		if len(w) == 0 || p < base || p+uintptr(len(w)) > base+uintptr(len(clean)) {
			return -1
		}
		return int(p - base)
	}
	start := offset(words[0])
	if start < 0 {
		return "", false
	}
	end := start + len(words[0])
	for _, w := range words[1:] {
		if offset(w) != end+1 || clean[end] != ' ' {
			return "", false
		}
		end += 1 + len(w)
	}
	return clean[start:end], true
}
