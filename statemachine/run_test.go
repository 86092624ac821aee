package statemachine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"
)

var pollSubs = map[string]string{
	"PrepareFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:prepare",
	"PollFunctionArn":    "arn:aws:lambda:us-east-1:123456789012:function:poll",
	"PollSeconds":        "60",
}

// pollResources returns tasks for poll_loop.asl.json: prepare fails with
// prepareErrs in turn, then succeeds; poll reports statuses in turn.
func pollResources(prepareErrs []error, statuses ...string) (map[string]TaskFunc, *[]map[string]any) {
	var prepared []map[string]any
	calls := 0
	return map[string]TaskFunc{
		pollSubs["PrepareFunctionArn"]: jsonTask(func(_ context.Context, in map[string]any) (any, error) {
			prepared = append(prepared, in)
			if len(prepareErrs) > 0 {
				err := prepareErrs[0]
				prepareErrs = prepareErrs[1:]
				return nil, err
			}
			return map[string]any{"chunks": 3}, nil
		}),
		pollSubs["PollFunctionArn"]: jsonTask(func(_ context.Context, in map[string]any) (any, error) {
			s := statuses[min(calls, len(statuses)-1)]
			calls++
			return map[string]any{"status": s, "progress_percent": calls * 50, "jobId": in["jobId"]}, nil
		}),
	}, &prepared
}

func TestPollLoopTakesThePathAWSWould(t *testing.T) {
	m := loadTestdata(t, "poll_loop.asl.json", pollSubs)
	resources, prepared := pollResources([]error{&AttomUnavailable{Status: 503}}, "running", "running", "done")
	clock := NewFakeClock(t0)
	exec := runMachine(t, m, `{"jobId":"j1"}`, RunOptions{Resources: resources, Clock: clock})

	assertStatus(t, exec, StatusSucceeded)
	assertPath(t, exec, "Prepare", "Poll", "IsDone", "WaitForProgress", "Poll", "IsDone", "WaitForProgress", "Poll", "IsDone", "Done")
	assertJSON(t, "output", exec.Output, `{"status":"done","progress":150}`)
	if want := []time.Duration{2 * time.Second, time.Minute, time.Minute}; !reflect.DeepEqual(clock.Sleeps(), want) {
		t.Fatalf("sleeps = %v, want %v (retry backoff then two polls)", clock.Sleeps(), want)
	}
	if len(*prepared) != 2 || (*prepared)[1]["execution"] != "exec-1" || (*prepared)[1]["jobId"] != "j1" {
		t.Fatalf("prepare inputs = %v", *prepared)
	}
	prep := eventFor(t, exec, "Prepare")
	if len(prep.Retries) != 1 || prep.Retries[0].Error != "AttomUnavailable" || prep.Retries[0].DelaySeconds != 2 {
		t.Fatalf("prepare retries = %+v", prep.Retries)
	}
	assertJSON(t, "prepare output", prep.Output, `{"jobId":"j1","prepared":{"chunks":3}}`)
	if exec.Transitions != 10 || !exec.StopTime.Equal(t0.Add(2*time.Minute+2*time.Second)) {
		t.Fatalf("transitions %d, stop %v", exec.Transitions, exec.StopTime)
	}
}

func TestCatchSendsErrorOutputToFailState(t *testing.T) {
	m := loadTestdata(t, "poll_loop.asl.json", pollSubs)
	resources, _ := pollResources([]error{fmt.Errorf("prepare: row 3: %w", BudgetExhausted{})}, "done")
	exec := runMachine(t, m, `{"jobId":"j1"}`, RunOptions{Resources: resources})

	assertStatus(t, exec, StatusFailed)
	assertPath(t, exec, "Prepare", "MarkFailed")
	if exec.Error != "JobFailed" || exec.Cause != "the job failed" {
		t.Fatalf("error %q cause %q", exec.Error, exec.Cause)
	}
	prep := eventFor(t, exec, "Prepare")
	// aws-lambda-go names the returned error's own type: a %w wrap is "wrapError".
	if !prep.Caught || prep.Error != "wrapError" || prep.Next != "MarkFailed" || len(prep.Retries) != 0 {
		t.Fatalf("prepare event = %+v", prep)
	}
	assertJSON(t, "catch output", prep.Output,
		`{"jobId":"j1","error":{"Error":"wrapError","Cause":"{\"errorMessage\":\"prepare: row 3: daily budget exhausted\",\"errorType\":\"wrapError\"}"}}`)
}

