package statemachine

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		path string
		segs []pathSeg
		ctx  bool
		err  string
	}{
		{"$", nil, false, ""},
		{"$.a.b", []pathSeg{{key: "a"}, {key: "b"}}, false, ""},
		{"$.a[0]", []pathSeg{{key: "a"}, {index: 0, isIndex: true}}, false, ""},
		{"$['odd key'].x", []pathSeg{{key: "odd key"}, {key: "x"}}, false, ""},
		{`$["a"][12]`, []pathSeg{{key: "a"}, {index: 12, isIndex: true}}, false, ""},
		{"$$.Map.Item.Value", []pathSeg{{key: "Map"}, {key: "Item"}, {key: "Value"}}, true, ""},
		{"a.b", nil, false, "must start with $"},
		{"$.a[*]", nil, false, "not a non-negative array index"},
		{"$.a[-1]", nil, false, "not a non-negative array index"},
		{"$.a[0:2]", nil, false, "not a non-negative array index"},
		{"$..a", nil, false, "recursive descent"},
		{"$.*", nil, false, "unsupported operator"},
		{"$.a[?(@.b)]", nil, false, "not a non-negative array index"},
		{"$['a'", nil, false, "unterminated"},
	}
	for _, tt := range tests {
		p, err := parsePath(tt.path)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parsePath(%q) error = %v, want %q", tt.path, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(p.segs, tt.segs) || p.context != tt.ctx {
			t.Errorf("parsePath(%q) = %+v, %v", tt.path, p, err)
		}
	}
}

func TestPathSetCopiesAndCreatesIntermediates(t *testing.T) {
	in, _ := decodeJSON([]byte(`{"a":{"keep":1},"z":2}`))
	p, _ := parsePath("$.a.b.c")
	out, err := p.set(in, "v")
	if err != nil {
		t.Fatal(err)
	}
	if string(mustEncode(out)) != `{"a":{"b":{"c":"v"},"keep":1},"z":2}` {
		t.Fatalf("set = %s", mustEncode(out))
	}
	if string(mustEncode(in)) != `{"a":{"keep":1},"z":2}` {
		t.Fatalf("input was mutated: %s", mustEncode(in))
	}
	if _, err := p.set([]any{1}, "v"); err == nil {
		t.Fatalf("set into an array root should fail")
	}
}

// TestIntrinsics runs each intrinsic through a Pass state's Parameters.
func TestIntrinsics(t *testing.T) {
	input := `{"s":"a,b,,c","arr":[1,2,2,3],"n":41,"obj":{"k":"v"},"b64":"aGVsbG8="}`
	tests := []struct {
		expr, want string
	}{
		{`States.Format('x={}, y={}, \{lit\}', $.n, $.s)`, `"x=41, y=a,b,,c, {lit}"`},
		{`States.Format('{} and {}', true, null)`, `"true and null"`},
		{`States.StringToJson('{"a":[1]}')`, `{"a":[1]}`},
		{`States.JsonToString($.obj)`, `"{\"k\":\"v\"}"`},
		{`States.Array(1, 'two', $.obj)`, `[1,"two",{"k":"v"}]`},
		{`States.ArrayPartition($.arr, 3)`, `[[1,2,2],[3]]`},
		{`States.ArrayContains($.arr, 3)`, `true`},
		{`States.ArrayContains($.arr, 9)`, `false`},
		{`States.ArrayRange(1, 9, 3)`, `[1,4,7]`},
		{`States.ArrayGetItem($.arr, 3)`, `3`},
		{`States.ArrayLength($.arr)`, `4`},
		{`States.ArrayUnique($.arr)`, `[1,2,3]`},
		{`States.Base64Encode('hello')`, `"aGVsbG8="`},
		{`States.Base64Decode($.b64)`, `"hello"`},
		{`States.Hash('abc', 'MD5')`, `"900150983cd24fb0d6963f7d28e17f72"`},
		{`States.JsonMerge($.obj, States.StringToJson('{"k":"w","x":1}'), false)`, `{"k":"w","x":1}`},
		{`States.MathAdd($.n, -1)`, `40`},
		{`States.MathRandom(10, 20)`, `15`},
		{`States.StringSplit($.s, ',')`, `["a","b","c"]`},
		{`States.UUID()`, `"fixed-uuid"`},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			params, _ := json.Marshal(map[string]any{"v.$": tt.expr})
			m, err := Load([]byte(`{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":`+string(params)+`,"OutputPath":"$.v","End":true}}}`), nil)
			if err != nil {
				t.Fatal(err)
			}
			exec := runMachine(t, m, input, RunOptions{Random: func() float64 { return 0.5 }, NewUUID: func() string { return "fixed-uuid" }})
			assertStatus(t, exec, StatusSucceeded)
			assertJSON(t, "result", exec.Output, tt.want)
		})
	}
}

func TestIntrinsicFailureIsCatchable(t *testing.T) {
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","Parameters":{"v.$":"States.MathAdd($.s, 1)"},
		"Catch":[{"ErrorEquals":["States.IntrinsicFailure"],"Next":"C"}],"End":true},"C":{"Type":"Succeed"}}}`
	m, err := Load([]byte(def), nil)
	if err != nil {
		t.Fatal(err)
	}
	exec := runMachine(t, m, `{"s":"x"}`, RunOptions{Resources: map[string]TaskFunc{"r": lookupNothing}})
	assertPath(t, exec, "T", "C")
}

func TestFakeClockMapBranchesSleepSideBySide(t *testing.T) {
	def := `{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":%d,"ItemProcessor":{"StartAt":"W",
		"States":{"W":{"Type":"Wait","Seconds":5,"Next":"W2"},"W2":{"Type":"Wait","Seconds":1,"End":true}}},"Next":"After"},
		"After":{"Type":"Wait","Seconds":5,"End":true}}}`
	tests := []struct {
		concurrency int
		lo, hi      time.Duration
	}{
		{0, 11 * time.Second, 11 * time.Second}, // all six side by side: 6s, then After's 5s
		{6, 11 * time.Second, 11 * time.Second},
		{2, 23 * time.Second, 41 * time.Second}, // between 3 rounds of 6s and 6 serial runs
		{1, 41 * time.Second, 41 * time.Second}, // serial: 36s, then 5s
	}
	for _, tt := range tests {
		m, err := Load([]byte(fmt.Sprintf(def, tt.concurrency)), nil)
		if err != nil {
			t.Fatal(err)
		}
		clock := NewFakeClock(t0)
		exec := runMachine(t, m, `[1,2,3,4,5,6]`, RunOptions{Clock: clock})
		assertStatus(t, exec, StatusSucceeded)
		if len(clock.Sleeps()) != 13 {
			t.Fatalf("sleeps = %v", clock.Sleeps())
		}
		if got := clock.Now().Sub(t0); got < tt.lo || got > tt.hi {
			t.Fatalf("MaxConcurrency %d: clock advanced %v, want %v..%v", tt.concurrency, got, tt.lo, tt.hi)
		}
	}
}

func TestFakeClockTimeout(t *testing.T) {
	clock := NewFakeClock(t0)
	ctx, cancel := clock.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	clock.Advance(9 * time.Second)
	if ctx.Err() != nil {
		t.Fatalf("deadline fired early")
	}
	if err := clock.Sleep(ctx, 5*time.Second); err == nil || !deadlinePassed(ctx) {
		t.Fatalf("sleep across the deadline: err %v, deadlinePassed %v", err, deadlinePassed(ctx))
	}
}
