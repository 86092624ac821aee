package address

import "testing"

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
			if words.entries[words.slots[i]-1].word == e.word {
				worst = max(worst, n)
				break
			}
		}
	}
	if worst > 8 {
		t.Errorf("longest probe is %d slots; the hash clusters the keys", worst)
	}
}
