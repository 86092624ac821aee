package attomsim

import (
	"regexp"
	"strings"
)

// AddressKey is the simulator's identity of an address: upper case, whitespace collapsed,
// line 1 and line 2 joined by ", ". The same key always yields the same synthetic property,
// and the ledger counts billed reports per key. A one-line address with the same parts gives
// the same key as its address1/address2 form.
func AddressKey(line1, line2 string) string {
	if strings.TrimSpace(line2) == "" {
		return normalizeKey(line1)
	}
	return normalizeKey(line1 + ", " + line2)
}

func normalizeKey(s string) string {
	s = strings.ToUpper(strings.ReplaceAll(s, ",", " , "))
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, " ,", ",")
	return strings.Trim(s, ", ")
}

// splitOneLine cuts "123 MAIN ST, SPRINGFIELD, IL 62701" at the first comma.
func splitOneLine(s string) (line1, line2 string) {
	line1, line2, _ = strings.Cut(s, ",")
	return strings.TrimSpace(line1), strings.TrimSpace(line2)
}

var line2Pattern = regexp.MustCompile(`^\s*(.*?)[\s,]+([A-Za-z]{2})(?:\s+(\d{5})(?:-?(\d{4}))?)?\s*$`)

// parseLine2 reads "City, ST 12345" (ZIP and ZIP+4 optional); ok is false when no state is
// recognizable.
func parseLine2(s string) (city, state, zip5, zip4 string, ok bool) {
	m := line2Pattern.FindStringSubmatch(s)
	if m == nil {
		return "", "", "", "", false
	}
	state = strings.ToUpper(m[2])
	if _, known := stateCentroids[state]; !known {
		return "", "", "", "", false
	}
	city = strings.Join(strings.Fields(strings.ToUpper(strings.Trim(m[1], " ,"))), " ")
	return city, state, m[3], m[4], city != ""
}

var suffixes = map[string]string{
	"STREET": "ST", "AVENUE": "AVE", "AV": "AVE", "ROAD": "RD", "DRIVE": "DR", "LANE": "LN",
	"BOULEVARD": "BLVD", "COURT": "CT", "PLACE": "PL", "TERRACE": "TER", "CIRCLE": "CIR",
	"PARKWAY": "PKWY", "HIGHWAY": "HWY", "TRAIL": "TRL", "SQUARE": "SQ", "EXPRESSWAY": "EXPY",
}

var directionals = map[string]string{
	"NORTH": "N", "SOUTH": "S", "EAST": "E", "WEST": "W",
	"NORTHEAST": "NE", "NORTHWEST": "NW", "SOUTHEAST": "SE", "SOUTHWEST": "SW",
}

var units = map[string]string{"APARTMENT": "APT", "SUITE": "STE", "UNIT": "UNIT", "APT": "APT", "STE": "STE", "#": "#"}

// standardizeLine1 imitates ATTOM's standardized line1: upper case, no punctuation, USPS
// suffix and unit abbreviations, directionals abbreviated before the street name and after
// the suffix (a street called NORTH keeps its name).
func standardizeLine1(s string) string {
	s = strings.NewReplacer(".", "", ",", " ", "#", " # ").Replace(strings.ToUpper(s))
	tokens := strings.Fields(s)
	unitAt := len(tokens)
	for i, t := range tokens {
		if _, ok := units[t]; ok && i > 1 {
			unitAt = i
			break
		}
	}
	street, rest := tokens[:unitAt], tokens[unitAt:]
	if n := len(street); n >= 3 {
		last := n - 1
		if d, ok := directional(street[last]); ok && n >= 4 {
			street[last] = d
			last--
		}
		if sfx, ok := suffix(street[last]); ok {
			street[last] = sfx
		}
		// A directional right after the number is a pre-directional unless it is the whole
		// street name (NORTH ST).
		if d, ok := directional(street[1]); ok && !(last == 2 && isSuffix(street[2])) {
			street[1] = d
		}
	}
	if len(rest) > 0 {
		rest[0] = units[rest[0]]
	}
	return strings.Join(append(street, rest...), " ")
}

func directional(t string) (string, bool) {
	if d, ok := directionals[t]; ok {
		return d, true
	}
	for _, d := range directionals {
		if d == t {
			return d, true
		}
	}
	return "", false
}

func suffix(t string) (string, bool) {
	if s, ok := suffixes[t]; ok {
		return s, true
	}
	return t, isSuffix(t)
}

func isSuffix(t string) bool {
	if _, ok := suffixes[t]; ok {
		return true
	}
	for _, s := range suffixes {
		if s == t {
			return true
		}
	}
	return false
}
