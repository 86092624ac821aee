package statemachine

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// fields reads one JSON object of a definition, checking types and
// remembering the first problem with the object's location and field name.
type fields struct {
	obj   map[string]any
	where string
	err   error
}

func newFields(v any, where string) (*fields, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: must be a JSON object, got %s", where, jsonKind(v))
	}
	return &fields{obj: obj, where: where}, nil
}

func (f *fields) fail(field, format string, args ...any) {
	if f.err == nil {
		f.err = fmt.Errorf("%s: field %q: %s", f.where, field, fmt.Sprintf(format, args...))
	}
}

func (f *fields) has(key string) bool {
	_, ok := f.obj[key]
	return ok
}

func (f *fields) str(key string) string {
	v, ok := f.obj[key]
	if !ok {
		return ""
	}
	s, isStr := v.(string)
	if !isStr {
		f.fail(key, "must be a string, got %s", jsonKind(v))
	}
	return s
}

func (f *fields) requiredStr(key string) string {
	if !f.has(key) {
		f.fail(key, "is required")
		return ""
	}
	s := f.str(key)
	if s == "" {
		f.fail(key, "must not be empty")
	}
	return s
}

func (f *fields) boolean(key string) bool {
	v, ok := f.obj[key]
	if !ok {
		return false
	}
	b, isBool := v.(bool)
	if !isBool {
		f.fail(key, "must be true or false, got %s", jsonKind(v))
	}
	return b
}

func (f *fields) number(key string) (float64, bool) {
	v, ok := f.obj[key]
	if !ok {
		return 0, false
	}
	n, isNum := v.(jsonNumber)
	if !isNum {
		f.fail(key, "must be a number, got %s", jsonKind(v))
		return 0, false
	}
	x, err := n.Float64()
	if err != nil {
		f.fail(key, "bad number %s", n)
	}
	return x, true
}

// integer reads a whole number >= lowest.
func (f *fields) integer(key string, lowest int64) (int64, bool) {
	x, ok := f.number(key)
	if !ok {
		return 0, false
	}
	if x != math.Trunc(x) || x < float64(lowest) || x > 99999999 {
		f.fail(key, "must be a whole number from %d to 99999999, got %v", lowest, f.obj[key])
		return 0, false
	}
	return int64(x), true
}

// path reads an optional path field; null reports an explicit null.
func (f *fields) path(key string) (p *jsonPath, null bool) {
	v, ok := f.obj[key]
	if !ok {
		return nil, false
	}
	if v == nil {
		return nil, true
	}
	s, isStr := v.(string)
	if !isStr {
		f.fail(key, "must be a JSONPath string or null, got %s", jsonKind(v))
		return nil, false
	}
	parsed, err := parsePath(s)
	if err != nil {
		f.fail(key, "%v", err)
		return nil, false
	}
	return &parsed, false
}

// referencePath reads a path that must name a single node of the input
// ($, $.a.b, $['a']): no array index and no context object.
func (f *fields) referencePath(key string) (*jsonPath, bool) {
	p, null := f.path(key)
	if p != nil && (p.context || p.hasIndex()) {
		f.fail(key, "%q must be a reference path such as $.a.b (no $$ and no [index])", p.raw)
		return nil, false
	}
	return p, null
}

func (f *fields) template(key string) *payloadTemplate {
	v, ok := f.obj[key]
	if !ok {
		return nil
	}
	if _, isObj := v.(map[string]any); !isObj {
		f.fail(key, "must be a JSON object, got %s", jsonKind(v))
		return nil
	}
	t, err := compileTemplate(v, key)
	if err != nil {
		f.fail(key, "%v", err)
	}
	return t
}

func (f *fields) stringList(key string) []string {
	v, ok := f.obj[key]
	if !ok {
		f.fail(key, "is required")
		return nil
	}
	arr, isArr := v.([]any)
	if !isArr || len(arr) == 0 {
		f.fail(key, "must be a non-empty array of strings")
		return nil
	}
	out := make([]string, 0, len(arr))
	for _, item := range arr {
		s, isStr := item.(string)
		if !isStr {
			f.fail(key, "must contain only strings, got %s", jsonKind(item))
			return nil
		}
		out = append(out, s)
	}
	return out
}

// notSupported names fields of the ASL specification that this runner
// refuses, so the message can say so rather than "unknown field".
var notSupported = map[string]bool{
	"Credentials": true, "TimeoutSecondsPath": true, "HeartbeatSecondsPath": true,
	"ItemBatcher": true, "MaxConcurrencyPath": true, "ToleratedFailureCountPath": true,
	"ToleratedFailurePercentagePath": true, "Arguments": true, "Output": true,
	"Assign": true, "QueryLanguage": true, "Branches": true, "Items": true, "ItemsPointer": true,
}

// onlyAllowed refuses any field not in allowed.
func (f *fields) onlyAllowed(allowed ...string) {
	keys := make([]string, 0, len(f.obj))
	for k := range f.obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case containsString(allowed, k):
		case notSupported[k]:
			f.fail(k, "is not supported by the local runner")
		default:
			f.fail(k, "is not a valid field here (allowed: %s)", strings.Join(allowed, ", "))
		}
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
