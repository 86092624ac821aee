// Package address normalizes US street addresses by USPS Publication 28 so that the same
// property written two ways yields the same dedupe key.
package address

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
)

// Input is an address as a person or a file wrote it. Either Line1 (+ City, State, ZIP) or
// OneLine ("123 Main St Apt 4, Springfield, IL 62701") is set.
type Input struct {
	Line1   string
	Line2   string // optional second street line (often the unit)
	City    string
	State   string
	ZIP     string
	OneLine string
}

// Address is a normalized address. All text fields are upper case, Pub 28 abbreviations.
type Address struct {
	Number     string `json:"number,omitempty"`      // "123", "123-45", "123 1/2"
	PreDir     string `json:"pre_dir,omitempty"`     // "N"
	Street     string `json:"street,omitempty"`      // "MAIN", "NORTH", "COUNTY ROAD 12"
	Suffix     string `json:"suffix,omitempty"`      // "ST"
	PostDir    string `json:"post_dir,omitempty"`    // "NW"
	UnitType   string `json:"unit_type,omitempty"`   // "APT", "STE", "#"
	UnitNumber string `json:"unit_number,omitempty"` // "4B"
	Line1      string `json:"line1"`                 // "123 N MAIN ST" (no unit)
	Unit       string `json:"unit,omitempty"`        // "APT 4B"
	City       string `json:"city"`
	State      string `json:"state"` // two letters
	ZIP5       string `json:"zip5,omitempty"`
	ZIP4       string `json:"zip4,omitempty"`
}

// ErrPOBox rejects post office boxes: they are not properties.
var ErrPOBox = errors.New("PO box is not a property address")

// FieldError says which input field made normalization fail, so a CSV reader can report
// "line 12, field zip: ...".
type FieldError struct {
	Field  string // "address", "city", "state", "zip"
	Reason string
	Err    error // optional wrapped sentinel such as ErrPOBox
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }
func (e *FieldError) Unwrap() error { return e.Err }

// Normalize turns an Input into a normalized Address (USPS Publication 28) or a *FieldError
// naming the input field at fault, so that two spellings of one property compare equal.
// Line1 wins over OneLine when both are set; a unit in Line2 ("Apt 4") joins the unit of
// Line1. A PO box is a *FieldError on "address" wrapping ErrPOBox. A missing ZIP is allowed
// when city and state are present (Key then falls back to them).
func Normalize(in Input) (Address, error) {
	var a Address
	_, err := normalize(&a, in, false, nil)
	return a, err
}

// NormalizeWithKey is Normalize that also returns the address's Key. A reader that keys every
// row of a file calls it: the address and its key share one allocation.
func NormalizeWithKey(in Input) (Address, string, error) {
	var a Address
	key, err := normalize(&a, in, true, nil)
	return a, key, err
}

// NormalizeInto is NormalizeWithKey writing the address into *dst (left unchanged on error),
// for a reader that builds rows in place: an Address is 13 strings, and copying it from call
// to call shows in the per-row cost of a large file.
func NormalizeInto(dst *Address, in Input) (key string, err error) {
	return normalize(dst, in, true, nil)
}

// Arena holds the text of many normalized addresses in shared blocks, so that a reader that
// normalizes every row of a large file pays one allocation per block instead of one per
// address. A block stays in memory while any address taken from it is kept, so an Arena
// suits rows that are processed and dropped (or kept together), not a long-lived cache of a
// few addresses out of many. It also remembers the city and state spellings of recent rows
// (placeMemo). The zero value is ready to use; it is not safe for concurrent use.
type Arena struct {
	block []byte
	memo  placeMemo
}

// arenaBlock is the size of one Arena block: about 60 addresses.
const arenaBlock = 4 << 10

// NormalizeInto is the package's NormalizeInto taking the address text from the arena.
func (ar *Arena) NormalizeInto(dst *Address, in Input) (key string, err error) {
	return normalize(dst, in, true, ar)
}

// store copies b into the current block and returns it as a string. Bytes once handed out are
// never written again: later strings take the block's free tail or a new block.
func (ar *Arena) store(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if cap(ar.block)-len(ar.block) < len(b) {
		ar.block = make([]byte, 0, max(arenaBlock, len(b)))
	}
	at := len(ar.block)
	ar.block = append(ar.block, b...)
	return unsafeString(ar.block[at:len(ar.block):len(ar.block)])
}

