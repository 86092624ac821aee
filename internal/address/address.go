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
	if strings.TrimSpace(in.Line1) == "" && strings.TrimSpace(in.OneLine) != "" {
		parts, err := ParseOneLine(in.OneLine)
		if err != nil {
			return Address{}, err
		}
		in = fillFrom(parts, in)
	}
	line := in.Line1
	unit2 := parseLine2(in.Line2)
	if unit2 != "" {
		line += " " + unit2
	}
	street, fe := parseStreet(line)
	if fe != nil {
		return Address{}, fe
	}
	a := Address{
		Number: street.number, PreDir: street.preDir, Street: street.street,
		Suffix: street.suffix, PostDir: street.postDir, Line1: street.line1,
		UnitType: street.unit.Type, UnitNumber: street.unit.Number, Unit: dropRepeat(street.unit.Text, unit2),
	}
	if a.State, fe = parseState(in.State); fe != nil {
		return Address{}, fe
	}
	if a.ZIP5, a.ZIP4, fe = parseZIP(in.ZIP); fe != nil {
		return Address{}, fe
	}
	if a.City, fe = parseCity(in.City); fe != nil {
		return Address{}, fe
	}
	if a.ZIP5 == "" && a.City == "" {
		return Address{}, &FieldError{Field: "city", Reason: "missing city (needed when the ZIP is missing)"}
	}
	if a.ZIP5 == "" && a.State == "" {
		return Address{}, &FieldError{Field: "state", Reason: "missing state (needed when the ZIP is missing)"}
	}
	return a, nil
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
func parseLine2(line string) string {
	if strings.TrimSpace(line) == "" {
		return ""
	}
	var stack [8]string
	_, words := tokenize(stack[:0], line)
	switch {
	case len(words) == 0 || len(words) > maxFieldWords:
		return ""
	case isUnitTail(words):
		return renderUnits(words, false).Text
	case len(words) == 1 && isUnitValue(words[0], false):
		return renderUnits(words, true).Text
	}
	return ""
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
	b = append(b, '|')
	b = appendUnitKey(b, a.Unit)
	b = append(b, '|')
	if a.ZIP5 != "" {
		b = append(b, a.ZIP5...)
	} else {
		b = append(b, a.City...)
		b = append(b, ',')
		b = append(b, a.State...)
	}
	return string(b)
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
