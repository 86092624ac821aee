package statemachine

import (
	"fmt"
	"sort"
	"strings"
)

// payloadTemplate is a compiled Parameters, ItemSelector or ResultSelector
// object: literal values, plus "key.$" fields that take a path or an
// intrinsic function.
type payloadTemplate struct {
	literal any
	fields  []templateField // set for objects
	items   []*payloadTemplate
	isObj   bool
	isArr   bool
	path    *jsonPath
	call    *intrinsicCall
}

type templateField struct {
	key   string
	value *payloadTemplate
}

// compileTemplate compiles v; where names the field for error messages.
func compileTemplate(v any, where string) (*payloadTemplate, error) {
	switch t := v.(type) {
	case map[string]any:
		return compileObject(t, where)
	case []any:
		out := &payloadTemplate{isArr: true}
		for i, item := range t {
			c, err := compileTemplate(item, fmt.Sprintf("%s[%d]", where, i))
			if err != nil {
				return nil, err
			}
			out.items = append(out.items, c)
		}
		return out, nil
	}
	return &payloadTemplate{literal: v}, nil
}

func compileObject(obj map[string]any, where string) (*payloadTemplate, error) {
	out := &payloadTemplate{isObj: true}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		field := where + "." + k
		name, dynamic := strings.CutSuffix(k, ".$")
		if !dynamic {
			c, err := compileTemplate(obj[k], field)
			if err != nil {
				return nil, err
			}
			out.fields = append(out.fields, templateField{key: k, value: c})
			continue
		}
		c, err := compileDynamic(obj[k], field)
		if err != nil {
			return nil, err
		}
		out.fields = append(out.fields, templateField{key: name, value: c})
	}
	return out, nil
}

func compileDynamic(v any, field string) (*payloadTemplate, error) {
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("field %q: a key ending in .$ needs a path or intrinsic string, got %s", field, jsonKind(v))
	}
	if strings.HasPrefix(s, "States.") {
		call, err := parseIntrinsic(s)
		if err != nil {
			return nil, fmt.Errorf("field %q: %v", field, err)
		}
		return &payloadTemplate{call: call}, nil
	}
	p, err := parsePath(s)
	if err != nil {
		return nil, fmt.Errorf("field %q: %v", field, err)
	}
	return &payloadTemplate{path: &p}, nil
}

// eval builds the payload in scope.
func (t *payloadTemplate) eval(s scope) (any, error) {
	switch {
	case t.path != nil:
		v, ok := s.lookup(*t.path)
		if !ok {
			return nil, newStateError(StatesParameterPathFailure, "the JSONPath %s could not be found in the input %s", t.path.raw, s.describe(*t.path))
		}
		return v, nil
	case t.call != nil:
		return t.call.eval(s)
	case t.isObj:
		out := make(map[string]any, len(t.fields))
		for _, f := range t.fields {
			v, err := f.value.eval(s)
			if err != nil {
				return nil, err
			}
			out[f.key] = v
		}
		return out, nil
	case t.isArr:
		out := make([]any, len(t.items))
		for i, item := range t.items {
			v, err := item.eval(s)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	return t.literal, nil
}

// field returns the compiled sub-template for key, for resources such as
// lambda:invoke that read named parameters.
func (t *payloadTemplate) field(key string) *payloadTemplate {
	if t == nil {
		return nil
	}
	for _, f := range t.fields {
		if f.key == key {
			return f.value
		}
	}
	return nil
}