// normalize parses into scratch memory on the stack and copies the result into one string at
// the end (render), so that an address costs one allocation whatever its number of parts.
// With an arena the string is taken from it.
func normalize(dst *Address, in Input, withKey bool, arena *Arena) (string, error) {
	if trimSpace(in.Line1) == "" && trimSpace(in.OneLine) != "" {
		parts, err := ParseOneLine(in.OneLine)
		if err != nil {
			return "", err
		}
		in = fillFrom(parts, in)
	}
	var scratch [256]byte
	buf, unit2 := parseLine2(scratch[:0], in.Line2)
	buf, street, fe := parseStreetAndUnit(buf, in.Line1, unit2)
	if fe != nil {
		return "", fe
	}
	state, fe := arena.state(in.State)
	if fe != nil {
		return "", fe
	}
	zip5, zip4, fe := parseZIP(in.ZIP)
	if fe != nil {
		return "", fe
	}
	city, fe := arena.city(buf, in.City)
	if fe != nil {
		return "", fe
	}
	if zip5 == "" && city == "" {
		return "", &FieldError{Field: "city", Reason: "missing city (needed when the ZIP is missing)"}
	}
	if zip5 == "" && state == "" {
		return "", &FieldError{Field: "state", Reason: "missing state (needed when the ZIP is missing)"}
	}
	unit := dropRepeat(street.unit.Text, unit2)
	if strings.Count(unit, " ") >= maxFieldWords {
		// Line 2 takes at most maxFieldWords words, and the unit must read back from there.
		return "", &FieldError{Field: "address", Reason: "unit has too many words"}
	}
	return render(dst, &street, unit, city, place{state, zip5, zip4}, withKey, arena), nil
}

// parseStreetAndUnit parses line 1 followed by the unit of line 2 (as parseLine2 rendered
// it, may be empty), taking the fast path for a plain line 1 when it can.
func parseStreetAndUnit(buf []byte, line1, unit2 string) ([]byte, streetLine, *FieldError) {
	if unit2 == "" {
		return parseStreet(buf, line1)
	}
	if b, st, ok := plainStreetWithUnit(buf, line1, unit2); ok {
		return b, st, nil
	}
	at := len(buf)
	buf = append(append(append(buf, line1...), ' '), unit2...)
	return parseStreet(buf, unsafeString(buf[at:]))
}

// place is the part of an address that needs no copying: the state comes from a table and
// the ZIP from the input.
type place struct{ state, zip5, zip4 string }

// span locates a field inside the rendered string.
type span struct{ at, n int }

func (s span) of(text string) string { return text[s.at : s.at+s.n] }

// appendSpan appends v to b and returns where it went.
func appendSpan(b []byte, v string) ([]byte, span) {
	return append(b, v...), span{len(b), len(v)}
}

// render copies the parts into one string (taken from arena when it is not nil) and slices every text field from it: line 1 (its
// parts are slices of it), then the rest of the key when asked for, unit, unit type and
// number, and city.
// Street, unit and city text are copied (they may live in scratch memory); pl is kept as is.
func render(dst *Address, st *streetLine, unitText, cityText string, pl place, withKey bool, arena *Arena) string {
	var stack [192]byte
	b := stack[:0]
	var at [5]span
	for i, v := range [5]string{st.number, st.preDir, st.street, st.suffix, st.postDir} {
		if v == "" {
			continue
		}
		if len(b) > 0 {
			b = append(b, ' ')
		}
		b, at[i] = appendSpan(b, v)
	}
	line1 := span{0, len(b)}
	if withKey {
		b = appendKeyTail(b, unitText, cityText, pl.state, pl.zip5)
	}
	key := span{0, len(b)}
	b, unit := appendSpan(b, unitText)
	b, unitType := appendSpan(b, st.unit.Type)
	b, unitNumber := appendSpan(b, st.unit.Number)
	b, city := appendSpan(b, cityText)
	var text string
	if arena != nil {
		text = arena.store(b)
	} else {
		text = string(b)
	}
	// Field by field: assigning a whole Address literal builds it on the stack and copies it.
	dst.Number, dst.PreDir, dst.Street = at[0].of(text), at[1].of(text), at[2].of(text)
	dst.Suffix, dst.PostDir, dst.Line1 = at[3].of(text), at[4].of(text), line1.of(text)
	dst.UnitType, dst.UnitNumber, dst.Unit = unitType.of(text), unitNumber.of(text), unit.of(text)
	dst.City, dst.State, dst.ZIP5, dst.ZIP4 = city.of(text), pl.state, pl.zip5, pl.zip4
	if !withKey {
		return ""
	}
	return key.of(text)
}

// fillFrom takes the parts of a one-line address and keeps separate City, State and ZIP
// values of the original input where the one line lacked them.
func fillFrom(parts, in Input) Input {
	parts.Line2 = in.Line2
	if parts.City == "" {
		parts.City = in.City
	}
	if parts.State == "" {
		parts.State = in.State
	}
	if parts.ZIP == "" {
		parts.ZIP = in.ZIP
	}
	return parts
}

