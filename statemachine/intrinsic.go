package statemachine

import (
	"fmt"
	"strings"
)

// intrinsicCall is a parsed intrinsic function call, e.g.
// States.Format('job {}', $.jobId).
type intrinsicCall struct {
	name string
	args []intrinsicArg
}

// intrinsicArg is one argument: a literal, a path or a nested call.
type intrinsicArg struct {
	literal   any
	rawString string // a string literal as written, escapes intact (Format needs them)
	isString  bool
	path      *jsonPath
	call      *intrinsicCall
}

// intrinsicArity gives the allowed argument counts of each supported
// function (max -1 means variadic). Names not listed are refused at load.
var intrinsicArity = map[string][2]int{
	"States.Format":         {1, -1},
	"States.StringToJson":   {1, 1},
	"States.JsonToString":   {1, 1},
	"States.Array":          {0, -1},
	"States.ArrayPartition": {2, 2},
	"States.ArrayContains":  {2, 2},
	"States.ArrayRange":     {3, 3},
	"States.ArrayGetItem":   {2, 2},
	"States.ArrayLength":    {1, 1},
	"States.ArrayUnique":    {1, 1},
	"States.Base64Encode":   {1, 1},
	"States.Base64Decode":   {1, 1},
	"States.Hash":           {2, 2},
	"States.JsonMerge":      {3, 3},
	"States.MathRandom":     {2, 3},
	"States.MathAdd":        {2, 2},
	"States.StringSplit":    {2, 2},
	"States.UUID":           {0, 0},
}

// parseIntrinsic parses a whole intrinsic expression.
func parseIntrinsic(s string) (*intrinsicCall, error) {
	p := &intrinsicParser{src: s}
	call, err := p.call()
	if err != nil {
		return nil, fmt.Errorf("intrinsic %q: %v", s, err)
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return nil, fmt.Errorf("intrinsic %q: unexpected %q after the call", s, p.src[p.pos:])
	}
	return call, nil
}

type intrinsicParser struct {
	src string
	pos int
}

func (p *intrinsicParser) skipSpace() {
	for p.pos < len(p.src) && p.src[p.pos] == ' ' {
		p.pos++
	}
}

func (p *intrinsicParser) call() (*intrinsicCall, error) {
	open := strings.IndexByte(p.src[p.pos:], '(')
	if open < 0 {
		return nil, fmt.Errorf("missing (")
	}
	name := strings.TrimSpace(p.src[p.pos : p.pos+open])
	arity, ok := intrinsicArity[name]
	if !ok {
		return nil, fmt.Errorf("unknown or unsupported intrinsic function %q", name)
	}
	p.pos += open + 1
	call := &intrinsicCall{name: name}
	if err := p.args(call); err != nil {
		return nil, err
	}
	n := len(call.args)
	if n < arity[0] || (arity[1] >= 0 && n > arity[1]) {
		return nil, fmt.Errorf("%s takes %s, got %d", name, arityText(arity), n)
	}
	return call, nil
}

func arityText(a [2]int) string {
	switch {
	case a[1] < 0:
		return fmt.Sprintf("at least %d arguments", a[0])
	case a[0] == a[1]:
		return fmt.Sprintf("%d arguments", a[0])
	}
	return fmt.Sprintf("%d to %d arguments", a[0], a[1])
}

func (p *intrinsicParser) args(call *intrinsicCall) error {
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == ')' {
		p.pos++
		return nil
	}
	for {
		arg, err := p.arg()
		if err != nil {
			return err
		}
		call.args = append(call.args, arg)
		p.skipSpace()
		if p.pos >= len(p.src) {
			return fmt.Errorf("missing )")
		}
		c := p.src[p.pos]
		p.pos++
		if c == ')' {
			return nil
		}
		if c != ',' {
			return fmt.Errorf("expected , or ) at offset %d", p.pos-1)
		}
	}
}

func (p *intrinsicParser) arg() (intrinsicArg, error) {
	p.skipSpace()
	rest := p.src[p.pos:]
	switch {
	case rest == "":
		return intrinsicArg{}, fmt.Errorf("missing argument")
	case rest[0] == '\'':
		return p.stringLiteral()
	case rest[0] == '$':
		return p.pathArg()
	case strings.HasPrefix(rest, "States."):
		call, err := p.call()
		return intrinsicArg{call: call}, err
	}
	return p.scalarLiteral()
}

func (p *intrinsicParser) stringLiteral() (intrinsicArg, error) {
	start := p.pos + 1
	for i := start; i < len(p.src); i++ {
		switch p.src[i] {
		case '\\':
			i++
		case '\'':
			p.pos = i + 1
			raw := p.src[start:i]
			return intrinsicArg{isString: true, rawString: raw, literal: unescapeIntrinsic(raw)}, nil
		}
	}
	return intrinsicArg{}, fmt.Errorf("unterminated string literal")
}

// unescapeIntrinsic removes the backslashes ASL requires before ' { } \.
func unescapeIntrinsic(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func (p *intrinsicParser) pathArg() (intrinsicArg, error) {
	end := p.pos
	inQuote := byte(0)
	for ; end < len(p.src); end++ {
		c := p.src[end]
		if inQuote != 0 {
			if c == inQuote {
				inQuote = 0
			}
			continue
		}
		if c == '\'' || c == '"' {
			inQuote = c
			continue
		}
		if c == ',' || c == ')' || c == ' ' {
			break
		}
	}
	path, err := parsePath(p.src[p.pos:end])
	if err != nil {
		return intrinsicArg{}, err
	}
	p.pos = end
	return intrinsicArg{path: &path}, nil
}

func (p *intrinsicParser) scalarLiteral() (intrinsicArg, error) {
	end := strings.IndexAny(p.src[p.pos:], ", )")
	if end < 0 {
		end = len(p.src) - p.pos
	}
	tok := p.src[p.pos : p.pos+end]
	v, err := decodeJSON([]byte(tok))
	if err != nil {
		return intrinsicArg{}, fmt.Errorf("argument %q is not a string, number, boolean, null, path or call", tok)
	}
	switch v.(type) {
	case map[string]any, []any, string:
		return intrinsicArg{}, fmt.Errorf("argument %q: write strings in single quotes", tok)
	}
	p.pos += end
	return intrinsicArg{literal: v}, nil
}
