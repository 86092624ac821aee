package attomsim

import (
	"bytes"
	"testing"
)

func TestAddressKey(t *testing.T) {
	tests := []struct{ line1, line2, want string }{
		{"123 Main St", "Springfield, IL 62701", "123 MAIN ST, SPRINGFIELD, IL 62701"},
		{" 123  main st ", "springfield ,il 62701", "123 MAIN ST, SPRINGFIELD, IL 62701"},
		{"123 Main St, Springfield, IL 62701", "", "123 MAIN ST, SPRINGFIELD, IL 62701"},
	}
	for _, tc := range tests {
		if got := AddressKey(tc.line1, tc.line2); got != tc.want {
			t.Errorf("AddressKey(%q, %q) = %q, want %q", tc.line1, tc.line2, got, tc.want)
		}
	}
}

func TestStandardizeLine1(t *testing.T) {
	tests := map[string]string{
		"123 North Main Street":       "123 N MAIN ST",
		"45 North St":                 "45 NORTH ST",
		"9 Oak Avenue Apartment 4b":   "9 OAK AVE APT 4B",
		"700 Lake Shore Drive South":  "700 LAKE SHORE DR S",
		"12 Elm St. #3":               "12 ELM ST # 3",
		"1600 pennsylvania avenue nw": "1600 PENNSYLVANIA AVE NW",
		"5 Broadway":                  "5 BROADWAY",
		"2200 West Sunset Boulevard":  "2200 W SUNSET BLVD",
		"":                            "",
	}
	for in, want := range tests {
		if got := standardizeLine1(in); got != want {
			t.Errorf("standardizeLine1(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseLine2(t *testing.T) {
	tests := []struct {
		in                      string
		city, state, zip5, zip4 string
		ok                      bool
	}{
		{"Springfield, IL 62701", "SPRINGFIELD", "IL", "62701", "", true},
		{"san jose ca 95112-1234", "SAN JOSE", "CA", "95112", "1234", true},
		{"Denver, CO", "DENVER", "CO", "", "", true},
		{"Somewhere, ZZ 12345", "", "", "", "", false},
		{"62701", "", "", "", "", false},
	}
	for _, tc := range tests {
		city, state, zip5, zip4, ok := parseLine2(tc.in)
		if city != tc.city || state != tc.state || zip5 != tc.zip5 || zip4 != tc.zip4 || ok != tc.ok {
			t.Errorf("parseLine2(%q) = %q %q %q %q %t", tc.in, city, state, zip5, zip4, ok)
		}
	}
}

func TestToWire(t *testing.T) {
	in := []byte(`{"status":{"transactionID":"x","pageSize":1},"property":[{"identifier":{"attomId":1},"location":{"latitude":39.5,"accuracy":"Rooftop"},"summary":{"propClass":"A","yearBuilt":null,"REOflag":true},"homeEquity":{"LTV":80}}]}`)
	tests := []struct {
		lower bool
		want  string
	}{
		{false, `{"status":{"transactionID":"x","pageSize":1},"property":[{"identifier":{"attomId":1},"location":{"latitude":"39.5","accuracy":"Rooftop"},"summary":{"propClass":"A","REOflag":true},"homeEquity":{"LTV":80}}]}`},
		{true, `{"status":{"transactionID":"x","pageSize":1},"property":[{"identifier":{"attomId":1},"location":{"latitude":"39.5","accuracy":"Rooftop"},"summary":{"propclass":"A","reoflag":true},"homeEquity":{"ltv":80}}]}`},
	}
	for _, tc := range tests {
		got, err := toWire(in, tc.lower)
		if err != nil || !bytes.Equal(got, []byte(tc.want)) {
			t.Errorf("toWire(lower=%t) = %s, %v\nwant %s", tc.lower, got, err, tc.want)
		}
	}
}
