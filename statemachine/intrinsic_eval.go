package statemachine

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
)

// intrinsicFunc evaluates one intrinsic on already evaluated arguments.
type intrinsicFunc func(env *runEnv, call *intrinsicCall, args []any) (any, error)

var intrinsicFuncs map[string]intrinsicFunc

func init() {
	intrinsicFuncs = map[string]intrinsicFunc{
		"States.Format":         fnFormat,
		"States.StringToJson":   fnStringToJSON,
		"States.JsonToString":   fnJSONToString,
		"States.Array":          func(_ *runEnv, _ *intrinsicCall, a []any) (any, error) { return append([]any{}, a...), nil },
		"States.ArrayPartition": fnArrayPartition,
		"States.ArrayContains":  fnArrayContains,
		"States.ArrayRange":     fnArrayRange,
		"States.ArrayGetItem":   fnArrayGetItem,
		"States.ArrayLength":    fnArrayLength,
		"States.ArrayUnique":    fnArrayUnique,
		"States.Base64Encode":   fnBase64Encode,
		"States.Base64Decode":   fnBase64Decode,
		"States.Hash":           fnHash,
		"States.JsonMerge":      fnJSONMerge,
		"States.MathRandom":     fnMathRandom,
		"States.MathAdd":        fnMathAdd,
		"States.StringSplit":    fnStringSplit,
		"States.UUID":           func(env *runEnv, _ *intrinsicCall, _ []any) (any, error) { return env.newUUID(), nil },
	}
}

// eval evaluates the call in scope; failures are States.IntrinsicFailure.
func (c *intrinsicCall) eval(s scope) (any, error) {
	args := make([]any, len(c.args))
	for i, a := range c.args {
		v, err := a.eval(s)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	v, err := intrinsicFuncs[c.name](s.env, c, args)
	if err != nil {
		return nil, newStateError(StatesIntrinsicFailure, "%s: %v", c.name, err)
	}
	return v, nil
}

func (a intrinsicArg) eval(s scope) (any, error) {
	switch {
	case a.call != nil:
		return a.call.eval(s)
	case a.path != nil:
		v, ok := s.lookup(*a.path)
		if !ok {
			return nil, newStateError(StatesIntrinsicFailure, "path %s does not exist in the input", a.path.raw)
		}
		return v, nil
	}
	return a.literal, nil
}

func fnFormat(_ *runEnv, call *intrinsicCall, args []any) (any, error) {
	tmpl, ok := args[0].(string)
	escaped := call.args[0].isString
	if escaped {
		tmpl = call.args[0].rawString
	} else if !ok {
		return nil, fmt.Errorf("the template must be a string, got %s", jsonKind(args[0]))
	}
	var b strings.Builder
	next := 1
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		if escaped && c == '\\' && i+1 < len(tmpl) {
			i++
			b.WriteByte(tmpl[i])
			continue
		}
		if c != '{' || i+1 >= len(tmpl) || tmpl[i+1] != '}' {
			b.WriteByte(c)
			continue
		}
		if next >= len(args) {
			return nil, fmt.Errorf("the template has more {} than the %d arguments", len(args)-1)
		}
		s, err := formatArg(args[next])
		if err != nil {
			return nil, err
		}
		b.WriteString(s)
		next++
		i++
	}
	if next != len(args) {
		return nil, fmt.Errorf("the template has %d {} but %d arguments were given", next-1, len(args)-1)
	}
	return b.String(), nil
}

func formatArg(v any) (string, error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case map[string]any, []any:
		return "", fmt.Errorf("cannot format %s", jsonKind(v))
	}
	b, err := encodeJSON(v)
	return string(b), err
}

func fnStringToJSON(_ *runEnv, _ *intrinsicCall, args []any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("argument must be a string, got %s", jsonKind(args[0]))
	}
	return decodeJSON([]byte(s))
}

func fnJSONToString(_ *runEnv, _ *intrinsicCall, args []any) (any, error) {
	b, err := encodeJSON(args[0])
	return string(b), err
}

func fnArrayPartition(_ *runEnv, _ *intrinsicCall, args []any) (any, error) {
	arr, err := asArray(args[0])
	if err != nil {
		return nil, err
	}
	size, err := asInt(args[1])
	if err != nil || size <= 0 {
		return nil, fmt.Errorf("chunk size must be a positive integer")
	}
	out := []any{}
	for len(arr) > 0 {
		n := min(int(size), len(arr))
		out = append(out, append([]any{}, arr[:n]...))
		arr = arr[n:]
	}
	return out, nil
}

func fnArrayContains(_ *runEnv, _ *intrinsicCall, args []any) (any, error) {
	arr, err := asArray(args[0])
	if err != nil {
		return nil, err
	}
	for _, v := range arr {
		if jsonEqual(v, args[1]) {
			return true, nil
		}
	}
	return false, nil
}