// parseLine2 reads a second address line as a unit and renders it the Pub 28 way: "Apt 4",
// "#5", "Suite 200", or a lone value such as "4B" (written "# 4B": Pub 28 marks an unknown
// designator with "#"). The unit is then parsed as part of line 1, exactly as it would be in
// a one-line address. Other text (care-of or company names) is not part of the property
// address and is dropped.
// The text lives in buf (see tokenizeInto), which it returns extended.
func parseLine2(buf []byte, line string) ([]byte, string) {
	if trimSpace(line) == "" {
		return buf, ""
	}
	var ends [16]int
	buf, clean, bounds := cleanInto(buf, ends[:0], line)
	var stack [8]string
	total := len(bounds) / 2
	for k := range min(total, len(stack)) {
		stack[k] = clean[bounds[2*k]:bounds[2*k+1]]
	}
	words := stack[:min(total, len(stack))]
	if total > len(words) && total <= maxFieldWords { // rare: take owned copies
		_, words = tokenize(make([]string, 0, total), line)
	}
	var u unitParts
	switch {
	case total == 0 || total > maxFieldWords:
	case isUnitTail(words):
		buf, u = renderUnits(buf, words, false)
	case len(words) == 1 && isUnitValue(words[0], false):
		buf, u = renderUnits(buf, words, true)
	}
	return buf, u.Text
}

// dropRepeat collapses a unit that line 1 and line 2 both carried ("APT 4 APT 4").
func dropRepeat(unit, line2 string) string {
	n := len(line2)
	if n > 0 && len(unit) == 2*n+1 && unit[:n] == line2 && unit[n+1:] == line2 {
		return line2
	}
	return unit
}

// Key is the dedupe key: normalized line 1, the unit's numbers and ZIP5 (city and state
// when the ZIP is missing), as in "123 MAIN ST|4|62701". Two inputs that name the same
// property produce the same key. The unit part ignores designators that carry a number:
// Pub 28 writes "#" when the designator is unknown, so "APT 4", "# 4" and "UNIT 4" all name
// unit 4 of the building and share a key. A designator without a number ("REAR") is kept.
// Unit stays as written for display.
func (a Address) Key() string {
	var stack [128]byte // the key is built here and copied once into the string
	b := append(stack[:0], a.Line1...)
	return string(appendKeyTail(b, a.Unit, a.City, a.State, a.ZIP5))
}

// appendKeyTail appends what follows line 1 in a key: "|", the unit key, "|", and ZIP5 or
// "CITY,ST".
func appendKeyTail(b []byte, unit, city, state, zip5 string) []byte {
	b = append(b, '|')
	b = appendUnitKey(b, unit)
	b = append(b, '|')
	if zip5 != "" {
		return append(b, zip5...)
	}
	b = append(b, city...)
	b = append(b, ',')
	return append(b, state...)
}

// appendUnitKey appends the designator-insensitive form of a normalized unit: each group's
// value ("BLDG 3 APT 4" -> "3 4"), or its designator when it has none ("REAR").
func appendUnitKey(b []byte, unit string) []byte {
	start := len(b)
	for unit != "" {
		w := unit
		if i := indexByte(unit, ' '); i >= 0 {
			w, unit = unit[:i], unit[i+1:]
		} else {
			unit = ""
		}
		if isDesignator(w) && hasValue(unit) {
			continue // a value follows and stands for the group
		}
		if len(b) > start {
			b = append(b, ' ')
		}
		b = append(b, w...)
	}
	return b
}

// isDesignator reports whether a word of a normalized unit is a designator or "#".
func isDesignator(w string) bool { return w == "#" || lookupWord(w).unit.abbr != "" }

// hasValue reports whether the rest of a normalized unit starts with a value, possibly
// after an explicit '#' ("# AAA").
func hasValue(rest string) bool {
	w := rest
	if i := indexByte(rest, ' '); i >= 0 {
		w = rest[:i]
		if w == "#" {
			return hasValue(rest[i+1:])
		}
	}
	return w != "" && !isDesignator(w)
}

// Hash is the seed's property_hash: a stable hex digest of a dedupe key.
func Hash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}

// OneLine renders the address as "123 N MAIN ST APT 4, SPRINGFIELD, IL 62701".
func (a Address) OneLine() string {
	s := a.Line1
	if a.Unit != "" {
		s += " " + a.Unit
	}
	if a.City != "" || a.State != "" {
		s += ", " + a.City
		if a.State != "" {
			s += ", " + a.State
		}
	}
	if a.ZIP5 != "" {
		if a.City == "" && a.State == "" {
			s += "," // keeps the street apart from the ZIP for ParseOneLine
		}
		s += " " + a.ZIP5
		if a.ZIP4 != "" {
			s += "-" + a.ZIP4
		}
	}
	return s
}
