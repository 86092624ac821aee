package statemachine

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
)

// BenchmarkPollLoop measures the runner's overhead per state on the
// Prepare/Poll/Choice/Wait loop (tasks are trivial, the clock is fake).
func BenchmarkPollLoop(b *testing.B) {
	m, err := LoadFile("testdata/poll_loop.asl.json", pollSubs)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		resources, _ := pollResources(nil, "running", "running", "running", "done")
		exec, err := m.Run(context.Background(), "bench", json.RawMessage(`{"jobId":"j1"}`), RunOptions{Resources: resources, Clock: NewFakeClock(t0)})
		if err != nil || exec.Status != StatusSucceeded {
			b.Fatalf("%v %s", err, exec.Status)
		}
	}
}

// BenchmarkInlineMap1000 runs a 1,000-item inline Map (two states per item).
func BenchmarkInlineMap1000(b *testing.B) {
	m, err := LoadFile("testdata/map_inline.asl.json", map[string]string{"LookupArn": "lookup"})
	if err != nil {
		b.Fatal(err)
	}
	chunks := make([]string, 1000)
	for i := range chunks {
		chunks[i] = fmt.Sprintf("chunk-%04d", i)
	}
	input, _ := json.Marshal(map[string]any{"jobId": "j", "chunks": chunks})
	echo := func(_ context.Context, in json.RawMessage) (json.RawMessage, error) { return in, nil }
	b.ReportAllocs()
	for b.Loop() {
		exec, err := m.Run(context.Background(), "bench", input, RunOptions{Resources: map[string]TaskFunc{"lookup": echo}, Clock: NewFakeClock(t0)})
		if err != nil || exec.Status != StatusSucceeded {
			b.Fatalf("%v %s", err, exec.Status)
		}
	}
}

// BenchmarkLoad measures parsing and validating a definition.
func BenchmarkLoad(b *testing.B) {
	data := []byte(`{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"r","Parameters":{"x.$":"States.Format('{}', $.a)"},
		"Retry":[{"ErrorEquals":["X"]}],"Catch":[{"ErrorEquals":["States.ALL"],"Next":"B"}],"Next":"B"},"B":{"Type":"Succeed"}}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(data, nil); err != nil {
			b.Fatal(err)
		}
	}
}