func TestChoiceFailedStatusGoesToFail(t *testing.T) {
	m := loadTestdata(t, "poll_loop.asl.json", pollSubs)
	resources, _ := pollResources(nil, "running", "failed")
	exec := runMachine(t, m, `{"jobId":"j1"}`, RunOptions{Resources: resources})
	assertStatus(t, exec, StatusFailed)
	assertPath(t, exec, "Prepare", "Poll", "IsDone", "WaitForProgress", "Poll", "IsDone", "MarkFailed")
}

func TestInputOutputProcessing(t *testing.T) {
	m := loadTestdata(t, "io.asl.json", map[string]string{"EchoArn": "arn:aws:lambda:us-east-1:1:function:echo"})
	var called map[string]any
	echo := jsonTask(func(_ context.Context, in map[string]any) (any, error) {
		called = in
		sum, _ := in["sum"].(float64)
		return map[string]any{"id": in["id"], "doubled": sum * 2, "noise": "dropped by ResultSelector"}, nil
	})
	input := `{"order":{"id":"o-1","lines":["a","b"],"odd key":"q","count":2,"encoded":"{\"x\":[1,2]}","a":{"k":1,"j":0},"b":{"k":2}}}`
	exec := runMachine(t, m, input, RunOptions{
		Resources: map[string]TaskFunc{"arn:aws:lambda:us-east-1:1:function:echo": echo},
		NewUUID:   func() string { return "11111111-2222-4333-8444-555555555555" },
	})

	assertStatus(t, exec, StatusSucceeded)
	assertPath(t, exec, "Shape", "Call", "Discard", "Replace", "Finish")
	sum := sha256.Sum256([]byte("o-1"))
	shaped := fmt.Sprintf(`{"id":"o-1","first":"a","quoted":"q","literal":{"kept":true},"state":"Shape","execution":"exec-1",
		"greeting":"order o-1 has 2 lines","sum":7,"parsed":{"x":[1,2]},"encoded":"[\"a\",\"b\"]","pair":["o-1","x"],
		"merged":{"k":2,"j":0},"hash":%q,"uuid":"11111111-2222-4333-8444-555555555555"}`, hex.EncodeToString(sum[:]))
	shapeOut := eventFor(t, exec, "Shape").Output
	var whole map[string]any
	_ = json.Unmarshal(shapeOut, &whole)
	got, _ := json.Marshal(whole["deep"].(map[string]any)["nested"].(map[string]any)["shaped"])
	assertJSON(t, "shaped", got, shaped)
	if whole["order"] == nil {
		t.Fatalf("ResultPath must keep the raw input beside the result: %s", shapeOut)
	}
	if !reflect.DeepEqual(called, map[string]any{"id": "o-1", "sum": 7.0}) {
		t.Fatalf("task input = %v", called)
	}
	assertJSON(t, "Call output", eventFor(t, exec, "Call").Output, `{"echoed":"o-1","doubled":14}`)
	assertJSON(t, "Discard output (ResultPath null)", eventFor(t, exec, "Discard").Output, `{"echoed":"o-1","doubled":14}`)
	assertJSON(t, "Replace output", eventFor(t, exec, "Replace").Output, `{"replaced":true}`)
	assertJSON(t, "execution output", exec.Output, `true`)
}

func TestChoiceOperators(t *testing.T) {
	m := loadTestdata(t, "choice.asl.json", nil)
	tests := []struct {
		input string
		want  string
	}{
		{`{"kind":"str"}`, "String"},
		{`{"name":"lead-2026.csv"}`, "Matches"},
		{`{"name":"abc","other":"abc"}`, "EqualsPath"},
		{`{"name":"zeta","other":"x"}`, "StringOrder"},
		{`{"name":"alpha","other":"x","n":10}`, "Teen"},
		{`{"n":19.5}`, "Teen"},
		{`{"n":20,"limit":20.0}`, "AtLimit"},
		{`{"n":"15","limit":1}`, "Other"},
		{`{"flag":true}`, "Flagged"},
		{`{"missing":1}`, "Flagged"},
		{`{"nothing":null}`, "Null"},
		{`{"when":"2025-12-31T23:59:59Z"}`, "Early"},
		{`{"when":"2026-02-01T00:00:00+01:00","since":"2026-01-31T23:00:00Z"}`, "Later"},
		{`{"when":"not a time","since":"2026-01-31T23:00:00Z"}`, "Other"},
		{`{"kind":3}`, "Other"},
	}
	// Every Variable must exist (a missing one is States.Runtime), so each
	// case overrides a base input that matches no rule.
	base := `{"kind":"none","name":"a","other":"b","n":0,"limit":-1,"flag":false,"nothing":1,"when":"2026-06-01T00:00:00Z","since":"2027-01-01T00:00:00Z"}`
	for _, tt := range tests {
		t.Run(tt.want+tt.input, func(t *testing.T) {
			var in map[string]any
			_ = json.Unmarshal([]byte(base), &in)
			_ = json.Unmarshal([]byte(tt.input), &in)
			input, _ := json.Marshal(in)
			exec := runMachine(t, m, string(input), RunOptions{})
			assertStatus(t, exec, StatusSucceeded)
			assertPath(t, exec, "Route", tt.want)
		})
	}
}

