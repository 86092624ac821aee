// Package csvgen generates realistic synthetic CSVs of US property addresses for tests and
// benchmarks: deterministic by seed, streamed (a million rows never sit in memory), with a
// chosen share of bad rows and of duplicates written in a different spelling.
package csvgen

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
)

// Config describes the file to generate.
type Config struct {
	Rows           int     // data rows, header not counted
	Seed           uint64  // same seed, same bytes
	BadShare       float64 // share of rows whose address cannot be used (PO box, bad ZIP, ...)
	DuplicateShare float64 // share of rows repeating an earlier address in another spelling
	OneLine        bool    // one full_address column instead of street, unit, city, state, zip
}

// Counts says what was generated, so a test can check a reader's tally against it.
type Counts struct {
	Rows, Good, Bad, Duplicates int
}

// Header columns of the generated files.
var (
	Header        = []string{"property_address", "unit", "city", "state", "zip", "owner_name", "parcel_id"}
	OneLineHeader = []string{"full_address", "owner_name", "parcel_id"}
)

// Write writes the whole file to w.
func Write(w io.Writer, cfg Config) (Counts, error) {
	r := NewReader(cfg)
	_, err := io.Copy(w, r)
	return r.Counts(), err
}

// Reader produces the file as an io.Reader, generating rows only as they are read.
type Reader struct {
	cfg    Config
	rng    *rand.Rand
	buf    bytes.Buffer
	w      *csv.Writer
	row    int
	good   int       // distinct addresses generated so far
	recent [4096]int // distinct-address numbers available for duplicates
	counts Counts
}

// NewReader returns a streaming generator for cfg.
func NewReader(cfg Config) *Reader {
	r := &Reader{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}
	r.w = csv.NewWriter(&r.buf)
	if cfg.OneLine {
		_ = r.w.Write(OneLineHeader)
	} else {
		_ = r.w.Write(Header)
	}
	r.w.Flush()
	return r
}

// Counts reports what has been generated so far (all of it once Read returned io.EOF).
func (r *Reader) Counts() Counts { return r.counts }

// Read implements io.Reader.
func (r *Reader) Read(p []byte) (int, error) {
	for r.buf.Len() < len(p) && r.row < r.cfg.Rows {
		for i := 0; i < 64 && r.row < r.cfg.Rows; i++ {
			r.writeRow()
		}
		r.w.Flush()
	}
	if r.buf.Len() == 0 {
		return 0, io.EOF
	}
	return r.buf.Read(p)
}

func (r *Reader) writeRow() {
	r.row++
	r.counts.Rows++
	var a addr
	switch x := r.rng.Float64(); {
	case x < r.cfg.BadShare:
		a = r.badAddress()
		r.counts.Bad++
	case x < r.cfg.BadShare+r.cfg.DuplicateShare && r.good > 0:
		n := r.recent[r.rng.IntN(min(r.good, len(r.recent)))]
		a = r.address(n)
		r.counts.Duplicates++
	default:
		a = r.address(r.good)
		r.recent[r.good%len(r.recent)] = r.good
		r.good++
		r.counts.Good++
	}
	owner := owners[r.rng.IntN(len(owners))]
	parcel := fmt.Sprintf("%03d-%05d-%03d", r.row%997, r.row, r.rng.IntN(1000))
	if r.cfg.OneLine {
		_ = r.w.Write([]string{a.oneLine(), owner, parcel})
		return
	}
	_ = r.w.Write([]string{a.street, a.unit, a.city, a.state, a.zip, owner, parcel})
}

type addr struct {
	street, unit, city, state, zip string
}

func (a addr) oneLine() string {
	s := a.street
	if a.unit != "" {
		s += " " + a.unit
	}
	return s + ", " + a.city + ", " + a.state + " " + a.zip
}

// address renders distinct address number n in a randomly chosen spelling. The street, city
// and house number come from n alone, so every spelling of n is the same property and no two
// numbers collide.
func (r *Reader) address(n int) addr {
	seed := int(r.cfg.Seed % 1000)
	st := streets[(n+seed)%len(streets)]
	pl := places[(n/len(streets)+seed)%len(places)]
	number := 100 + 2*(n/(len(streets)*len(places)))
	var b strings.Builder
	fmt.Fprintf(&b, "%d ", number)
	if st.dir != "" {
		b.WriteString(r.pick(st.dir, dirNames[st.dir]) + " ")
	}
	b.WriteString(st.name + " " + r.pick(suffixSpellings[st.suffix]...))
	a := addr{street: r.casing(b.String()), city: r.casing(pl.city), state: pl.state, zip: pl.zip}
	if r.rng.IntN(2) == 0 {
		a.state = stateNames[pl.state]
	}
	if r.rng.IntN(3) == 0 {
		a.zip += fmt.Sprintf("-%04d", n%10000)
	}
	if n%6 == 0 {
		// One unit in several spellings; the dedupe key ignores the designator, so "# 4" and
		// "APT 4" are the same unit.
		a.unit = r.pick("Apt ", "Apartment ", "APT #", "apt. ", "#", "# ", "Unit ") + fmt.Sprint(n%40+1)
	}
	return a
}

// badAddress returns an address that the normalizer must reject, in one of several ways.
func (r *Reader) badAddress() addr {
	a := addr{street: "12 Elm St", city: "Springfield", state: "IL", zip: "62701"}
	switch r.rng.IntN(5) {
	case 0:
		a.street = r.pick("PO Box ", "P.O. Box ", "Post Office Box ") + fmt.Sprint(r.rng.IntN(9999)+1)
	case 1:
		a.zip = fmt.Sprint(r.rng.IntN(9000) + 1000) // four digits: a ZIP that lost its zero
	case 2:
		a.state = r.pick("XX", "Atlantis", "ZZ")
	case 3:
		a.street = ""
	default:
		a.city, a.zip = "", ""
	}
	return a
}

