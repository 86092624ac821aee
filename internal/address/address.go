// Package address normalizes US street addresses by USPS Publication 28 so that the same
// property written two ways yields the same dedupe key.
package address

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
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

// Normalize turns an Input into a normalized Address or a *FieldError.
func Normalize(in Input) (Address, error) {
	return Address{}, &FieldError{Field: "address", Reason: "not implemented"}
}

// Key is the dedupe key: normalized line 1, unit and ZIP5, or city and state when the ZIP
// is missing. Two inputs that name the same property produce the same key.
func (a Address) Key() string {
	place := a.ZIP5
	if place == "" {
		place = a.City + "," + a.State
	}
	return a.Line1 + "|" + a.Unit + "|" + place
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
		s += " " + a.ZIP5
		if a.ZIP4 != "" {
			s += "-" + a.ZIP4
		}
	}
	return s
}