func TestChoiceMissingVariableIsRuntimeError(t *testing.T) {
	m, err := Load([]byte(`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.x","StringEquals":"a","Next":"S"}]},"S":{"Type":"Succeed"}}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	exec := runMachine(t, m, `{}`, RunOptions{})
	assertStatus(t, exec, StatusFailed)
	if exec.Error != StatesRuntime {
		t.Fatalf("error = %q", exec.Error)
	}
	exec = runMachine(t, m, `{"x":"b"}`, RunOptions{})
	if exec.Error != StatesNoChoiceMatched {
		t.Fatalf("error = %q, want NoChoiceMatched", exec.Error)
	}
}

var flakyARN = "arn:aws:lambda:us-east-1:1:function:flaky"

// failing returns a task that fails with errs in turn, then echoes.
func failing(errs ...error) (TaskFunc, *int) {
	calls := 0
	return func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
		calls++
		if calls <= len(errs) {
			return nil, errs[calls-1]
		}
		return json.RawMessage(`{"ok":true}`), nil
	}, &calls
}

func TestRetryBackoffDelays(t *testing.T) {
	m := loadTestdata(t, "retry.asl.json", map[string]string{"FlakyArn": flakyARN})
	rl := &RateLimited{}
	tests := []struct {
		name   string
		errs   []error
		random float64
		sleeps []time.Duration
		path   []string
		calls  int
	}{
		{"backoff capped by MaxDelaySeconds", []error{rl, rl, rl, rl}, 0, []time.Duration{3 * time.Second, 7500 * time.Millisecond, 10 * time.Second, 10 * time.Second}, []string{"Flaky"}, 5},
		{"FULL jitter scales by Random", []error{&Jittery{}, &Jittery{}}, 0.25, []time.Duration{time.Second, 2 * time.Second}, []string{"Flaky"}, 3},
		{"exhausted retries go to Catch", []error{rl, rl, rl, rl, rl}, 0, []time.Duration{3 * time.Second, 7500 * time.Millisecond, 10 * time.Second, 10 * time.Second}, []string{"Flaky", "Broken"}, 5},
		{"MaxAttempts 0 never retries", []error{&Never{}}, 0, nil, []string{"Flaky", "Broken"}, 1},
		{"each retrier counts its own attempts", []error{rl, &Jittery{}, rl}, 0.5, []time.Duration{3 * time.Second, 2 * time.Second, 7500 * time.Millisecond}, []string{"Flaky"}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task, calls := failing(tt.errs...)
			clock := NewFakeClock(t0)
			exec := runMachine(t, m, `{}`, RunOptions{Resources: map[string]TaskFunc{flakyARN: task}, Clock: clock, Random: func() float64 { return tt.random }})
			assertPath(t, exec, tt.path...)
			if got := clock.Sleeps(); !reflect.DeepEqual(got, tt.sleeps) {
				t.Fatalf("sleeps = %v, want %v", got, tt.sleeps)
			}
			if *calls != tt.calls {
				t.Fatalf("calls = %d, want %d", *calls, tt.calls)
			}
		})
	}
}

func TestRetryExhaustedFailsWithTheTaskError(t *testing.T) {
	m := loadTestdata(t, "retry.asl.json", map[string]string{"FlakyArn": flakyARN})
	task, _ := failing(&Never{})
	exec := runMachine(t, m, `{}`, RunOptions{Resources: map[string]TaskFunc{flakyARN: task}})
	assertStatus(t, exec, StatusFailed)
	if exec.Error != "Never" || exec.Cause != `{"errorMessage":"never retried","errorType":"Never"}` {
		t.Fatalf("error %q cause %q", exec.Error, exec.Cause)
	}
}

func TestCatchResultPathKeepsInput(t *testing.T) {
	m := loadTestdata(t, "retry.asl.json", map[string]string{"FlakyArn": flakyARN})
	task, _ := failing(BudgetExhausted{})
	exec := runMachine(t, m, `{"jobId":"j"}`, RunOptions{Resources: map[string]TaskFunc{flakyARN: task}})
	assertStatus(t, exec, StatusSucceeded)
	assertPath(t, exec, "Flaky", "Paused")
	assertJSON(t, "output", exec.Output, `{"jobId":"j","error":{"Error":"BudgetExhausted","Cause":"{\"errorMessage\":\"daily budget exhausted\",\"errorType\":\"BudgetExhausted\"}"}}`)
}

func TestTaskTimeoutOnFakeClock(t *testing.T) {
	m := loadTestdata(t, "retry.asl.json", map[string]string{"FlakyArn": flakyARN})
	clock := NewFakeClock(t0)
	calls := 0
	slowOnce := func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
		calls++
		if calls == 1 {
			clock.Advance(31 * time.Second) // pretend the first call hangs past TimeoutSeconds
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return json.RawMessage(`{"ok":true}`), nil
	}
	exec := runMachine(t, m, `{}`, RunOptions{Resources: map[string]TaskFunc{flakyARN: slowOnce}, Clock: clock})
	assertStatus(t, exec, StatusSucceeded)
	ev := eventFor(t, exec, "Flaky")
	if len(ev.Retries) != 1 || ev.Retries[0].Error != StatesTimeout {
		t.Fatalf("retries = %+v, want one States.Timeout", ev.Retries)
	}
}

func TestPanicIsNamedLikeAWSLambdaGo(t *testing.T) {
	m := loadTestdata(t, "retry.asl.json", map[string]string{"FlakyArn": flakyARN})
	boom := func(context.Context, json.RawMessage) (json.RawMessage, error) { panic("boom") }
	exec := runMachine(t, m, `{}`, RunOptions{Resources: map[string]TaskFunc{flakyARN: boom}})
	assertPath(t, exec, "Flaky", "Broken")
	if exec.Error != "string" || exec.Cause != `{"errorMessage":"boom","errorType":"string"}` {
		t.Fatalf("error %q cause %q", exec.Error, exec.Cause)
	}
}

func TestInlineMapBoundsConcurrency(t *testing.T) {
	m := loadTestdata(t, "map_inline.asl.json", map[string]string{"LookupArn": "lookup"})
	var inFlight, peak atomic.Int32
	gate := make(chan struct{})
	lookup := jsonTask(func(_ context.Context, in map[string]any) (any, error) {
		n := inFlight.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		<-gate
		inFlight.Add(-1)
		return map[string]any{"index": in["index"], "chunk": in["chunk"], "job": in["jobId"]}, nil
	})
	chunks := make([]string, 10)
	for i := range chunks {
		chunks[i] = fmt.Sprintf("c%d", i)
	}
	input, _ := json.Marshal(map[string]any{"jobId": "j", "chunks": chunks})
	done := make(chan *Execution)
	go func() {
		exec, _ := m.Run(context.Background(), "e", input, RunOptions{Resources: map[string]TaskFunc{"lookup": lookup}, Clock: NewFakeClock(t0)})
		done <- exec
	}()
	for inFlight.Load() < 3 {
		time.Sleep(time.Millisecond)
	}
	close(gate)
	exec := <-done

	assertStatus(t, exec, StatusSucceeded)
	assertPath(t, exec, "EachChunk", "Done")
	if peak.Load() != 3 {
		t.Fatalf("peak concurrency = %d, want MaxConcurrency 3", peak.Load())
	}
	var out struct {
		Lookup struct {
			Count   int
			Results []map[string]any
		}
	}
	_ = json.Unmarshal(exec.Output, &out)
	if out.Lookup.Count != 10 || out.Lookup.Results[7]["chunk"] != "c7" || out.Lookup.Results[7]["index"] != 7.0 || out.Lookup.Results[7]["job"] != "j" {
		t.Fatalf("output = %s", exec.Output)
	}
	its := exec.History[0].Iterations
	if len(its) != 10 || !reflect.DeepEqual(its[4].Path(), []string{"Lookup", "Keep"}) || its[4].Index != 4 {
		t.Fatalf("iterations = %+v", its)
	}
	if exec.Transitions != 2+10*2 {
		t.Fatalf("transitions = %d, want 22", exec.Transitions)
	}
}

func TestInlineMapFailureIsCaught(t *testing.T) {
	m := loadTestdata(t, "map_inline.asl.json", map[string]string{"LookupArn": "lookup"})
	lookup := jsonTask(func(_ context.Context, in map[string]any) (any, error) {
		if in["chunk"] == "c2" {
			return nil, BudgetExhausted{}
		}
		return in, nil
	})
	exec := runMachine(t, m, `{"jobId":"j","chunks":["c0","c1","c2","c3"]}`, RunOptions{Resources: map[string]TaskFunc{"lookup": lookup}})
	assertStatus(t, exec, StatusSucceeded)
	assertPath(t, exec, "EachChunk", "Paused")
	if ev := exec.History[0]; ev.Error != "BudgetExhausted" || !ev.Caught {
		t.Fatalf("map event = %+v", ev)
	}
}

func TestLegacyIteratorAndParameters(t *testing.T) {
	m := loadTestdata(t, "map_legacy.asl.json", nil)
	exec := runMachine(t, m, `[1,2,3]`, RunOptions{})
	assertStatus(t, exec, StatusSucceeded)
	assertJSON(t, "output", exec.Output, `[{"twice":2},{"twice":4},{"twice":6}]`)
}

func distributedSubs(tolerated string) map[string]string {
	return map[string]string{"Bucket": "leads-bucket", "LookupArn": "lookup", "Tolerated": tolerated}
}

func TestDistributedMapReadsItemsFromReader(t *testing.T) {
	m := loadTestdata(t, "map_distributed.asl.json", distributedSubs("0"))
	if notes := m.Notes(); len(notes) != 1 || notes[0] != `state "LookupChunks": ResultWriter is ignored locally: the Map's result is the array of child outputs` {
		t.Fatalf("notes = %q", notes)
	}
	var readFrom string
	reader := func(_ context.Context, bucket, key string) ([]byte, error) {
		readFrom = bucket + "/" + key
		return []byte(`[["a1","a2"],["b1"],["c1"],["d1"],["e1"]]`), nil
	}
	var inFlight, peak atomic.Int32
	lookup := jsonTask(func(_ context.Context, in map[string]any) (any, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(2 * time.Millisecond) // give siblings a chance to overlap
		return map[string]any{"n": len(in["chunk"].([]any)), "job": in["jobId"]}, nil
	})
	exec := runMachine(t, m, `{"jobId":"j","manifestKey":"jobs/j/manifest.json"}`, RunOptions{Resources: map[string]TaskFunc{"lookup": lookup}, ItemReader: reader})
	assertStatus(t, exec, StatusSucceeded)
	assertPath(t, exec, "LookupChunks")
	if readFrom != "leads-bucket/jobs/j/manifest.json" {
		t.Fatalf("read %q", readFrom)
	}
	if peak.Load() > 2 {
		t.Fatalf("peak concurrency %d exceeds MaxConcurrency 2", peak.Load())
	}
	assertJSON(t, "output", exec.Output, `{"jobId":"j","manifestKey":"jobs/j/manifest.json","lookup":[{"n":2,"job":"j"},{"n":1,"job":"j"},{"n":1,"job":"j"},{"n":1,"job":"j"},{"n":1,"job":"j"}]}`)
}

func TestDistributedMapToleratedFailures(t *testing.T) {
	reader := func(context.Context, string, string) ([]byte, error) { return []byte(`["ok","bad","ok"]`), nil }
	lookup := func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
		var v struct{ Chunk string }
		_ = json.Unmarshal(in, &v)
		if v.Chunk == "bad" {
			return nil, &AttomUnavailable{}
		}
		return json.RawMessage(`"done"`), nil
	}
	opts := RunOptions{Resources: map[string]TaskFunc{"lookup": lookup}, ItemReader: reader}

	m := loadTestdata(t, "map_distributed.asl.json", distributedSubs("0"))
	exec := runMachine(t, m, `{"jobId":"j","manifestKey":"k"}`, opts)
	assertPath(t, exec, "LookupChunks", "TooManyFailures")
	if ev := exec.History[0]; ev.Error != StatesExceedToleratedFailure || ev.Iterations[1].Error != "AttomUnavailable" {
		t.Fatalf("map event = %+v", ev)
	}

	m = loadTestdata(t, "map_distributed.asl.json", distributedSubs("1"))
	exec = runMachine(t, m, `{"jobId":"j","manifestKey":"k"}`, opts)
	assertPath(t, exec, "LookupChunks")
	assertJSON(t, "output", exec.Output, `{"jobId":"j","manifestKey":"k","lookup":["done",null,"done"]}`)
}

