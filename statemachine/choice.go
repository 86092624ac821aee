package statemachine

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// operandKind says what a comparison operator compares.
type operandKind int

const (
	kindString operandKind = iota
	kindNumber
	kindBool
	kindTimestamp
	kindTypeTest // IsNull, IsPresent, ...: operand is true or false
)

var comparisonOps = map[string]operandKind{
	"StringEquals": kindString, "StringLessThan": kindString, "StringGreaterThan": kindString,
	"StringLessThanEquals": kindString, "StringGreaterThanEquals": kindString, "StringMatches": kindString,
	"NumericEquals": kindNumber, "NumericLessThan": kindNumber, "NumericGreaterThan": kindNumber,
	"NumericLessThanEquals": kindNumber, "NumericGreaterThanEquals": kindNumber,
	"BooleanEquals":   kindBool,
	"TimestampEquals": kindTimestamp, "TimestampLessThan": kindTimestamp, "TimestampGreaterThan": kindTimestamp,
	"TimestampLessThanEquals": kindTimestamp, "TimestampGreaterThanEquals": kindTimestamp,
	"IsNull": kindTypeTest, "IsPresent": kindTypeTest, "IsNumeric": kindTypeTest,
	"IsString": kindTypeTest, "IsBoolean": kindTypeTest, "IsTimestamp": kindTypeTest,
}

// lookupOp resolves an operator name, including the ...Path variants that
// compare with the value at a second path.
func lookupOp(key string) (base string, kind operandKind, isPath, ok bool) {
	if kind, ok := comparisonOps[key]; ok {
		return key, kind, false, true
	}
	base, cut := strings.CutSuffix(key, "Path")
	kind, ok = comparisonOps[base]
	if !cut || !ok || kind == kindTypeTest || base == "StringMatches" {
		return "", 0, false, false
	}
	return base, kind, true, true
}

func (p *parser) choice(f *fields, st *stateDef) {
	f.onlyAllowed(choiceFields...)
	p.inputOutput(f, st)
	st.defaultNext = f.str("Default")
	arr, ok := f.obj["Choices"].([]any)
	if !ok || len(arr) == 0 {
		f.fail("Choices", "a Choice state needs a non-empty Choices array")
		return
	}
	for i, item := range arr {
		rule, err := parseRule(item, fmt.Sprintf("%s: Choices[%d]", f.where, i), true)
		if err != nil {
			f.err = firstErr(f.err, err)
			return
		}
		st.choices = append(st.choices, rule)
	}
}

func parseRule(v any, where string, topLevel bool) (*choiceRule, error) {
	f, err := newFields(v, where)
	if err != nil {
		return nil, err
	}
	rule := &choiceRule{}
	if topLevel {
		rule.next = f.requiredStr("Next")
	} else if f.has("Next") {
		f.fail("Next", "only top-level choice rules have Next")
	}
	var ops []string
	for k := range f.obj {
		switch k {
		case "Next", "Comment", "Variable":
		default:
			ops = append(ops, k)
		}
	}
	if len(ops) != 1 {
		return nil, fmt.Errorf("%s: a choice rule needs exactly one operator (And, Or, Not or a comparison), got %v", where, ops)
	}
	if err := rule.parseOp(f, ops[0], where); err != nil {
		return nil, err
	}
	return rule, f.err
}

func (r *choiceRule) parseOp(f *fields, op, where string) error {
	switch op {
	case "And", "Or":
		return r.parseCombinator(f, op, where)
	case "Not":
		if f.has("Variable") {
			f.fail("Variable", "Not takes a nested rule, not a Variable")
		}
		nested, err := parseRule(f.obj["Not"], where+".Not", false)
		r.op, r.not = op, nested
		return err
	}
	base, kind, isPath, ok := lookupOp(op)
	if !ok {
		return fmt.Errorf("%s: %q is not a supported choice operator", where, op)
	}
	r.op = base
	r.variable, _ = f.path("Variable")
	if r.variable == nil {
		f.fail("Variable", "a comparison needs a Variable path")
		return f.err
	}
	if isPath {
		r.valuePath, _ = f.path(op)
		return f.err
	}
	return r.parseOperand(f, op, kind)
}

func (r *choiceRule) parseCombinator(f *fields, op, where string) error {
	if f.has("Variable") {
		f.fail("Variable", "%s takes nested rules, not a Variable", op)
	}
	arr, ok := f.obj[op].([]any)
	if !ok || len(arr) == 0 {
		return fmt.Errorf("%s: %s needs a non-empty array of rules", where, op)
	}
	r.op = op
	for i, item := range arr {
		nested, err := parseRule(item, fmt.Sprintf("%s.%s[%d]", where, op, i), false)
		if err != nil {
			return err
		}
		if op == "And" {
			r.and = append(r.and, nested)
		} else {
			r.or = append(r.or, nested)
		}
	}
	return nil
}

