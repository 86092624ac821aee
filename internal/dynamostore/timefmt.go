package dynamostore

import (
	"fmt"
	"time"
)

// timeLayout is RFC 3339 in UTC with a fixed nine-digit fraction. time.RFC3339Nano drops
// trailing zeros ("…:05Z" vs "…:05.5Z"), and then string order is not time order, which
// the by_created and by_updated sort keys rely on. time.RFC3339Nano still parses it.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// formatTime renders t for storage; the zero time is stored like any other.
func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// formatTimePtr renders an optional time; nil stays absent (the empty string is omitted).
func formatTimePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return formatTime(*t)
}

// parseTime reads a stored time back in UTC; field names the attribute in the error.
func parseTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("dynamostore: attribute %s: bad time %q: %w", field, s, err)
	}
	return t.UTC(), nil
}

// parseTimePtr reads an optional time: an absent attribute is nil.
func parseTimePtr(field, s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := parseTime(field, s)
	if err != nil {
		return nil, err
	}
	return &t, nil
}