func TestItemReaderFailure(t *testing.T) {
	m := loadTestdata(t, "map_distributed.asl.json", distributedSubs("0"))
	reader := func(context.Context, string, string) ([]byte, error) { return nil, errors.New("NoSuchKey") }
	exec := runMachine(t, m, `{"manifestKey":"k"}`, RunOptions{Resources: map[string]TaskFunc{"lookup": lookupNothing}, ItemReader: reader})
	assertStatus(t, exec, StatusFailed)
	if exec.Error != StatesItemReaderFailed {
		t.Fatalf("error = %q", exec.Error)
	}
}

func TestWaitStatesUseTheFakeClock(t *testing.T) {
	m := loadTestdata(t, "wait.asl.json", nil)
	clock := NewFakeClock(t0)
	exec := runMachine(t, m, `{"delay":15,"resumeAt":"2026-03-01T01:00:00Z"}`, RunOptions{Clock: clock})
	assertStatus(t, exec, StatusSucceeded)
	assertPath(t, exec, "Fixed", "FromInput", "Until", "UntilInput", "Past")
	want := []time.Duration{30 * time.Second, 15 * time.Second, 9*time.Minute + 15*time.Second, 50 * time.Minute}
	if !reflect.DeepEqual(clock.Sleeps(), want) {
		t.Fatalf("sleeps = %v, want %v", clock.Sleeps(), want)
	}
	if !exec.StopTime.Equal(t0.Add(time.Hour)) {
		t.Fatalf("stop = %v", exec.StopTime)
	}
	exec = runMachine(t, m, `{"delay":-1,"resumeAt":"x"}`, RunOptions{})
	if exec.Error != StatesRuntime || len(exec.History) != 2 {
		t.Fatalf("bad SecondsPath: %s %s %v", exec.Error, exec.Cause, exec.Path())
	}
}

