package address

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// FuzzNormalize checks that no input panics, that every failure is a *FieldError naming a
// known field, and that a normalized address is a fixed point: normalizing its own one-line
// rendering, or its own parts, gives the same key.
func FuzzNormalize(f *testing.F) {
	seeds := []Input{
		{Line1: "123 North Main Street", Line2: "Apt 4", City: "Springfield", State: "IL", ZIP: "62701"},
		{Line1: "123 1/2 W 42 St #5", City: "New York", State: "new york", ZIP: "10036-1234"},
		{Line1: "1 CR 12 N", City: "Bryan", State: "TX"},
		{Line1: "PO Box 5", ZIP: "62701"},
		{Line1: "RR 2 Box 152", City: "Town", State: "KS", ZIP: "66000"},
		{OneLine: "123 Main St Apt 4, Springfield, IL 62701"},
		{OneLine: "9 Broadway, 10001"},
		{OneLine: "123 Main St Springfield IL 627011234"},
		{Line1: "N123W4567 Kennedy Space Center Blvd Bldg 3 Rear", City: "St. Louis", State: "Mo."},
		{Line1: "9 north lake shore Dr.", City: "Chicago", State: "Illinois", ZIP: "60601"},
		{Line1: "100 North St", Line2: "Apt 4", City: "Salem", State: "OR", ZIP: "97301"},
		{Line1: "100 N Main St.", Line2: "#1", City: "CHICAGO", State: "Illinois", ZIP: "60601"},
		{Line1: "12 Oak Ave", Line2: "Bldg 3 Apt 4", City: "Salem", State: "OR", ZIP: "97301"},
		{Line1: "7 Main St", Line2: "4B", City: "Salem", State: "OR", ZIP: "97301"},
		{Line2: "0", City: "NC", OneLine: "0 0 Ct 0,00000"},    // a city spelled like a state, no state
		{Line2: " ", City: "0", OneLine: "0 0 Apt Ct 0,00000"}, // a suffix after a unit designator
	}
	for _, s := range seeds {
		f.Add(s.Line1, s.Line2, s.City, s.State, s.ZIP, s.OneLine)
	}
	f.Fuzz(func(t *testing.T, line1, line2, city, state, zip, oneLine string) {
		in := Input{Line1: line1, Line2: line2, City: city, State: state, ZIP: zip, OneLine: oneLine}
		for _, line := range []string{line1, line2, city, oneLine} {
			checkPlainStreet(t, line)
		}
		checkPlainStreetWithUnit(t, line1, line2)
		checkPlainCity(t, city)
		a, err := Normalize(in)
		checkWithKey(t, in, a, err)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FieldError", err)
			}
			switch fe.Field {
			case "address", "city", "state", "zip":
			default:
				t.Fatalf("unknown field %q", fe.Field)
			}
			return
		}
		checkNormalized(t, a)
		// A city spelled like a state, given without a state, reads back from the one-line
		// form as the state ("..., NC 00000"): that form cannot tell them apart.
		if a.State != "" || lookupWord(a.City).state == "" {
			again, err := Normalize(Input{OneLine: a.OneLine()})
			if err != nil {
				t.Fatalf("re-normalizing %q: %v", a.OneLine(), err)
			}
			if again.Key() != a.Key() {
				t.Fatalf("key of %q changed: %q -> %q", a.OneLine(), a.Key(), again.Key())
			}
		}
		parts, err := Normalize(Input{Line1: a.Line1, Line2: a.Unit, City: a.City, State: a.State, ZIP: a.ZIP5})
		if err != nil || parts.Key() != a.Key() {
			t.Fatalf("re-normalizing parts of %+v: %+v, %v", a, parts, err)
		}
	})
}

func checkNormalized(t *testing.T, a Address) {
	t.Helper()
	if a.Line1 == "" {
		t.Fatalf("empty Line1 in %+v", a)
	}
	if a.State != "" && len(a.State) != 2 {
		t.Fatalf("state %q is not two letters", a.State)
	}
	if a.ZIP5 != "" && (len(a.ZIP5) != 5 || !allDigits(a.ZIP5)) || a.ZIP4 != "" && (len(a.ZIP4) != 4 || !allDigits(a.ZIP4)) {
		t.Fatalf("bad ZIP %q-%q", a.ZIP5, a.ZIP4)
	}
	for _, s := range []string{a.Line1, a.Unit, a.City} {
		if !utf8.ValidString(s) {
			t.Fatalf("invalid UTF-8 %q", s)
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; c >= 'a' && c <= 'z' || c == ',' || c == '.' {
				t.Fatalf("%q is not normalized", s)
			}
		}
	}
}

// checkPlainStreet checks the fast path's promise: when plainStreet accepts a line, the
// general parser accepts it too and finds exactly the same parts.
func checkPlainStreet(t *testing.T, line string) {
	t.Helper()
	var fastBuf, generalBuf [256]byte
	_, fast, ok := plainStreet(fastBuf[:0], line)
	if !ok {
		return
	}
	_, general, fe := parseAnyStreet(generalBuf[:0], line)
	if fe != nil {
		t.Fatalf("plainStreet accepted %q, the general parser rejects it: %v", line, fe)
	}
	if fast != general {
		t.Fatalf("plainStreet(%q) = %+v, general parser %+v", line, fast, general)
	}
}

// checkPlainStreetWithUnit checks the promise of the fast path for line 1 plus a second-line
// unit: when it accepts, the general parser finds the same parts in the joined line.
func checkPlainStreetWithUnit(t *testing.T, line1, line2 string) {
	t.Helper()
	var unitBuf, fastBuf, generalBuf [256]byte
	_, unit2 := parseLine2(unitBuf[:0], line2)
	if unit2 == "" {
		return
	}
	_, fast, ok := plainStreetWithUnit(fastBuf[:0], line1, unit2)
	if !ok {
		return
	}
	joined := line1 + " " + unit2
	_, general, fe := parseAnyStreet(generalBuf[:0], joined)
	if fe != nil {
		t.Fatalf("plainStreetWithUnit accepted %q + %q, the general parser rejects %q: %v", line1, unit2, joined, fe)
	}
	if fast != general {
		t.Fatalf("plainStreetWithUnit(%q, %q) = %+v, general parser on %q %+v", line1, unit2, fast, joined, general)
	}
}

// checkPlainCity checks the promise of the city fast path: when it accepts, the general
// parser returns the same city.
func checkPlainCity(t *testing.T, raw string) {
	t.Helper()
	var fastBuf, generalBuf [256]byte
	_, fast, ok := plainCity(fastBuf[:0], raw)
	if !ok {
		return
	}
	_, general, fe := parseAnyCity(generalBuf[:0], raw)
	if fe != nil || fast != general {
		t.Fatalf("plainCity(%q) = %q, general parser %q (%v)", raw, fast, general, fe)
	}
}
