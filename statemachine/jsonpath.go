package statemachine

import (
	"fmt"
	"maps"
	"strconv"
	"strings"
)

// jsonPath is a parsed path of the supported subset: $, $.a.b, $.a[0] and
// $['a'] (and the same rooted at $$, the context object).
type jsonPath struct {
	raw     string
	context bool // rooted at $$
	segs    []pathSeg
}

type pathSeg struct {
	key     string
	index   int
	isIndex bool
}

// errUnsupportedPath explains the subset in every refusal, so the author of
// a definition knows what to write instead.
const pathSubset = "only $, $.a.b, $.a[0] and $['a'] are supported"

// parsePath parses p, refusing anything outside the supported subset.
func parsePath(p string) (jsonPath, error) {
	out := jsonPath{raw: p}
	rest, ok := strings.CutPrefix(p, "$")
	if !ok {
		return out, fmt.Errorf("JSONPath %q must start with $", p)
	}
	if r, ok := strings.CutPrefix(rest, "$"); ok {
		out.context, rest = true, r
	}
	for rest != "" {
		seg, next, err := parseSeg(rest)
		if err != nil {
			return out, fmt.Errorf("JSONPath %q: %v (%s)", p, err, pathSubset)
		}
		out.segs = append(out.segs, seg)
		rest = next
	}
	return out, nil
}

func parseSeg(s string) (pathSeg, string, error) {
	switch s[0] {
	case '.':
		return parseDotSeg(s[1:])
	case '[':
		return parseBracketSeg(s[1:])
	}
	return pathSeg{}, "", fmt.Errorf("unexpected %q", s)
}

func parseDotSeg(s string) (pathSeg, string, error) {
	end := strings.IndexAny(s, ".[")
	if end < 0 {
		end = len(s)
	}
	name := s[:end]
	if name == "" {
		return pathSeg{}, "", fmt.Errorf("empty field name (recursive descent .. is not supported)")
	}
	if strings.ContainsAny(name, "*@?()],:'\"") {
		return pathSeg{}, "", fmt.Errorf("field %q uses an unsupported operator", name)
	}
	return pathSeg{key: name}, s[end:], nil
}

func parseBracketSeg(s string) (pathSeg, string, error) {
	if s != "" && (s[0] == '\'' || s[0] == '"') {
		q := s[0]
		end := strings.IndexByte(s[1:], q)
		if end < 0 || len(s) < end+3 || s[end+2] != ']' {
			return pathSeg{}, "", fmt.Errorf("unterminated ['name']")
		}
		return pathSeg{key: s[1 : end+1]}, s[end+3:], nil
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return pathSeg{}, "", fmt.Errorf("unterminated [")
	}
	n, err := strconv.Atoi(s[:end])
	if err != nil || n < 0 || s[:end] != strconv.Itoa(n) {
		return pathSeg{}, "", fmt.Errorf("[%s] is not a non-negative array index", s[:end])
	}
	return pathSeg{index: n, isIndex: true}, s[end+1:], nil
}

// isRoot reports whether the path is just $ (or $$).
func (p jsonPath) isRoot() bool { return len(p.segs) == 0 }

func (p jsonPath) hasIndex() bool {
	for _, s := range p.segs {
		if s.isIndex {
			return true
		}
	}
	return false
}

// get returns the value at p inside root, and whether it exists.
func (p jsonPath) get(root any) (any, bool) {
	cur := root
	for _, s := range p.segs {
		if s.isIndex {
			arr, ok := cur.([]any)
			if !ok || s.index >= len(arr) {
				return nil, false
			}
			cur = arr[s.index]
			continue
		}
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[s.key]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// set returns a copy of root with value placed at p, creating missing
// intermediate objects. Objects along the path are copied, never mutated, so
// earlier states' values (kept in the history) stay intact.
func (p jsonPath) set(root, value any) (any, error) {
	if p.isRoot() {
		return value, nil
	}
	return setSegs(root, p.segs, value, "$")
}

func setSegs(node any, segs []pathSeg, value any, where string) (any, error) {
	obj, ok := node.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s is %s, not an object", where, jsonKind(node))
	}
	s := segs[0]
	copied := make(map[string]any, len(obj)+1)
	maps.Copy(copied, obj)
	if len(segs) == 1 {
		copied[s.key] = value
		return copied, nil
	}
	child, exists := obj[s.key]
	if !exists || child == nil {
		child = map[string]any{}
	}
	nested, err := setSegs(child, segs[1:], value, where+"."+s.key)
	if err != nil {
		return nil, err
	}
	copied[s.key] = nested
	return copied, nil
}

// jsonKind names a decoded JSON value's type for error messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	default:
		return "a number"
	}
}