func fnArrayRange(_ *runEnv, _ *intrinsicCall, args []any) (any, error) {
	var n [3]int64
	for i := range n {
		v, err := asInt(args[i])
		if err != nil {
			return nil, err
		}
		n[i] = v
	}
	if n[2] == 0 {
		return nil, fmt.Errorf("step must not be 0")
	}
	out := []any{}
	for v := n[0]; (n[2] > 0 && v <= n[1]) || (n[2] < 0 && v >= n[1]); v += n[2] {
		if len(out) == 1000 {
			return nil, fmt.Errorf("the range has more than 1000 items")
		}
		out = append(out, intNumber(v))
	}
	return out, nil
}

func fnArrayGetItem(_ *runEnv, _ *intrinsicCall, args []any) (any, error) {
	arr, err := asArray(args[0])
	if err != nil {
		return nil, err
	}
	i, err := asInt(args[1])
	if err != nil || i < 0 || i >= int64(len(arr)) {
		return nil, fmt.Errorf("index %v is out of range for %d items", args[1], len(arr))
	}
	return arr[i], nil
}

func fnArrayLength(_ *runEnv, _ *intrinsicCall, args []any) (any, error) {
	arr, err := asArray(args[0])
	if err != nil {
		return nil, err
	}
	return intNumber(int64(len(arr))), nil
}

func fnArrayUnique(_ *runEnv, _ *intrinsicCall, args []any) (any, error) {
	arr, err := asArray(args[0])
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, v := range arr {
		dup := false
		for _, seen := range out {
			if jsonEqual(v, seen) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, v)
		}
	}
	return out, nil
}

func fnBase64Encode(_ *runEnv, _ *intrinsicCall, args []any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("argument must be a string")
	}
	return base64.StdEncoding.EncodeToString([]byte(s)), nil
}

func fnBase64Decode(_ *runEnv, _ *intrinsicCall, args []any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("argument must be a string")
	}
	b, err := base64.StdEncoding.DecodeString(s)
	return string(b), err
}

var hashes = map[string]func() hash.Hash{
	"MD5": md5.New, "SHA-1": sha1.New, "SHA-256": sha256.New, "SHA-384": sha512.New384, "SHA-512": sha512.New,
}

func fnHash(_ *runEnv, _ *intrinsicCall, args []any) (any, error) {
	data, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("data must be a string")
	}
	alg, _ := args[1].(string)
	newHash, ok := hashes[alg]
	if !ok {
		return nil, fmt.Errorf("algorithm %v is not one of MD5, SHA-1, SHA-256, SHA-384, SHA-512", args[1])
	}
	h := newHash()
	h.Write([]byte(data))
	return hex.EncodeToString(h.Sum(nil)), nil
}

func fnJSONMerge(_ *runEnv, _ *intrinsicCall, args []any) (any, error) {
	a, okA := args[0].(map[string]any)
	b, okB := args[1].(map[string]any)
	if !okA || !okB {
		return nil, fmt.Errorf("both arguments must be objects")
	}
	if deep, _ := args[2].(bool); deep {
		return nil, fmt.Errorf("deep merge (true) is not supported by Step Functions; pass false")
	}
	out := make(map[string]any, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out, nil
}

func fnMathRandom(env *runEnv, _ *intrinsicCall, args []any) (any, error) {
	lo, err1 := asInt(args[0])
	hi, err2 := asInt(args[1])
	if err1 != nil || err2 != nil || hi <= lo {
		return nil, fmt.Errorf("start and end must be integers with start < end")
	}
	r := env.random
	if len(args) == 3 {
		seed, err := asInt(args[2])
		if err != nil {
			return nil, fmt.Errorf("seed must be an integer")
		}
		r = rand.New(rand.NewPCG(uint64(seed), 0)).Float64
	}
	return intNumber(lo + int64(math.Floor(r()*float64(hi-lo)))), nil
}

func fnMathAdd(_ *runEnv, _ *intrinsicCall, args []any) (any, error) {
	a, err1 := asInt(args[0])
	b, err2 := asInt(args[1])
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("both arguments must be integers, got %v and %v", args[0], args[1])
	}
	return intNumber(a + b), nil
}

func fnStringSplit(_ *runEnv, _ *intrinsicCall, args []any) (any, error) {
	s, ok1 := args[0].(string)
	delims, ok2 := args[1].(string)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("both arguments must be strings")
	}
	out := []any{}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(delims, r) }) {
		out = append(out, part)
	}
	return out, nil
}

func asArray(v any) ([]any, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("expected an array, got %s", jsonKind(v))
	}
	return arr, nil
}

// asInt reads an integral JSON number.
func asInt(v any) (int64, error) {
	n, ok := v.(jsonNumber)
	if !ok {
		return 0, fmt.Errorf("expected an integer, got %s", jsonKind(v))
	}
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i, nil
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("expected an integer, got %s", n)
	}
	return int64(f), nil
}

func intNumber(i int64) jsonNumber { return jsonNumber(strconv.FormatInt(i, 10)) }

// jsonEqual compares two decoded JSON values, numbers by value.
func jsonEqual(a, b any) bool {
	na, okA := a.(jsonNumber)
	nb, okB := b.(jsonNumber)
	if okA && okB {
		c, ok := compareNumbers(na, nb)
		return ok && c == 0
	}
	return reflect.DeepEqual(a, b)
}
