package address

import (
	"strings"
	"testing"
)

func TestPlainStreetAgreesWithGeneralParser(t *testing.T) {
	tests := []struct {
		line   string
		accept bool // whether the fast path takes the line
	}{
		{"123 Main St", true},
		{"123 n main street", true},
		{"9 North Lake Shore Dr.", true},
		{"100 North St", false}, // "ST" after a directional may start a route ("N ST RT 9")
		{"5 E Washington St NW", true},
		{"7 N. Main St.", true},
		{"42 Broadway", true},
		{"123 Main St Apt 4", false},    // unit
		{"123 Main St 4", false},        // bare unit number
		{"1 W 42nd St", false},          // digits in the name
		{"1 First Ave", false},          // spelled ordinal
		{"8 Highway 66", false},         // route
		{"8 Old Highway Rd", true},      // a route word, but not where a route starts
		{"8 N Highway 1", false},        // route after a directional
		{"8 State Route Rd", false},     // could start a route
		{"123A Main St", false},         // number with a letter
		{"123 1/2 Main St", false},      // fraction
		{"PO Box 5", false},             // no number
		{"123  Main St", false},         // double space
		{"123 Main St ", false},         // trailing space
		{"123 O'Brien Rd", false},       // punctuation
		{"123 Main St..", false},        // two periods
		{"123 St.James Pl", false},      // period inside a word
		{"123", false},                  // no street name
		{"12 A B C D E F G H I", false}, // more words than the fast path holds
	}
	for _, tt := range tests {
		var buf [256]byte
		_, _, ok := plainStreet(buf[:0], tt.line)
		if ok != tt.accept {
			t.Errorf("plainStreet(%q) accepted = %v, want %v", tt.line, ok, tt.accept)
		}
		checkPlainStreet(t, tt.line)
	}
}

func TestPlainStreetLeavesBufferOnRejection(t *testing.T) {
	buf := append(make([]byte, 0, 64), "CITY"...)
	out, _, ok := plainStreet(buf, "123 Main St Apt 4")
	if ok || string(out) != "CITY" {
		t.Fatalf("rejected line changed the buffer: %q (accepted %v)", out, ok)
	}
	out, st, ok := plainStreet(buf, "123 Main St")
	if !ok || string(out) != "CITY123 MAIN ST" || st.street != "MAIN" || st.suffix != "ST" {
		t.Fatalf("accepted line: buffer %q, parts %+v", out, st)
	}
}

func TestPlainStreetWithUnit(t *testing.T) {
	tests := []struct {
		line1, line2 string
		accept       bool
	}{
		{"123 N Main St", "Apt 4", true},
		{"100 N Main St.", "#1", true},
		{"12 Oak Ave", "Bldg 3 Apt 4", true},
		{"7 Main St", "4B", true}, // rendered "# 4B"
		{"7 Main St", "Rear", true},
		{"1 W 42nd St", "Apt 4", false},          // line 1 is not plain
		{"123 Main St Apt 4", "Apt 4", false},    // a unit in line 1 too
		{"123 Main St", "c/o John Smith", false}, // no unit in line 2
	}
	for _, tt := range tests {
		var unitBuf, buf [256]byte
		_, unit2 := parseLine2(unitBuf[:0], tt.line2)
		_, st, ok := plainStreetWithUnit(buf[:0], tt.line1, unit2)
		if ok != tt.accept {
			t.Errorf("plainStreetWithUnit(%q, %q) accepted = %v, want %v", tt.line1, unit2, ok, tt.accept)
		}
		if ok && st.unit.Text != unit2 {
			t.Errorf("plainStreetWithUnit(%q, %q) unit %q", tt.line1, unit2, st.unit.Text)
		}
		checkPlainStreetWithUnit(t, tt.line1, tt.line2)
	}
}

func TestPlainCity(t *testing.T) {
	tests := []struct {
		raw, want string
		accept    bool
	}{
		{"Springfield", "SPRINGFIELD", true},
		{"new york", "NEW YORK", true},
		{"CHICAGO", "CHICAGO", true},
		{"St. Louis", "", false},                         // punctuation
		{"New  York", "", false},                         // double space
		{" Austin", "", false},                           // leading space
		{"San Germán", "", false},                        // not ASCII
		{"", "", false},                                  // empty
		{strings.Repeat("Big ", 20) + "City", "", false}, // too long for the fast path
	}
	for _, tt := range tests {
		var buf [256]byte
		_, got, ok := plainCity(buf[:0], tt.raw)
		if ok != tt.accept || ok && got != tt.want {
			t.Errorf("plainCity(%q) = %q, %v; want %q, %v", tt.raw, got, ok, tt.want, tt.accept)
		}
		checkPlainCity(t, tt.raw)
	}
}
