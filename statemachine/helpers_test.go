package statemachine

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// AttomUnavailable and BudgetExhausted are named error types like the
// project's domain errors: their Go type names are the ASL error names.
type AttomUnavailable struct{ Status int }

func (e *AttomUnavailable) Error() string { return "attom: unavailable" }

type BudgetExhausted struct{}

func (BudgetExhausted) Error() string { return "daily budget exhausted" }

type RateLimited struct{}

func (*RateLimited) Error() string { return "rate limited" }

type Jittery struct{}

func (*Jittery) Error() string { return "jittery" }

type Never struct{}

func (*Never) Error() string { return "never retried" }

func loadTestdata(t *testing.T, name string, subs map[string]string) *Machine {
	t.Helper()
	m, err := LoadFile(filepath.Join("testdata", name), subs)
	if err != nil {
		t.Fatalf("LoadFile(%s): %v", name, err)
	}
	return m
}

// jsonTask adapts a func on decoded JSON to a TaskFunc.
func jsonTask(fn func(ctx context.Context, in map[string]any) (any, error)) TaskFunc {
	return func(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
		var in map[string]any
		if err := json.Unmarshal(input, &in); err != nil {
			return nil, err
		}
		out, err := fn(ctx, in)
		if err != nil {
			return nil, err
		}
		return json.Marshal(out)
	}
}

func runMachine(t *testing.T, m *Machine, input string, opts RunOptions) *Execution {
	t.Helper()
	if opts.Clock == nil {
		opts.Clock = NewFakeClock(t0)
	}
	exec, err := m.Run(context.Background(), "exec-1", json.RawMessage(input), opts)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return exec
}

func assertPath(t *testing.T, exec *Execution, want ...string) {
	t.Helper()
	if got := exec.Path(); !reflect.DeepEqual(got, want) {
		t.Fatalf("path = %v, want %v", got, want)
	}
}

func assertStatus(t *testing.T, exec *Execution, want Status) {
	t.Helper()
	if exec.Status != want {
		t.Fatalf("status = %s (error %q, cause %q), want %s", exec.Status, exec.Error, exec.Cause, want)
	}
}

// assertJSON compares JSON documents semantically.
func assertJSON(t *testing.T, what string, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: invalid JSON %s: %v", what, got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: bad expectation %s: %v", what, want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s = %s, want %s", what, got, want)
	}
}

func assertErrorContains(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not contain %q", err, p)
		}
	}
}

func eventFor(t *testing.T, exec *Execution, state string) Event {
	t.Helper()
	for _, ev := range exec.History {
		if ev.State == state {
			return ev
		}
	}
	t.Fatalf("no event for state %q in %v", state, exec.Path())
	return Event{}
}
