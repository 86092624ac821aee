package statemachine

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
)

// TestLeanDistributedMapKeepsNoIterationEvents runs the lookup definition (a Distributed Map,
// ResultPath null) over 50 chunks with and without RunOptions.LeanDistributedMaps: the lean
// run keeps each iteration's index and status but no events and no results, and its
// output is the same.
func TestLeanDistributedMapKeepsNoIterationEvents(t *testing.T) {
	m, err := Load(LookupDefinition, map[string]string{FunctionPlaceholders["lookupchunk"]: "chunk"})
	if err != nil {
		t.Fatal(err)
	}
	items := make([]map[string]any, 50)
	for i := range items {
		items[i] = map[string]any{"job_id": "j", "chunk": i, "key": fmt.Sprintf("chunks/%d", i)}
	}
	manifest, _ := json.Marshal(items)
	opts := RunOptions{
		Resources: map[string]TaskFunc{"chunk": jsonTask(func(_ context.Context, in map[string]any) (any, error) {
			return map[string]any{"chunk": in["chunk"], "status": "done"}, nil
		})},
		ItemReader: func(context.Context, string, string) ([]byte, error) { return manifest, nil },
		Clock:      NewFakeClock(t0),
	}
	input := `{"job_id":"j","bucket":"b","manifest_key":"m","run":"r","driver":"d"}`
	full := runMachine(t, m, input, opts)
	opts.LeanDistributedMaps = true
	lean := runMachine(t, m, input, opts)
	assertStatus(t, lean, StatusSucceeded)
	if string(lean.Output) != string(full.Output) {
		t.Fatalf("lean output %s, full %s", lean.Output, full.Output)
	}
	fullIts, leanIts := full.History[0].Iterations, lean.History[0].Iterations
	if len(leanIts) != 50 || len(fullIts) != 50 || len(fullIts[7].Events) == 0 {
		t.Fatalf("iterations: lean %d, full %d (events %d)", len(leanIts), len(fullIts), len(fullIts[7].Events))
	}
	for i, it := range leanIts {
		if it.Index != i || it.Status != StatusSucceeded || it.Events != nil {
			t.Fatalf("lean iteration %d: %+v", i, it)
		}
	}
}
