package statemachine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
)

// Machine is a loaded, validated state machine definition, ready to Run any
// number of times (concurrently too).
type Machine struct {
	def   *machineDef
	notes []string
}

// Notes lists fields the definition uses that the local runner accepts but
// ignores (for example ResultWriter), so callers can log them once.
func (m *Machine) Notes() []string { return append([]string(nil), m.notes...) }

var placeholder = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// topLevelFields are the fields a definition may have at its root.
var topLevelFields = []string{"StartAt", "States", "Comment", "Version", "TimeoutSeconds", "QueryLanguage"}

// Load substitutes ${Name} placeholders with subs (the same text
// substitution CloudFormation's DefinitionSubstitutions performs), parses the
// definition and validates it, refusing any construct the local runner does
// not implement, so what loads here runs here as it would on AWS.
func Load(definition []byte, subs map[string]string) (*Machine, error) {
	text, err := substitute(definition, subs)
	if err != nil {
		return nil, err
	}
	if err := checkSyntax(text); err != nil {
		return nil, err
	}
	doc, err := decodeJSON(text)
	if err != nil {
		return nil, fmt.Errorf("definition: %v", err)
	}
	if root, ok := doc.(map[string]any); ok {
		if ql, has := root["QueryLanguage"]; has && ql != "JSONPath" {
			return nil, fmt.Errorf("definition: field \"QueryLanguage\": only JSONPath is supported by the local runner, got %v", ql)
		}
	}
	p := &parser{}
	def, err := p.machine(doc, "definition", "", topLevelFields)
	if err != nil {
		return nil, err
	}
	return &Machine{def: def, notes: p.notes}, nil
}

// LoadFile is Load for a file, naming the file in every error.
func LoadFile(path string, subs map[string]string) (*Machine, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := Load(data, subs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// substitute replaces every ${Name} with subs[Name], refusing the
// definition if any placeholder has no value.
func substitute(definition []byte, subs map[string]string) ([]byte, error) {
	missing := map[string]bool{}
	out := placeholder.ReplaceAllFunc(definition, func(m []byte) []byte {
		name := string(m[2 : len(m)-1])
		v, ok := subs[name]
		if !ok {
			missing[name] = true
			return m
		}
		return []byte(v)
	})
	if len(missing) > 0 {
		names := make([]string, 0, len(missing))
		for n := range missing {
			names = append(names, "${"+n+"}")
		}
		sort.Strings(names)
		return nil, fmt.Errorf("definition: no substitution given for %s", strings.Join(names, ", "))
	}
	return out, nil
}

// checkSyntax reports JSON syntax errors and duplicate keys (which AWS
// refuses but encoding/json would silently collapse) with line and column.
func checkSyntax(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		isObj     bool
		expectKey bool
		keys      map[string]bool
	}
	var stack []*frame
	for {
		offset := dec.InputOffset()
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				offset = se.Offset
			}
			return fmt.Errorf("definition: %s: invalid JSON: %v", position(data, offset), err)
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].isObj {
				stack[len(stack)-1].expectKey = true
			}
			continue
		}
		if top != nil && top.isObj && top.expectKey {
			key := tok.(string)
			if top.keys[key] {
				return fmt.Errorf("definition: %s: duplicate key %q", position(data, dec.InputOffset()), key)
			}
			top.keys[key] = true
			top.expectKey = false
			continue
		}
		if d, ok := tok.(json.Delim); ok {
			stack = append(stack, &frame{isObj: d == '{', expectKey: d == '{', keys: map[string]bool{}})
			continue
		}
		if top != nil && top.isObj {
			top.expectKey = true
		}
	}
}

// position turns a byte offset into "line L, column C".
func position(data []byte, offset int64) string {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(offset) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}
