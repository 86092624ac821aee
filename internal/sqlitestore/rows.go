package sqlitestore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// kind says how a Go field, seen through its JSON form, is kept in a column.
type kind int

const (
	textNull  kind = iota // TEXT, NULL when empty (the seed's optional columns)
	text                  // TEXT NOT NULL
	integer               // INTEGER
	intNull               // INTEGER, NULL when zero or absent
	boolean               // INTEGER 0/1
	number                // REAL, NULL when absent (optional numbers)
	timestamp             // TEXT, timeLayout in UTC, NULL when absent
	document              // TEXT holding JSON (lists, maps, nested structs), NULL when absent
)

// column maps one JSON field of a port type to the column of the same name.
type column struct {
	name string
	kind kind
}

// table describes how a port type is stored: the mapping goes through the type's JSON form,
// so every field is either in its column or, lacking one, in the table's "extra" column.
type table struct {
	name    string
	columns []column
}

// names lists the columns, extra last, for SELECT and INSERT.
func (t table) names() string {
	var b strings.Builder
	for _, c := range t.columns {
		b.WriteString(c.name)
		b.WriteString(", ")
	}
	b.WriteString("extra")
	return b.String()
}

// placeholders is "?, ?, ..." for every column and extra.
func (t table) placeholders() string {
	return strings.TrimSuffix(strings.Repeat("?, ", len(t.columns)+1), ", ")
}

// setKeeping is the "(cols) = (values)" of an UPDATE that writes args (from toRow) except
// for the kept columns, which keep their stored value.
func (t table) setKeeping(args []any, keep ...string) (string, []any) {
	kept := make(map[string]bool, len(keep))
	for _, k := range keep {
		kept[k] = true
	}
	values := make([]string, 0, len(args))
	setArgs := make([]any, 0, len(args))
	for i, c := range t.columns {
		if kept[c.name] {
			values = append(values, c.name)
			continue
		}
		values = append(values, "?")
		setArgs = append(setArgs, args[i])
	}
	values = append(values, "?")
	setArgs = append(setArgs, args[len(t.columns)])
	return "(" + t.names() + ") = (" + strings.Join(values, ", ") + ")", setArgs
}

// toRow turns v into column values in names() order.
func (t table) toRow(v any) ([]any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	fields := map[string]json.RawMessage{}
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, err
	}
	args := make([]any, 0, len(t.columns)+1)
	for _, c := range t.columns {
		val, err := c.kind.toSQL(fields[c.name])
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t.name, c.name, err)
		}
		args = append(args, val)
		delete(fields, c.name)
	}
	extra, err := extraText(fields)
	if err != nil {
		return nil, err
	}
	return append(args, extra), nil
}

// extraText encodes the fields that have no column, or NULL when there are none.
func extraText(fields map[string]json.RawMessage) (any, error) {
	for k, v := range fields {
		if isNull(v) {
			delete(fields, k)
		}
	}
	if len(fields) == 0 {
		return nil, nil
	}
	raw, err := json.Marshal(fields)
	return string(raw), err
}

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// scanInto reads one row in names() order into out (a pointer to the port type).
func (t table) scanInto(row scanner, out any) error {
	values := make([]any, len(t.columns)+1)
	ptrs := make([]any, len(values))
	for i := range values {
		ptrs[i] = &values[i]
	}
	if err := row.Scan(ptrs...); err != nil {
		return err
	}
	fields := map[string]json.RawMessage{}
	if extra, ok := values[len(t.columns)].(string); ok && extra != "" {
		if err := json.Unmarshal([]byte(extra), &fields); err != nil {
			return fmt.Errorf("%s.extra: %w", t.name, err)
		}
	}
	for i, c := range t.columns {
		raw, err := c.kind.fromSQL(values[i])
		if err != nil {
			return fmt.Errorf("%s.%s: %w", t.name, c.name, err)
		}
		if raw != nil {
			fields[c.name] = raw
		}
	}
	raw, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// toSQL converts a field's JSON value to the column's SQL value.
func (k kind) toSQL(raw json.RawMessage) (any, error) {
	if isNull(raw) {
		switch k {
		case text:
			return "", nil
		case integer, boolean:
			return 0, nil
		}
		return nil, nil
	}
	switch k {
	case text, textNull:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		if s == "" && k == textNull {
			return nil, nil
		}
		return s, nil
	case integer, intNull:
		var n int64
		if err := json.Unmarshal(raw, &n); err != nil {
			return nil, err
		}
		if n == 0 && k == intNull {
			return nil, nil
		}
		return n, nil
	case boolean:
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return nil, err
		}
		if b {
			return 1, nil
		}
		return 0, nil
	case number:
		var f float64
		err := json.Unmarshal(raw, &f)
		return f, err
	case timestamp:
		var tm time.Time
		if err := json.Unmarshal(raw, &tm); err != nil {
			return nil, err
		}
		return formatTime(tm), nil
	default: // document
		return string(raw), nil
	}
}

// fromSQL converts a column's SQL value back to the field's JSON value; nil leaves the
// field at its zero value.
func (k kind) fromSQL(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	switch k {
	case text, textNull, timestamp:
		s, err := asString(v)
		if err != nil {
			return nil, err
		}
		if k == timestamp {
			if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
				return nil, err
			}
		}
		return json.Marshal(s)
	case integer, intNull:
		n, ok := v.(int64)
		if !ok {
			return nil, fmt.Errorf("want an integer, got %T", v)
		}
		return json.Marshal(n)
	case boolean:
		n, ok := v.(int64)
		if !ok {
			return nil, fmt.Errorf("want 0 or 1, got %T", v)
		}
		return json.Marshal(n != 0)
	case number:
		switch n := v.(type) {
		case float64:
			return json.Marshal(n)
		case int64:
			return json.Marshal(n)
		}
		return nil, fmt.Errorf("want a number, got %T", v)
	default: // document
		s, err := asString(v)
		return json.RawMessage(s), err
	}
}

func asString(v any) (string, error) {
	switch s := v.(type) {
	case string:
		return s, nil
	case []byte:
		return string(s), nil
	}
	return "", fmt.Errorf("want text, got %T", v)
}
