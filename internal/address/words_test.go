package address

import (
	"fmt"
	"strings"
	"testing"
)

// TestWordTableAgreesWithTables checks that the combined word table answers exactly what the
// Pub 28 tables say, for every key of every table, and nothing for unknown words.
func TestWordTableAgreesWithTables(t *testing.T) {
	check := func(table, w, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s[%q]: word table says %q, want %q", table, w, got, want)
		}
	}
	for w, abbr := range suffixes {
		check("suffixes", w, lookupWord(w).suffix, abbr)
	}
	for w, abbr := range directionals {
		check("directionals", w, lookupWord(w).dir, abbr)
	}
	for w, o := range ordinals {
		check("ordinals", w, lookupWord(w).ordinal, o)
	}
	for w, d := range unitDesignators {
		if got := lookupWord(w).unit; got != d {
			t.Errorf("unitDesignators[%q]: word table says %+v, want %+v", w, got, d)
		}
	}
	for w, c := range routePrefixes {
		e := lookupWord(w)
		check("routePrefixes", w, e.routePrefix, c)
		if !e.isRoute {
			t.Errorf("routePrefixes[%q]: not marked as a route", w)
		}
	}
	for w := range routeFirstWords {
		if !lookupWord(w).routeFirst {
			t.Errorf("routeFirstWords[%q]: not marked", w)
		}
	}
	for w := range routeSuffixes {
		if !lookupWord(w).routeSuffix {
			t.Errorf("routeSuffixes[%q]: not marked", w)
		}
	}
	for w, code := range states {
		check("states", w, lookupWord(w).state, code)
	}
	for _, w := range []string{"", "MAIN", "SPRINGFIELD", "AVENUEX", "X", "123", "NEW", "US HWYS"} {
		if e := lookupWord(w); e != &noWord {
			t.Errorf("lookupWord(%q) = %+v, want no entry", w, *e)
		}
	}
}

// TestWordTableProbesAreShort guards the table's speed: a key should sit near its home slot.
func TestWordTableProbesAreShort(t *testing.T) {
	mask := len(words.slots) - 1
	worst := 0
	for _, e := range words.entries {
		home := int(wordHash(e.word) >> words.shift)
		for i, n := home, 0; ; i, n = (i+1)&mask, n+1 {
			if words.entries[words.slots[i]&0xffff-1].word == e.word {
				worst = max(worst, n)
				break
			}
		}
	}
	if worst > 8 {
		t.Errorf("longest probe is %d slots; the hash clusters the keys", worst)
	}
}

// TestScanPlainAgreesWithScanAny checks the plain-text fast path against the general scanner,
// on text it accepts and on text it must leave to the general one.
func TestScanPlainAgreesWithScanAny(t *testing.T) {
	for _, s := range []string{
		"123 N Main St", "Springfield", "new york", "A", "9", "123 North Main Street Apt 4B",
		"", " 12 Main", "12 Main ", "12  Main", "4567 W 42nd St. #5", "Apt-4", "1/2", "O'Brien",
		"San Germán", "St.Louis", "12\tMain", "#4",
		"St. Louis", "N. Main St.", "12. Main", "A.", "St..", "Main .St", "Main St .", "N.W. 5th",
		"P.O. Box 4", "Apt. 4", ".5 Main", "Main. ", "x.", "Ave.B",
	} {
		prefix := []byte("KEEP")
		plain, plainBounds, ok := scanPlain(prefix, nil, s)
		want, wantBounds := scanAny(prefix, nil, s)
		if !ok {
			if string(plain) != "KEEP" || len(plainBounds) != 0 {
				t.Errorf("scanPlain(%q) declined but appended %q %v", s, plain, plainBounds)
			}
			plain, plainBounds = scanWords(prefix, nil, s)
		}
		if string(plain) != string(want) || fmt.Sprint(plainBounds) != fmt.Sprint(wantBounds) {
			t.Errorf("%q: scanWords gives %q %v, scanAny %q %v", s, plain, plainBounds, want, wantBounds)
		}
	}
}

func TestTrimSpaceMatchesStrings(t *testing.T) {
	for _, s := range []string{"", " ", "a", " a", "a ", "\ta\n", "Main St", "\u00a0x", "x\u00a0", "\u2003", "é", "x\u3000", "~", "\x7f", "!x!"} {
		if got, want := trimSpace(s), strings.TrimSpace(s); got != want {
			t.Errorf("trimSpace(%q) = %q, strings.TrimSpace %q", s, got, want)
		}
	}
}
