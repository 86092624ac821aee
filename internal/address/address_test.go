package address

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestNormalizeStreetLines(t *testing.T) {
	tests := []struct {
		line1 string
		want  Address // only the street fields are compared
	}{
		// Pub 28 style examples: suffixes, directionals, units.
		{"102 Main Street", Address{Number: "102", Street: "MAIN", Suffix: "ST", Line1: "102 MAIN ST"}},
		{"102 main str.", Address{Number: "102", Street: "MAIN", Suffix: "ST", Line1: "102 MAIN ST"}},
		{"1 Elm Strt", Address{Number: "1", Street: "ELM", Suffix: "ST", Line1: "1 ELM ST"}},
		{"5 Oak Avenue", Address{Number: "5", Street: "OAK", Suffix: "AVE", Line1: "5 OAK AVE"}},
		{"5 Oak Av", Address{Number: "5", Street: "OAK", Suffix: "AVE", Line1: "5 OAK AVE"}},
		{"5 Oak Aven", Address{Number: "5", Street: "OAK", Suffix: "AVE", Line1: "5 OAK AVE"}},
		{"9 Sunset Boulevard", Address{Number: "9", Street: "SUNSET", Suffix: "BLVD", Line1: "9 SUNSET BLVD"}},
		{"9 Mill Road", Address{Number: "9", Street: "MILL", Suffix: "RD", Line1: "9 MILL RD"}},
		{"9 Lake Shore Drive", Address{Number: "9", Street: "LAKE SHORE", Suffix: "DR", Line1: "9 LAKE SHORE DR"}},
		{"9 Lovers Lane", Address{Number: "9", Street: "LOVERS", Suffix: "LN", Line1: "9 LOVERS LN"}},
		{"9 Kings Court", Address{Number: "9", Street: "KINGS", Suffix: "CT", Line1: "9 KINGS CT"}},
		{"9 Oak Circle", Address{Number: "9", Street: "OAK", Suffix: "CIR", Line1: "9 OAK CIR"}},
		{"9 Elm Place", Address{Number: "9", Street: "ELM", Suffix: "PL", Line1: "9 ELM PL"}},
		{"9 Hill Terrace", Address{Number: "9", Street: "HILL", Suffix: "TER", Line1: "9 HILL TER"}},
		{"9 Garden State Parkway", Address{Number: "9", Street: "GARDEN STATE", Suffix: "PKWY", Line1: "9 GARDEN STATE PKWY"}},
		{"9 Appalachian Trail", Address{Number: "9", Street: "APPALACHIAN", Suffix: "TRL", Line1: "9 APPALACHIAN TRL"}},
		{"9 Milky Way", Address{Number: "9", Street: "MILKY", Suffix: "WAY", Line1: "9 MILKY WAY"}},
		{"9 Pacific Coast Highway", Address{Number: "9", Street: "PACIFIC COAST", Suffix: "HWY", Line1: "9 PACIFIC COAST HWY"}},
		{"9 Broadway", Address{Number: "9", Street: "BROADWAY", Line1: "9 BROADWAY"}},
		{"9 Avenue of the Americas", Address{Number: "9", Street: "AVENUE OF THE AMERICAS", Line1: "9 AVENUE OF THE AMERICAS"}},
		{"9 Park", Address{Number: "9", Street: "PARK", Line1: "9 PARK"}},
		// Directionals only in pre/post position.
		{"123 North Street", Address{Number: "123", Street: "NORTH", Suffix: "ST", Line1: "123 NORTH ST"}},
		{"123 N Main St", Address{Number: "123", PreDir: "N", Street: "MAIN", Suffix: "ST", Line1: "123 N MAIN ST"}},
		{"123 North Main Street", Address{Number: "123", PreDir: "N", Street: "MAIN", Suffix: "ST", Line1: "123 N MAIN ST"}},
		{"123 Main St Southwest", Address{Number: "123", Street: "MAIN", Suffix: "ST", PostDir: "SW", Line1: "123 MAIN ST SW"}},
		{"123 Main St. N.W.", Address{Number: "123", Street: "MAIN", Suffix: "ST", PostDir: "NW", Line1: "123 MAIN ST NW"}},
		{"123 E North Ave", Address{Number: "123", PreDir: "E", Street: "NORTH", Suffix: "AVE", Line1: "123 E NORTH AVE"}},
		{"123 South Boulevard", Address{Number: "123", Street: "SOUTH", Suffix: "BLVD", Line1: "123 SOUTH BLVD"}},
		{"123 West Broadway", Address{Number: "123", PreDir: "W", Street: "BROADWAY", Line1: "123 W BROADWAY"}},
		// Ordinals.
		{"10 First Ave", Address{Number: "10", Street: "1ST", Suffix: "AVE", Line1: "10 1ST AVE"}},
		{"10 1st Ave", Address{Number: "10", Street: "1ST", Suffix: "AVE", Line1: "10 1ST AVE"}},
		{"10 2nd St", Address{Number: "10", Street: "2ND", Suffix: "ST", Line1: "10 2ND ST"}},
		{"10 Twenty-First St", Address{Number: "10", Street: "TWENTY 1ST", Suffix: "ST", Line1: "10 TWENTY 1ST ST"}},
		{"42 W 42 St", Address{Number: "42", PreDir: "W", Street: "42ND", Suffix: "ST", Line1: "42 W 42ND ST"}},
		{"11 W 111 St", Address{Number: "11", PreDir: "W", Street: "111TH", Suffix: "ST", Line1: "11 W 111TH ST"}},
		// House numbers: fractions, hyphens, letters, grid numbers.
		{"123 1/2 Main St", Address{Number: "123 1/2", Street: "MAIN", Suffix: "ST", Line1: "123 1/2 MAIN ST"}},
		{"123-45 Queens Blvd", Address{Number: "123-45", Street: "QUEENS", Suffix: "BLVD", Line1: "123-45 QUEENS BLVD"}},
		{"123A Main St", Address{Number: "123A", Street: "MAIN", Suffix: "ST", Line1: "123A MAIN ST"}},
		{"N123W4567 Main St", Address{Number: "N123W4567", Street: "MAIN", Suffix: "ST", Line1: "N123W4567 MAIN ST"}},
		// Numbered routes.
		{"1 Highway 66", Address{Number: "1", Street: "HWY 66", Line1: "1 HWY 66"}},
		{"1 Hwy 66 N", Address{Number: "1", Street: "HWY 66", PostDir: "N", Line1: "1 HWY 66 N"}},
		{"1 County Road 12", Address{Number: "1", Street: "COUNTY ROAD 12", Line1: "1 COUNTY ROAD 12"}},
		{"1 CR 12", Address{Number: "1", Street: "COUNTY ROAD 12", Line1: "1 COUNTY ROAD 12"}},
		{"1 Co. Rd. 12", Address{Number: "1", Street: "COUNTY ROAD 12", Line1: "1 COUNTY ROAD 12"}},
		{"1 State Route 9", Address{Number: "1", Street: "STATE ROUTE 9", Line1: "1 STATE ROUTE 9"}},
		{"1 SR 9", Address{Number: "1", Street: "STATE ROUTE 9", Line1: "1 STATE ROUTE 9"}},
		{"1 SR-9", Address{Number: "1", Street: "STATE ROUTE 9", Line1: "1 STATE ROUTE 9"}},
		{"1 US Highway 1", Address{Number: "1", Street: "US HIGHWAY 1", Line1: "1 US HIGHWAY 1"}},
		{"1 U.S. Hwy 1", Address{Number: "1", Street: "US HIGHWAY 1", Line1: "1 US HIGHWAY 1"}},
		{"1 US 1", Address{Number: "1", Street: "US HIGHWAY 1", Line1: "1 US HIGHWAY 1"}},
		{"1 N State Highway 9", Address{Number: "1", PreDir: "N", Street: "STATE HIGHWAY 9", Line1: "1 N STATE HIGHWAY 9"}},
		{"1 Old Highway 5", Address{Number: "1", Street: "OLD HIGHWAY 5", Line1: "1 OLD HIGHWAY 5"}},
		// Rural routes have no house number.
		{"Rural Route 2 Box 152", Address{Street: "RR 2 BOX 152", Line1: "RR 2 BOX 152"}},
		// Units.
		{"123 Main St Apt 4", Address{Number: "123", Street: "MAIN", Suffix: "ST", Line1: "123 MAIN ST", UnitType: "APT", UnitNumber: "4", Unit: "APT 4"}},
		{"123 Main St Apartment 4B", Address{Number: "123", Street: "MAIN", Suffix: "ST", Line1: "123 MAIN ST", UnitType: "APT", UnitNumber: "4B", Unit: "APT 4B"}},
		{"123 Main St APT #5", Address{Number: "123", Street: "MAIN", Suffix: "ST", Line1: "123 MAIN ST", UnitType: "APT", UnitNumber: "5", Unit: "APT 5"}},
		{"123 Main St #5", Address{Number: "123", Street: "MAIN", Suffix: "ST", Line1: "123 MAIN ST", UnitType: "#", UnitNumber: "5", Unit: "# 5"}},
		{"123 Main St 5", Address{Number: "123", Street: "MAIN", Suffix: "ST", Line1: "123 MAIN ST", UnitType: "#", UnitNumber: "5", Unit: "# 5"}},
		{"123 Main St Suite 200", Address{Number: "123", Street: "MAIN", Suffix: "ST", Line1: "123 MAIN ST", UnitType: "STE", UnitNumber: "200", Unit: "STE 200"}},
		{"123 Main St Unit 4-B", Address{Number: "123", Street: "MAIN", Suffix: "ST", Line1: "123 MAIN ST", UnitType: "UNIT", UnitNumber: "4-B", Unit: "UNIT 4-B"}},
		{"123 Main St Building 3 Apt 4", Address{Number: "123", Street: "MAIN", Suffix: "ST", Line1: "123 MAIN ST", UnitType: "APT", UnitNumber: "4", Unit: "BLDG 3 APT 4"}},
		{"123 Main St Floor 2", Address{Number: "123", Street: "MAIN", Suffix: "ST", Line1: "123 MAIN ST", UnitType: "FL", UnitNumber: "2", Unit: "FL 2"}},
		{"123 Main St Room 12", Address{Number: "123", Street: "MAIN", Suffix: "ST", Line1: "123 MAIN ST", UnitType: "RM", UnitNumber: "12", Unit: "RM 12"}},
		{"123 Main St Lot 7", Address{Number: "123", Street: "MAIN", Suffix: "ST", Line1: "123 MAIN ST", UnitType: "LOT", UnitNumber: "7", Unit: "LOT 7"}},
		{"123 Main St Space 7", Address{Number: "123", Street: "MAIN", Suffix: "ST", Line1: "123 MAIN ST", UnitType: "SPC", UnitNumber: "7", Unit: "SPC 7"}},
		{"123 Main St Trailer 7", Address{Number: "123", Street: "MAIN", Suffix: "ST", Line1: "123 MAIN ST", UnitType: "TRLR", UnitNumber: "7", Unit: "TRLR 7"}},
		{"123 Main St Department 7", Address{Number: "123", Street: "MAIN", Suffix: "ST", Line1: "123 MAIN ST", UnitType: "DEPT", UnitNumber: "7", Unit: "DEPT 7"}},
		{"123 Main St Basement", Address{Number: "123", Street: "MAIN", Suffix: "ST", Line1: "123 MAIN ST", UnitType: "BSMT", Unit: "BSMT"}},
		{"123 Main St Front", Address{Number: "123", Street: "MAIN", Suffix: "ST", Line1: "123 MAIN ST", UnitType: "FRNT", Unit: "FRNT"}},
		{"123 Main St Rear", Address{Number: "123", Street: "MAIN", Suffix: "ST", Line1: "123 MAIN ST", UnitType: "REAR", Unit: "REAR"}},
		{"123 Main St Penthouse", Address{Number: "123", Street: "MAIN", Suffix: "ST", Line1: "123 MAIN ST", UnitType: "PH", Unit: "PH"}},
		{"123 Main St N Apt 4", Address{Number: "123", Street: "MAIN", Suffix: "ST", PostDir: "N", Line1: "123 MAIN ST N", UnitType: "APT", UnitNumber: "4", Unit: "APT 4"}},
		// Words that are designators elsewhere stay street words here.
		{"123 Front St", Address{Number: "123", Street: "FRONT", Suffix: "ST", Line1: "123 FRONT ST"}},
		{"123 Ocean Front Ave", Address{Number: "123", Street: "OCEAN FRONT", Suffix: "AVE", Line1: "123 OCEAN FRONT AVE"}},
		{"123 Kennedy Space Center Blvd", Address{Number: "123", Street: "KENNEDY SPACE CENTER", Suffix: "BLVD", Line1: "123 KENNEDY SPACE CENTER BLVD"}},
		// Punctuation and spacing.
		{"  123   O'Brien   Rd.  ", Address{Number: "123", Street: "OBRIEN", Suffix: "RD", Line1: "123 OBRIEN RD"}},
		{"123 St.James Pl", Address{Number: "123", Street: "ST JAMES", Suffix: "PL", Line1: "123 ST JAMES PL"}},
		{"123 Wilkes-Barre Blvd", Address{Number: "123", Street: "WILKES BARRE", Suffix: "BLVD", Line1: "123 WILKES BARRE BLVD"}},
	}
	for _, tt := range tests {
		t.Run(tt.line1, func(t *testing.T) {
			got, err := Normalize(Input{Line1: tt.line1, City: "Springfield", State: "IL", ZIP: "62701"})
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			got.City, got.State, got.ZIP5, got.ZIP4 = "", "", "", ""
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestNormalizePlace(t *testing.T) {
	tests := []struct {
		in                      Input
		city, state, zip5, zip4 string
	}{
		{Input{City: "springfield", State: "il", ZIP: "62701"}, "SPRINGFIELD", "IL", "62701", ""},
		{Input{City: "Springfield", State: "Illinois", ZIP: "62701-1234"}, "SPRINGFIELD", "IL", "62701", "1234"},
		{Input{City: "Springfield", State: "IL", ZIP: "627011234"}, "SPRINGFIELD", "IL", "62701", "1234"},
		{Input{City: "Springfield", State: "IL", ZIP: " 62701 "}, "SPRINGFIELD", "IL", "62701", ""},
		{Input{City: "St. Louis", State: "Missouri", ZIP: ""}, "ST LOUIS", "MO", "", ""},
		{Input{City: "Washington", State: "District of Columbia"}, "WASHINGTON", "DC", "", ""},
		{Input{City: "San Juan", State: "Puerto Rico"}, "SAN JUAN", "PR", "", ""},
		{Input{City: "Hagatna", State: "guam"}, "HAGATNA", "GU", "", ""},
		{Input{City: "Charlotte Amalie", State: "U.S. Virgin Islands"}, "CHARLOTTE AMALIE", "VI", "", ""},
		{Input{City: "Raleigh", State: "north carolina"}, "RALEIGH", "NC", "", ""},
		{Input{City: "Charleston", State: "W. Va."}, "CHARLESTON", "WV", "", ""},
		{Input{City: "Albany", State: "New York", ZIP: "12207"}, "ALBANY", "NY", "12207", ""},
		{Input{ZIP: "62701"}, "", "", "62701", ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.in), func(t *testing.T) {
			tt.in.Line1 = "1 Main St"
			got, err := Normalize(tt.in)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if got.City != tt.city || got.State != tt.state || got.ZIP5 != tt.zip5 || got.ZIP4 != tt.zip4 {
				t.Errorf("got %q %q %q %q, want %q %q %q %q", got.City, got.State, got.ZIP5, got.ZIP4,
					tt.city, tt.state, tt.zip5, tt.zip4)
			}
		})
	}
}

func TestEveryStateNameMapsToItsCode(t *testing.T) {
	if n := len(stateCodes()); n != 62 {
		t.Fatalf("have %d state codes, want 50 states + DC + 8 territories and associated states + 3 military", n)
	}
	for code := range stateCodes() {
		got, fe := parseState(code)
		if fe != nil || got != code {
			t.Errorf("parseState(%q) = %q, %v", code, got, fe)
		}
	}
}

func stateCodes() map[string]bool {
	codes := map[string]bool{}
	for _, code := range states {
		codes[code] = true
	}
	return codes
}

func TestNormalizeErrors(t *testing.T) {
	tests := []struct {
		name   string
		in     Input
		field  string
		reason string
		poBox  bool
	}{
		{"PO box", Input{Line1: "PO Box 12", City: "X", State: "IL", ZIP: "62701"}, "address", "PO box is not a property address", true},
		{"P.O. Box", Input{Line1: "P.O. Box 12", City: "X", State: "IL", ZIP: "62701"}, "address", "", true},
		{"Post Office Box", Input{Line1: "Post Office Box 12", City: "X", State: "IL", ZIP: "62701"}, "address", "", true},
		{"POBox", Input{Line1: "POBOX 12", City: "X", State: "IL", ZIP: "62701"}, "address", "", true},
		{"one-line PO box", Input{OneLine: "PO Box 12 Springfield IL 62701"}, "address", "", true},
		{"empty street", Input{Line1: "  ", City: "X", State: "IL", ZIP: "62701"}, "address", "missing street address", false},
		{"punctuation only", Input{Line1: "-- ,", City: "X", State: "IL", ZIP: "62701"}, "address", "missing street address", false},
		{"no number", Input{Line1: "Main St", City: "X", State: "IL", ZIP: "62701"}, "address", "missing house number", false},
		{"number only", Input{Line1: "123", City: "X", State: "IL", ZIP: "62701"}, "address", "missing street name", false},
		{"unknown state", Input{Line1: "1 Main St", City: "X", State: "XX", ZIP: "62701"}, "state", `unknown state "XX"`, false},
		{"unknown state name", Input{Line1: "1 Main St", City: "X", State: "Atlantis", ZIP: "62701"}, "state", `unknown state "Atlantis"`, false},
		{"short ZIP", Input{Line1: "1 Main St", City: "X", State: "IL", ZIP: "1234"}, "zip", `invalid ZIP "1234"`, false},
		{"letters in ZIP", Input{Line1: "1 Main St", City: "X", State: "IL", ZIP: "6270A"}, "zip", `invalid ZIP "6270A"`, false},
		{"bad ZIP+4", Input{Line1: "1 Main St", City: "X", State: "IL", ZIP: "62701-12"}, "zip", `invalid ZIP "62701-12"`, false},
		{"no ZIP no city", Input{Line1: "1 Main St", State: "IL"}, "city", "missing city (needed when the ZIP is missing)", false},
		{"no ZIP no state", Input{Line1: "1 Main St", City: "X"}, "state", "missing state (needed when the ZIP is missing)", false},
		{"one line unknown state", Input{OneLine: "12 Elm St, Springfield, Atlantis 62701"}, "state", `unknown state "ATLANTIS"`, false},
		{"one line without comma or suffix", Input{OneLine: "1 Broadway New York NY 10001"}, "address", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Normalize(tt.in)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want *FieldError", err)
			}
			if fe.Field != tt.field {
				t.Errorf("field = %q, want %q (%v)", fe.Field, tt.field, err)
			}
			if tt.reason != "" && fe.Reason != tt.reason {
				t.Errorf("reason = %q, want %q", fe.Reason, tt.reason)
			}
			if got := errors.Is(err, ErrPOBox); got != tt.poBox {
				t.Errorf("errors.Is(err, ErrPOBox) = %v, want %v", got, tt.poBox)
			}
		})
	}
}

func TestLine2IsParsedAsUnit(t *testing.T) {
	tests := []struct {
		line1, line2, unit, unitType string
	}{
		{"123 Main St", "Apt 4", "APT 4", "APT"},
		{"123 Main St", "#5", "# 5", "#"},
		{"123 Main St", "Suite #200", "STE 200", "STE"},
		{"123 Main St", "4B", "# 4B", "#"},
		{"123 Main St", "c/o John Smith", "", ""},
		{"123 Main St Apt 4", "Apt 4", "APT 4", "APT"},
		{"123 Main St Bldg 3", "Apt 4", "BLDG 3 APT 4", "APT"},
	}
	for _, tt := range tests {
		t.Run(tt.line1+"|"+tt.line2, func(t *testing.T) {
			got, err := Normalize(Input{Line1: tt.line1, Line2: tt.line2, ZIP: "62701"})
			if err != nil {
				t.Fatal(err)
			}
			if got.Unit != tt.unit || got.UnitType != tt.unitType || got.Line1 != "123 MAIN ST" {
				t.Errorf("got line1 %q unit %q type %q, want unit %q type %q", got.Line1, got.Unit, got.UnitType, tt.unit, tt.unitType)
			}
		})
	}
}

func TestParseOneLine(t *testing.T) {
	tests := []struct {
		oneLine string
		want    Input
	}{
		{"123 Main St Apt 4, Springfield, IL 62701", Input{Line1: "123 MAIN ST APT 4", City: "SPRINGFIELD", State: "IL", ZIP: "62701"}},
		{"123 Main St, Springfield IL 62701-1234", Input{Line1: "123 MAIN ST", City: "SPRINGFIELD", State: "IL", ZIP: "62701-1234"}},
		{"123 Main St, Apt 4, Springfield, IL 62701", Input{Line1: "123 MAIN ST APT 4", City: "SPRINGFIELD", State: "IL", ZIP: "62701"}},
		{"123 Main St, Springfield, Illinois", Input{Line1: "123 MAIN ST", City: "SPRINGFIELD", State: "IL"}},
		{"123 Main St, Charleston, West Virginia 25301", Input{Line1: "123 MAIN ST", City: "CHARLESTON", State: "WV", ZIP: "25301"}},
		{"123 Main St, New York, NY, 10001", Input{Line1: "123 MAIN ST", City: "NEW YORK", State: "NY", ZIP: "10001"}},
		{"123 Main St Springfield IL 62701", Input{Line1: "123 MAIN ST", City: "SPRINGFIELD", State: "IL", ZIP: "62701"}},
		{"123 N Main St Apt 4 Kansas City MO 64101 1234", Input{Line1: "123 N MAIN ST APT 4", City: "KANSAS CITY", State: "MO", ZIP: "64101-1234"}},
		{"123 Main St, , IL 62701", Input{Line1: "123 MAIN ST", State: "IL", ZIP: "62701"}},
		{"123 Main St, Springfield 62701", Input{Line1: "123 MAIN ST", City: "SPRINGFIELD", ZIP: "62701"}},
	}
	for _, tt := range tests {
		t.Run(tt.oneLine, func(t *testing.T) {
			got, err := ParseOneLine(tt.oneLine)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestSpellingsOfOneAddressShareAKey(t *testing.T) {
	groups := [][]Input{
		{
			{Line1: "123 North Main Street", Line2: "Apartment 4", City: "Springfield", State: "Illinois", ZIP: "62701"},
			{Line1: "123 N. Main St. Apt #4", City: "SPRINGFIELD", State: "il", ZIP: "62701-1234"},
			{Line1: "123 n main str apt 4", City: "springfield", State: "IL", ZIP: "627011234"},
			{OneLine: "123 N Main St Apt 4, Springfield, IL 62701"},
			{OneLine: "123 North Main Street, Apt 4, Springfield IL 62701"},
		},
		{
			{Line1: "500 Highway 66", City: "Tulsa", State: "OK", ZIP: "74101"},
			{Line1: "500 Hwy. 66", City: "Tulsa", State: "Oklahoma", ZIP: "74101"},
			{OneLine: "500 HIGHWAY 66, TULSA, OK 74101"},
		},
		{
			{Line1: "7 County Road 12", City: "Bryan", State: "TX"},
			{Line1: "7 CR 12", City: "bryan", State: "texas"},
			{Line1: "7 Co Rd 12", City: "Bryan", State: "Tex."},
		},
		{
			{Line1: "10 First Avenue Suite 200", City: "Seattle", State: "WA", ZIP: "98101"},
			{Line1: "10 1st Ave Ste 200", City: "Seattle", State: "Washington", ZIP: "98101"},
			{Line1: "10 1ST AVE", Line2: "STE. 200", City: "Seattle", State: "WA", ZIP: "98101"},
		},
	}
	for _, group := range groups {
		var first string
		for i, in := range group {
			a, err := Normalize(in)
			if err != nil {
				t.Fatalf("%+v: %v", in, err)
			}
			if i == 0 {
				first = a.Key()
				continue
			}
			if a.Key() != first {
				t.Errorf("%+v: key %q, want %q", in, a.Key(), first)
			}
		}
	}
}

func TestKeyFallsBackToCityAndState(t *testing.T) {
	a, err := Normalize(Input{Line1: "1 Main St", City: "Springfield", State: "IL"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.Key(), "1 MAIN ST||SPRINGFIELD,IL"; got != want {
		t.Errorf("Key = %q, want %q", got, want)
	}
	b, _ := Normalize(Input{Line1: "1 Main St", City: "Springfield", State: "MO"})
	if a.Key() == b.Key() {
		t.Errorf("different states share key %q", a.Key())
	}
}

func TestOneLineRoundTrip(t *testing.T) {
	inputs := []Input{
		{Line1: "123 1/2 North Main Street", Line2: "Apt 4", City: "Springfield", State: "IL", ZIP: "62701-1234"},
		{Line1: "9 Main St 5", City: "St. Louis", State: "MO"},
		{Line1: "RR 2 Box 152", City: "Town", State: "KS", ZIP: "66000"},
		{Line1: "1 US Hwy 1 S", ZIP: "33040"},
		{Line1: "123 Main St Rear", City: "Front Royal", State: "VA", ZIP: "22630"},
	}
	for _, in := range inputs {
		a, err := Normalize(in)
		if err != nil {
			t.Fatalf("%+v: %v", in, err)
		}
		b, err := Normalize(Input{OneLine: a.OneLine()})
		if err != nil {
			t.Fatalf("%q: %v", a.OneLine(), err)
		}
		if a != b {
			t.Errorf("round trip of %q:\n got  %+v\n want %+v", a.OneLine(), b, a)
		}
	}
}

// BenchmarkNormalizeKey measures the per-row cost of normalizing an address and building its
// dedupe key, the work csvin adds on top of reading a CSV.
func BenchmarkNormalizeKey(b *testing.B) {
	inputs := []Input{
		{Line1: "123 North Main Street", Line2: "Apt 4", City: "Springfield", State: "IL", ZIP: "62701"},
		{Line1: "4567 W 42nd St. #5", City: "New York", State: "New York", ZIP: "10036-1234"},
		{Line1: "89 Oak Avenue", City: "Austin", State: "TX", ZIP: "78701"},
		{Line1: "1200 County Road 12", City: "Bryan", State: "tx", ZIP: "77801"},
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		a, err := Normalize(inputs[i%len(inputs)])
		if err != nil {
			b.Fatal(err)
		}
		if a.Key() == "" {
			b.Fatal("empty key")
		}
	}
}

func TestKeyIgnoresUnitDesignator(t *testing.T) {
	tests := []struct {
		in   Input
		want string
	}{
		{Input{Line1: "123 Main St Apt 4", ZIP: "62701"}, "123 MAIN ST|4|62701"},
		{Input{Line1: "123 Main St # 4", ZIP: "62701"}, "123 MAIN ST|4|62701"},
		{Input{Line1: "123 Main St", Line2: "#4", ZIP: "62701"}, "123 MAIN ST|4|62701"},
		{Input{Line1: "123 Main St", Line2: "Unit 4", ZIP: "62701"}, "123 MAIN ST|4|62701"},
		{Input{Line1: "123 Main St 4", ZIP: "62701"}, "123 MAIN ST|4|62701"},
		{Input{OneLine: "123 Main St Suite 4, Springfield, IL 62701"}, "123 MAIN ST|4|62701"},
		{Input{Line1: "123 Main St Bldg 3 Apt 4", ZIP: "62701"}, "123 MAIN ST|3 4|62701"},
		{Input{Line1: "123 Main St Rear", ZIP: "62701"}, "123 MAIN ST|REAR|62701"},
		{Input{Line1: "123 Main St Bldg 3 Rear", ZIP: "62701"}, "123 MAIN ST|3 REAR|62701"},
		{Input{Line1: "123 Main St Rear Apt 2", ZIP: "62701"}, "123 MAIN ST|REAR 2|62701"},
		{Input{Line1: "123 Main St PH 2", ZIP: "62701"}, "123 MAIN ST|2|62701"},
		{Input{Line1: "123 Main St", ZIP: "62701"}, "123 MAIN ST||62701"},
	}
	for _, tt := range tests {
		a, err := Normalize(tt.in)
		if err != nil {
			t.Fatalf("%+v: %v", tt.in, err)
		}
		if got := a.Key(); got != tt.want {
			t.Errorf("%+v: Key = %q, want %q (Unit %q)", tt.in, got, tt.want, a.Unit)
		}
	}
	apt, _ := Normalize(Input{Line1: "123 Main St Apt 4", ZIP: "62701"})
	hash, _ := Normalize(Input{Line1: "123 Main St # 4", ZIP: "62701"})
	if apt.Unit != "APT 4" || hash.Unit != "# 4" {
		t.Errorf("Unit is for display and keeps its designator: %q, %q", apt.Unit, hash.Unit)
	}
	other, _ := Normalize(Input{Line1: "123 Main St Apt 5", ZIP: "62701"})
	if other.Key() == apt.Key() {
		t.Errorf("units 4 and 5 share key %q", apt.Key())
	}
}

func TestExplicitUnitValueRoundTrips(t *testing.T) {
	a, err := Normalize(Input{OneLine: "0 0 Ct Apt #AAA 00000"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Unit != "APT # AAA" || a.Key() != "0 0TH CT|AAA|00000" {
		t.Fatalf("Unit %q, Key %q", a.Unit, a.Key())
	}
	b, err := Normalize(Input{OneLine: a.OneLine()})
	if err != nil || b.Key() != a.Key() || b.Unit != a.Unit {
		t.Fatalf("%q -> %+v, %v", a.OneLine(), b, err)
	}
}

// TestUpperWordsMatchesCleanText checks the allocation-free state-name path against the
// general one on every input it accepts.
func TestUpperWordsMatchesCleanText(t *testing.T) {
	for _, s := range []string{"Illinois", "new york", "NEW YORK", "New  York", " Texas", "Texas ",
		"N. Dak.", "Washington DC", "Puerto Rico", "Ill", "", "Zz", "Québec", "FEDERATED STATES OF MICRONESIA"} {
		w, ok := upperWords(s)
		if ok && string(w.b[:w.n]) != cleanText(s) {
			t.Errorf("upperWords(%q) = %q, cleanText = %q", s, w.b[:w.n], cleanText(s))
		}
		got, _ := parseState(s)
		want := states[cleanText(s)]
		if got != want {
			t.Errorf("parseState(%q) = %q, want %q", s, got, want)
		}
	}
}

// A unit must read back from line 2, which takes at most maxFieldWords words: a longer one is
// rejected rather than lost when the parts are normalized again.
func TestUnitWithTooManyWordsIsRejected(t *testing.T) {
	in := Input{Line1: "1 Main St" + strings.Repeat("#0", 20), ZIP: "62701"}
	a, err := Normalize(in)
	if err != nil || strings.Count(a.Unit, " ")+1 != 40 {
		t.Fatalf("40-word unit: %+v, %v", a, err)
	}
	again, err := Normalize(Input{Line1: a.Line1, Line2: a.Unit, ZIP: a.ZIP5})
	if err != nil || again.Key() != a.Key() {
		t.Fatalf("40-word unit read back from line 2: %+v, %v", again, err)
	}
	in.Line1 += "#0"
	var fe *FieldError
	if _, err := Normalize(in); !errors.As(err, &fe) || fe.Field != "address" || fe.Reason != "unit has too many words" {
		t.Fatalf("42-word unit: %v, want a FieldError on the address", err)
	}
}

// A street suffix is no unit value unless '#' marks it, so "APT CT" (Apt Court) stays a street
// however it was spelled, and the address reads back as it was normalized.
func TestSuffixAfterDesignatorIsAStreet(t *testing.T) {
	for _, tc := range []struct{ line1, wantLine1, wantUnit string }{
		{"12 Apt Ct 3", "12 APT CT", "# 3"},
		{"0 0 Apt Ct 0", "0 0 APT CT", "# 0"},   // was street "0", unit "APT CT # 0" when read back
		{"0 0 Apt Crt", "0 0 APT CT", ""},       // was read back as street "0", unit "APT CT"
		{"100 Main St 4", "100 MAIN ST", "# 4"}, // the common case
		{"100 Main St Apt B", "100 MAIN ST", "APT B"},
	} {
		a, err := Normalize(Input{Line1: tc.line1, City: "X", ZIP: "62701"})
		if err != nil || a.Line1 != tc.wantLine1 || a.Unit != tc.wantUnit {
			t.Errorf("%q: line 1 %q unit %q (%v), want %q %q", tc.line1, a.Line1, a.Unit, err, tc.wantLine1, tc.wantUnit)
			continue
		}
		again, err := Normalize(Input{OneLine: a.OneLine()})
		if err != nil || again.Key() != a.Key() {
			t.Errorf("%q: %q reads back as %q (%v), want %q", tc.line1, a.OneLine(), again.Key(), err, a.Key())
		}
	}
}
