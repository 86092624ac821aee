package property

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// FieldError says which field of which source could not be read, so the caller can report
// "file x, line 12, field assessed_value: ..." without guessing.
type FieldError struct {
	Source string // "attom:expandedprofile", "county:cook"
	Field  string // the source's field name: "assessed_value", "sale.saleTransDate"
	Value  string
	Reason string
}

func (e *FieldError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s: field %s: %s", e.Source, e.Field, e.Reason)
	}
	return fmt.Sprintf("%s: field %s: %q %s", e.Source, e.Field, e.Value, e.Reason)
}

// dateLayouts are the spellings sources use for dates; the model stores YYYY-MM-DD.
var dateLayouts = []string{
	"2006-01-02",
	"2006-1-2",
	"2006-01-02T15:04:05",
	time.RFC3339,
	"2006/01/02",
	"2006/1/2",
	"01/02/2006",
	"1/2/2006",
	"01-02-2006",
	"20060102",
}

// parseDate reads any of dateLayouts.
func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("is not a date (want YYYY-MM-DD or MM/DD/YYYY)")
}

// isoDate converts a source date to YYYY-MM-DD; empty stays empty.
func isoDate(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	t, err := parseDate(s)
	if err != nil {
		return "", err
	}
	return t.Format("2006-01-02"), nil
}

// parseAmount reads a number a person or a county wrote: "$250,000", " 3.5 ", "-12".
// Empty is unknown (nil).
func parseAmount(s string) (*float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	clean := strings.NewReplacer("$", "", ",", "", " ", "").Replace(s)
	v, err := strconv.ParseFloat(clean, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return nil, fmt.Errorf("is not a number")
	}
	return &v, nil
}

// parseFlag reads yes/no spellings. Empty (and "unknown") is unknown (nil).
func parseFlag(s string) (*bool, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "", "UNKNOWN", "U", "N/A", "NA":
		return nil, nil
	case "Y", "YES", "TRUE", "T", "1", "X":
		return ptr(true), nil
	case "N", "NO", "FALSE", "F", "0":
		return ptr(false), nil
	}
	return nil, fmt.Errorf("is not yes/no (want Y, N, yes, no, true, false, 1 or 0)")
}

// numPtr turns an ATTOM-like (value, valid) pair into a pointer: absent stays nil.
func numPtr(v float64, valid bool) *float64 {
	if !valid || math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// intPtr is numPtr for whole numbers such as years.
func intPtr(v float64, valid bool) *int {
	if !valid || math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	i := int(v)
	return &i
}