func (r *choiceRule) parseOperand(f *fields, op string, kind operandKind) error {
	v := f.obj[op]
	r.value = v
	var ok bool
	switch kind {
	case kindString:
		var s string
		s, ok = v.(string)
		if ok && op == "StringMatches" {
			r.pattern = wildcardPattern(s)
		}
	case kindNumber:
		_, ok = v.(jsonNumber)
	case kindBool, kindTypeTest:
		_, ok = v.(bool)
	case kindTimestamp:
		s, isStr := v.(string)
		ts, err := parseTimestamp(s)
		ok = isStr && err == nil
		r.timestamp = ts
	}
	if !ok {
		f.fail(op, "has the wrong type for this operator: %s", jsonKind(v))
	}
	return f.err
}

// wildcardPattern compiles a StringMatches pattern: * matches any run of
// characters, \* is a literal star and \\ a literal backslash.
func wildcardPattern(s string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`^(?s)`)
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			i++
			b.WriteString(regexp.QuoteMeta(s[i : i+1]))
		case s[i] == '*':
			b.WriteString(`.*`)
		default:
			b.WriteString(regexp.QuoteMeta(s[i : i+1]))
		}
	}
	b.WriteString(`$`)
	return regexp.MustCompile(b.String())
}

// matches evaluates the rule against the Choice state's effective input.
func (r *choiceRule) matches(s scope) (bool, error) {
	switch r.op {
	case "And":
		for _, n := range r.and {
			if ok, err := n.matches(s); err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case "Or":
		for _, n := range r.or {
			if ok, err := n.matches(s); err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case "Not":
		ok, err := r.not.matches(s)
		return !ok, err
	}
	return r.compare(s)
}

func (r *choiceRule) compare(s scope) (bool, error) {
	v, present := s.lookup(*r.variable)
	if r.op == "IsPresent" {
		return present == r.value.(bool), nil
	}
	if !present {
		return false, newStateError(StatesRuntime, "Invalid path '%s': the choice state's condition path references an invalid value", r.variable.raw)
	}
	if kind := comparisonOps[r.op]; kind == kindTypeTest {
		return typeTest(r.op, v) == r.value.(bool), nil
	}
	operand := r.value
	if r.valuePath != nil {
		var ok bool
		if operand, ok = s.lookup(*r.valuePath); !ok {
			return false, newStateError(StatesRuntime, "Invalid path '%s': the choice state's condition path references an invalid value", r.valuePath.raw)
		}
	}
	return r.compareValues(v, operand), nil
}

func typeTest(op string, v any) bool {
	switch op {
	case "IsNull":
		return v == nil
	case "IsNumeric":
		_, ok := v.(jsonNumber)
		return ok
	case "IsString":
		_, ok := v.(string)
		return ok
	case "IsBoolean":
		_, ok := v.(bool)
		return ok
	}
	s, ok := v.(string)
	_, err := parseTimestamp(s)
	return ok && err == nil
}

// compareValues compares like with like; mismatched types never match.
func (r *choiceRule) compareValues(v, operand any) bool {
	if r.op == "StringMatches" {
		s, ok := v.(string)
		return ok && r.pattern.MatchString(s)
	}
	var c int
	switch comparisonOps[r.op] {
	case kindString:
		a, okA := v.(string)
		b, okB := operand.(string)
		if !okA || !okB {
			return false
		}
		c = strings.Compare(a, b)
	case kindNumber:
		a, okA := v.(jsonNumber)
		b, okB := operand.(jsonNumber)
		if !okA || !okB {
			return false
		}
		var ok bool
		if c, ok = compareNumbers(a, b); !ok {
			return false
		}
	case kindBool:
		a, okA := v.(bool)
		b, okB := operand.(bool)
		return okA && okB && a == b
	case kindTimestamp:
		a, okA := asTimestamp(v)
		b, okB := asTimestamp(operand)
		if !okA || !okB {
			return false
		}
		c = a.Compare(b)
	}
	return orderHolds(r.op, c)
}

func asTimestamp(v any) (time.Time, bool) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	t, err := parseTimestamp(s)
	return t, err == nil
}

func orderHolds(op string, c int) bool {
	switch {
	case strings.HasSuffix(op, "GreaterThanEquals"):
		return c >= 0
	case strings.HasSuffix(op, "LessThanEquals"):
		return c <= 0
	case strings.HasSuffix(op, "GreaterThan"):
		return c > 0
	case strings.HasSuffix(op, "LessThan"):
		return c < 0
	}
	return c == 0
}