func (r *Reader) pick(options ...string) string { return options[r.rng.IntN(len(options))] }

// casing writes text the ways people do: Title Case, UPPER or lower.
func (r *Reader) casing(s string) string {
	switch r.rng.IntN(4) {
	case 0:
		return strings.ToUpper(s)
	case 1:
		return strings.ToLower(s)
	}
	return s
}

type street struct{ dir, name, suffix string }

var streets = []street{
	{"", "Main", "ST"}, {"N", "Main", "ST"}, {"", "Oak", "AVE"}, {"", "Maple", "AVE"},
	{"W", "42nd", "ST"}, {"", "Sunset", "BLVD"}, {"", "Mill", "RD"}, {"", "Lake Shore", "DR"},
	{"", "Lovers", "LN"}, {"", "Kings", "CT"}, {"", "Pine", "CIR"}, {"", "Elm", "PL"},
	{"", "Hill", "TER"}, {"", "Garden State", "PKWY"}, {"", "Appalachian", "TRL"},
	{"", "Milky", "WAY"}, {"S", "Park", "AVE"}, {"", "Cedar", "ST"}, {"E", "Washington", "ST"},
	{"", "Lincoln", "AVE"}, {"", "Jefferson", "BLVD"}, {"", "Walnut", "ST"}, {"", "Cherry", "LN"},
	{"", "River", "RD"}, {"NW", "Broad", "ST"}, {"", "Highland", "AVE"}, {"", "Forest", "DR"},
	{"", "Spring", "ST"}, {"", "Church", "ST"}, {"", "Willow", "CT"}, {"SE", "Market", "ST"},
	{"", "Ridge", "RD"}, {"", "Meadow", "LN"}, {"", "Valley", "VW"}, {"", "Harbor", "PT"},
	{"", "Canyon", "TRL"}, {"", "Orchard", "CIR"}, {"", "Chestnut", "ST"}, {"", "Franklin", "PIKE"},
	{"", "Bay", "HWY"},
}

var suffixSpellings = map[string][]string{
	"ST": {"St", "Street", "St.", "Str"}, "AVE": {"Ave", "Avenue", "Av", "Ave."},
	"BLVD": {"Blvd", "Boulevard"}, "RD": {"Rd", "Road", "Rd."}, "DR": {"Dr", "Drive"},
	"LN": {"Ln", "Lane"}, "CT": {"Ct", "Court"}, "CIR": {"Cir", "Circle"}, "PL": {"Pl", "Place"},
	"TER": {"Ter", "Terrace"}, "PKWY": {"Pkwy", "Parkway"}, "TRL": {"Trl", "Trail"},
	"WAY": {"Way"}, "VW": {"View", "Vw"}, "PT": {"Point", "Pt"}, "PIKE": {"Pike"},
	"HWY": {"Hwy", "Highway"},
}

var dirNames = map[string]string{"N": "North", "S": "South", "E": "East", "W": "West", "NW": "Northwest", "SE": "Southeast"}

type place struct{ city, state, zip string }

var places = []place{
	{"Springfield", "IL", "62701"}, {"Chicago", "IL", "60601"}, {"New York", "NY", "10036"},
	{"Brooklyn", "NY", "11201"}, {"Austin", "TX", "78701"}, {"Houston", "TX", "77002"},
	{"Phoenix", "AZ", "85004"}, {"Denver", "CO", "80202"}, {"Seattle", "WA", "98101"},
	{"Portland", "OR", "97201"}, {"Miami", "FL", "33130"}, {"Tampa", "FL", "33602"},
	{"Atlanta", "GA", "30303"}, {"Charlotte", "NC", "28202"}, {"Boston", "MA", "02108"},
	{"Columbus", "OH", "43215"}, {"Detroit", "MI", "48226"}, {"Nashville", "TN", "37203"},
	{"Kansas City", "MO", "64105"}, {"St. Louis", "MO", "63101"}, {"Las Vegas", "NV", "89101"},
	{"Salt Lake City", "UT", "84101"}, {"Albuquerque", "NM", "87102"}, {"Omaha", "NE", "68102"},
	{"Minneapolis", "MN", "55401"}, {"Milwaukee", "WI", "53202"}, {"Baltimore", "MD", "21201"},
	{"Richmond", "VA", "23219"}, {"Louisville", "KY", "40202"}, {"San Juan", "PR", "00901"},
}

var stateNames = map[string]string{
	"IL": "Illinois", "NY": "New York", "TX": "Texas", "AZ": "Arizona", "CO": "Colorado",
	"WA": "Washington", "OR": "Oregon", "FL": "Florida", "GA": "Georgia", "NC": "North Carolina",
	"MA": "Massachusetts", "OH": "Ohio", "MI": "Michigan", "TN": "Tennessee", "MO": "Missouri",
	"NV": "Nevada", "UT": "Utah", "NM": "New Mexico", "NE": "Nebraska", "MN": "Minnesota",
	"WI": "Wisconsin", "MD": "Maryland", "VA": "Virginia", "KY": "Kentucky", "PR": "Puerto Rico",
}

var owners = []string{
	"John Smith", "Smith, Jane", "Maria Garcia", "Lee Family Trust", "Acme Holdings LLC",
	"Robert \"Bob\" Jones", "Estate of Mary Brown", "Wells Fargo Bank NA", "Nguyen, Thi",
	"Patel Investments, Inc.", "O'Connor, Sean", "",
}