func TestExecutionTimeoutOnFakeClock(t *testing.T) {
	m, err := Load([]byte(`{"StartAt":"W","TimeoutSeconds":60,"States":{"W":{"Type":"Wait","Seconds":120,"End":true}}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	exec := runMachine(t, m, `{}`, RunOptions{})
	assertStatus(t, exec, StatusTimedOut)
	if exec.Error != StatesTimeout {
		t.Fatalf("error = %q", exec.Error)
	}
}

func TestMaxTransitionsStopsALoop(t *testing.T) {
	m := loadTestdata(t, "loop.asl.json", nil)
	exec, err := m.Run(context.Background(), "loop", json.RawMessage(`{"stop":false}`), RunOptions{MaxTransitions: 50, Clock: NewFakeClock(t0)})
	if !errors.Is(err, ErrMaxTransitions) {
		t.Fatalf("err = %v, want ErrMaxTransitions", err)
	}
	if exec.Status != StatusFailed || len(exec.History) != 50 || exec.Error != "MaxTransitionsExceeded" {
		t.Fatalf("exec = %s %s, %d events", exec.Status, exec.Error, len(exec.History))
	}
	exec = runMachine(t, m, `{"stop":true}`, RunOptions{MaxTransitions: 50})
	assertPath(t, exec, "Ping", "Pong", "Stop")
}

func TestCancelledContextAborts(t *testing.T) {
	m := loadTestdata(t, "retry.asl.json", map[string]string{"FlakyArn": flakyARN})
	ctx, cancel := context.WithCancel(context.Background())
	block := func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
		cancel()
		<-ctx.Done()
		return nil, ctx.Err()
	}
	exec, err := m.Run(ctx, "x", nil, RunOptions{Resources: map[string]TaskFunc{flakyARN: block}, Clock: NewFakeClock(t0)})
	if !errors.Is(err, context.Canceled) || exec.Status != StatusAborted {
		t.Fatalf("err = %v, status %s", err, exec.Status)
	}
}

func TestLambdaInvokeWrapsPayload(t *testing.T) {
	def := `{"StartAt":"I","States":{"I":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
		"Parameters":{"FunctionName":"arn:aws:lambda:us-east-1:1:function:f:live","Payload.$":"$"},"End":true}}}`
	m, err := Load([]byte(def), nil)
	if err != nil {
		t.Fatal(err)
	}
	f := func(_ context.Context, in json.RawMessage) (json.RawMessage, error) { return in, nil }
	exec := runMachine(t, m, `{"a":1}`, RunOptions{Resources: map[string]TaskFunc{"arn:aws:lambda:us-east-1:1:function:f": f}})
	assertJSON(t, "output", exec.Output, `{"ExecutedVersion":"$LATEST","Payload":{"a":1},"StatusCode":200}`)
}

func TestRunRefusesMissingWiring(t *testing.T) {
	m := loadTestdata(t, "poll_loop.asl.json", pollSubs)
	_, err := m.Run(context.Background(), "x", nil, RunOptions{})
	assertErrorContains(t, err, `state "Prepare"`, pollSubs["PrepareFunctionArn"], `state "Poll"`, `FunctionName`)
	md := loadTestdata(t, "map_distributed.asl.json", distributedSubs("0"))
	_, err = md.Run(context.Background(), "x", nil, RunOptions{Resources: map[string]TaskFunc{"lookup": lookupNothing}})
	assertErrorContains(t, err, "ItemReader")
}

func TestRuntimeErrorsAreNotCaughtButNamedErrorsAre(t *testing.T) {
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","InputPath":"%s","ResultPath":"%s",
		"Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}],"End":true},"C":{"Type":"Pass","End":true}}}`
	task := func(context.Context, json.RawMessage) (json.RawMessage, error) { return json.RawMessage(`1`), nil }
	tests := []struct {
		inputPath, resultPath, input string
		wantPath                     []string
		wantErr                      string
	}{
		{"$.missing", "$.r", `{}`, []string{"T"}, StatesRuntime},
		{"$", "$.a.b", `{"a":"scalar"}`, []string{"T", "C"}, StatesResultPathMatchFailure},
		{"$", "$.a.b", `{"a":{"c":1}}`, []string{"T"}, ""},
	}
	for _, tt := range tests {
		m, err := Load([]byte(fmt.Sprintf(def, tt.inputPath, tt.resultPath)), nil)
		if err != nil {
			t.Fatal(err)
		}
		exec := runMachine(t, m, tt.input, RunOptions{Resources: map[string]TaskFunc{"r": task}})
		assertPath(t, exec, tt.wantPath...)
		if got := exec.History[0].Error; got != tt.wantErr {
			t.Fatalf("%s: error = %q, want %q", tt.inputPath, got, tt.wantErr)
		}
		if tt.wantErr == "" {
			assertJSON(t, "output", exec.Output, `{"a":{"c":1,"b":1}}`)
		}
	}
}

func TestHistoryMarshalsToJSON(t *testing.T) {
	m := loadTestdata(t, "map_inline.asl.json", map[string]string{"LookupArn": "lookup"})
	lookup := func(_ context.Context, in json.RawMessage) (json.RawMessage, error) { return in, nil }
	exec := runMachine(t, m, `{"jobId":"j","chunks":["c0"]}`, RunOptions{Resources: map[string]TaskFunc{"lookup": lookup}})
	data, err := json.Marshal(exec)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Status  string
		History []struct {
			State      string
			Iterations []struct{ Events []struct{ State string } }
		}
	}
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Status != "SUCCEEDED" || back.History[0].State != "EachChunk" || back.History[0].Iterations[0].Events[1].State != "Keep" {
		t.Fatalf("history JSON = %s", data)
	}
}

func lookupNothing(context.Context, json.RawMessage) (json.RawMessage, error) { return nil, nil }

func TestOversizedResultIsDataLimitExceededAndUncatchable(t *testing.T) {
	m, err := Load([]byte(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"big",
		"Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}],"End":true},"C":{"Type":"Succeed"}}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	big := func(context.Context, json.RawMessage) (json.RawMessage, error) {
		return json.Marshal(map[string]string{"blob": string(make([]byte, 300*1024))})
	}
	exec := runMachine(t, m, `{}`, RunOptions{Resources: map[string]TaskFunc{"big": big}})
	assertStatus(t, exec, StatusFailed)
	assertPath(t, exec, "T")
	if exec.Error != StatesDataLimitExceeded {
		t.Fatalf("error = %q", exec.Error)
	}
}
