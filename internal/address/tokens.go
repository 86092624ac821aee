package address

import (
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// tokenize upper-cases s, strips punctuation and splits it into words, appending them to dst.
// It keeps '-' between two characters when one of them is a digit ("123-45", "4-B"), '/'
// between digits ("1/2"), and turns '#' into a word of its own. A '.' after a single letter
// joins ("P.O." -> "PO", "N.W." -> "NW"); elsewhere it separates ("ST.JAMES" -> "ST JAMES").
// All words share the memory of one cleaned string, so a call allocates once.
func tokenize(dst []string, s string) (clean string, words []string) {
	var t tokenizer
	t.buf = t.stack[:0]
	if len(s) > len(t.stack) {
		t.buf = make([]byte, 0, len(s)+8)
	}
	t.bounds = t.ends[:0]
	t.wordStart = -1
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			i += size
			if r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
				t.startWord()
				t.buf = utf8.AppendRune(t.buf, unicode.ToUpper(r))
			} else {
				t.endWord()
			}
			continue
		}
		i++
		switch {
		case c >= 'a' && c <= 'z':
			t.startWord()
			t.buf = append(t.buf, c-'a'+'A')
		case c >= 'A' && c <= 'Z' || isDigit(c):
			t.startWord()
			t.buf = append(t.buf, c)
		case c == '#':
			t.endWord()
			t.startWord()
			t.buf = append(t.buf, '#')
			t.endWord()
		case c == '-' && t.wordStart >= 0 && i < len(s) && isAlnum(s[i]) &&
			(isDigit(t.buf[len(t.buf)-1]) || isDigit(s[i])):
			t.buf = append(t.buf, '-')
		case c == '/' && t.wordStart >= 0 && i < len(s) && isDigit(s[i]) && isDigit(t.buf[len(t.buf)-1]):
			t.buf = append(t.buf, '/')
		case c == '\'':
			// O'BRIEN -> OBRIEN
		case c == '.' && t.wordStart >= 0 && len(t.buf)-t.wordStart == 1 && isLetter(t.buf[t.wordStart]):
			// single-letter abbreviation: join with what follows
		default:
			t.endWord()
		}
	}
	t.endWord()
	if len(t.bounds) == 0 {
		return "", dst
	}
	clean = string(t.buf)
	for k := 0; k+1 < len(t.bounds); k += 2 {
		dst = append(dst, clean[t.bounds[k]:t.bounds[k+1]])
	}
	return clean, dst
}

// tokenizer holds tokenize's working state; its arrays keep short inputs off the heap.
type tokenizer struct {
	stack     [128]byte
	ends      [64]int
	buf       []byte
	bounds    []int // start and end of each word in buf
	wordStart int   // index in buf where the current word starts, -1 between words
}

func (t *tokenizer) endWord() {
	if t.wordStart >= 0 {
		t.bounds = append(t.bounds, t.wordStart, len(t.buf))
		t.wordStart = -1
	}
}

func (t *tokenizer) startWord() {
	if t.wordStart < 0 {
		if len(t.buf) > 0 {
			t.buf = append(t.buf, ' ')
		}
		t.wordStart = len(t.buf)
	}
}

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
