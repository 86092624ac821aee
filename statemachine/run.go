package statemachine

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// TaskFunc is the in-process stand-in for a Task's resource (normally a Go
// Lambda handler): it gets the state's effective input as JSON and returns
// the result as JSON. A returned error is named as aws-lambda-go names it
// (see LambdaErrorType) so Retry and Catch behave as on AWS.
type TaskFunc func(ctx context.Context, input json.RawMessage) (json.RawMessage, error)

// ItemReader fetches the object a Distributed Map's ItemReader points at
// (arn:aws:states:::s3:getObject): a JSON array of items.
type ItemReader func(ctx context.Context, bucket, key string) ([]byte, error)

// lambdaInvokeARN is the optimized Lambda integration: Parameters carry
// FunctionName and Payload, and the result wraps the function's output in
// {"Payload": ...}.
const lambdaInvokeARN = "arn:aws:states:::lambda:invoke"

// Defaults for RunOptions.
const (
	DefaultMaxTransitions = 100000
	DefaultMaxParallel    = 40
	maxPayloadBytes       = 256 * 1024
)

// ErrMaxTransitions is returned (wrapped) by Run when an execution enters
// more states than RunOptions.MaxTransitions, which stops a broken loop.
var ErrMaxTransitions = errors.New("statemachine: too many state transitions")

// RunOptions wires an execution to its task code and environment.
type RunOptions struct {
	// Resources maps a Task's (substituted) Resource ARN, or for
	// arn:aws:states:::lambda:invoke its FunctionName, to the Go code.
	Resources map[string]TaskFunc
	// ItemReader serves Distributed Map ItemReaders; required if one is used.
	ItemReader ItemReader
	// Clock drives Wait states, retry backoff and timeouts (default RealClock).
	Clock Clock
	// MaxTransitions bounds the states entered, Map iterations included
	// (default DefaultMaxTransitions).
	MaxTransitions int64
	// MaxParallel caps concurrent Map iterations, whatever MaxConcurrency
	// says (default DefaultMaxParallel).
	MaxParallel int
	// Random returns numbers in [0,1) for FULL jitter and States.MathRandom
	// (default math/rand/v2).
	Random func() float64
	// NewUUID returns a UUID for States.UUID and unnamed executions.
	NewUUID func() string
	// StateMachineName names the machine in $$.StateMachine and the
	// execution ARN (default "local").
	StateMachineName string
	// LeanDistributedMaps keeps, of each succeeded Distributed Map iteration, only its index
	// and status (no events), and no iteration results when the Map's ResultPath is null and
	// it has no ResultSelector (they would be thrown away). Step Functions too keeps a
	// Distributed Map's child executions out of the parent's history. Without it a Map over
	// a million-row job's 10,000 chunks holds about 1.3 KB per chunk until it ends (issue 12).
	LeanDistributedMaps bool
}

func (o RunOptions) withDefaults() RunOptions {
	if o.Clock == nil {
		o.Clock = RealClock{}
	}
	if o.MaxTransitions <= 0 {
		o.MaxTransitions = DefaultMaxTransitions
	}
	if o.MaxParallel <= 0 {
		o.MaxParallel = DefaultMaxParallel
	}
	if o.Random == nil {
		o.Random = mathrand.Float64
	}
	if o.NewUUID == nil {
		o.NewUUID = randomUUID
	}
	if o.StateMachineName == "" {
		o.StateMachineName = DefaultMachineName
	}
	return o
}

func randomUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// runEnv is the state shared by everything one execution runs, Map
// iterations included.
type runEnv struct {
	opts        RunOptions
	clock       Clock
	transitions atomic.Int64
	mu          sync.Mutex // guards opts.Random and opts.NewUUID
	execution   map[string]any
	machine     map[string]any
}

func (e *runEnv) random() float64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.opts.Random()
}

func (e *runEnv) newUUID() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.opts.NewUUID()
}

// scope is what paths and intrinsics read: $ is input, $$ is context.
type scope struct {
	input   any
	context any
	env     *runEnv
}

func (s scope) lookup(p jsonPath) (any, bool) {
	if p.context {
		return p.get(s.context)
	}
	return p.get(s.input)
}

// describe shows (a prefix of) the document p was evaluated against.
func (s scope) describe(p jsonPath) string {
	doc := s.input
	if p.context {
		doc = s.context
	}
	text := string(mustEncode(doc))
	if len(text) > 200 {
		text = text[:200] + "..."
	}
	return text
}

// contextObject builds $$ for a state.
func (e *runEnv) contextObject(state string, entered time.Time, retryCount int, item map[string]any) map[string]any {
	obj := map[string]any{
		"Execution":    e.execution,
		"StateMachine": e.machine,
		"State": map[string]any{
			"Name":        state,
			"EnteredTime": formatTime(entered),
			"RetryCount":  intNumber(int64(retryCount)),
		},
	}
	if item != nil {
		obj["Map"] = map[string]any{"Item": item}
	}
	return obj
}

// formatTime writes times the way the context object does.
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// Run executes the machine on input (empty means {}). A failing state
// machine is not a Go error: it returns an Execution whose Status is FAILED
// (or TIMED_OUT). Run returns an error for missing Resources, invalid input,
// cancellation of ctx (Status ABORTED) and ErrMaxTransitions.
func (m *Machine) Run(ctx context.Context, name string, input json.RawMessage, opts RunOptions) (*Execution, error) {
	opts = opts.withDefaults()
	if err := m.checkWiring(opts); err != nil {
		return nil, err
	}
	in, err := decodeInput(input)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = opts.NewUUID()
	}
	env := newRunEnv(opts, name, in)
	exec := &Execution{ID: env.execution["Id"].(string), Name: name, StartTime: opts.Clock.Now(), Input: mustEncode(in)}
	runCtx, cancel := ctx, context.CancelFunc(func() {})
	if m.def.timeout > 0 {
		runCtx, cancel = withClockTimeout(ctx, opts.Clock, m.def.timeout)
	}
	defer cancel()
	out, events, runErr := env.runMachine(runCtx, m.def, in)
	exec.History, exec.StopTime, exec.Transitions = events, opts.Clock.Now(), env.transitions.Load()
	return exec, finish(ctx, runCtx, exec, out, runErr)
}

func decodeInput(input json.RawMessage) (any, error) {
	if len(strings.TrimSpace(string(input))) == 0 {
		return map[string]any{}, nil
	}
	in, err := decodeJSON(input)
	if err != nil {
		return nil, fmt.Errorf("statemachine: execution input is not valid JSON: %v", err)
	}
	if len(input) > maxPayloadBytes {
		return nil, fmt.Errorf("statemachine: execution input is %d bytes, over the 256 KiB limit", len(input))
	}
	return in, nil
}

// DefaultMachineName names a machine run without RunOptions.StateMachineName.
const DefaultMachineName = "local"

// ExecutionARN is the id ($$.Execution.Id) a local execution of machine named name has.
func ExecutionARN(machine, name string) string {
	return "arn:aws:states:local:000000000000:execution:" + machine + ":" + name
}

func newRunEnv(opts RunOptions, name string, in any) *runEnv {
	machineARN := "arn:aws:states:local:000000000000:stateMachine:" + opts.StateMachineName
	return &runEnv{
		opts:  opts,
		clock: opts.Clock,
		execution: map[string]any{
			"Id":        ExecutionARN(opts.StateMachineName, name),
			"Name":      name,
			"Input":     in,
			"StartTime": formatTime(opts.Clock.Now()),
			"RoleArn":   "arn:aws:iam::000000000000:role/local",
		},
		machine: map[string]any{"Id": machineARN, "Name": opts.StateMachineName},
	}
}

// finish sets the execution's outcome from how the run ended.
func finish(ctx, runCtx context.Context, exec *Execution, out any, runErr error) error {
	switch se := asStateError(runErr); {
	case runErr == nil:
		exec.Status, exec.Output = StatusSucceeded, mustEncode(out)
		return nil
	case se != nil:
		exec.Status, exec.Error, exec.Cause = StatusFailed, se.Name, se.Cause
		return nil
	case errors.Is(runErr, ErrMaxTransitions):
		exec.Status, exec.Error, exec.Cause = StatusFailed, "MaxTransitionsExceeded", runErr.Error()
		return runErr
	case ctx.Err() == nil && deadlinePassed(runCtx):
		exec.Status, exec.Error, exec.Cause = StatusTimedOut, StatesTimeout, "the execution exceeded its TimeoutSeconds"
		return nil
	case ctx.Err() != nil:
		exec.Status, exec.Error, exec.Cause = StatusAborted, "Aborted", ctx.Err().Error()
		return fmt.Errorf("statemachine: execution %s aborted: %w", exec.Name, ctx.Err())
	}
	exec.Status, exec.Error, exec.Cause = StatusFailed, StatesRuntime, runErr.Error()
	return runErr
}

// checkWiring refuses to start when a Task has no TaskFunc or a
// Distributed Map has no ItemReader, before any state runs.
func (m *Machine) checkWiring(opts RunOptions) error {
	var missing []string
	walkStates(m.def, "", func(where string, st *stateDef) {
		switch {
		case st.typ == "Task" && st.resource == lambdaInvokeARN:
			if name, ok := st.io.parameters.field("FunctionName").literal.(string); ok && lookupFunction(opts.Resources, name) == nil {
				missing = append(missing, fmt.Sprintf("state %s: no TaskFunc in Resources for FunctionName %q", where, name))
			}
		case st.typ == "Task" && opts.Resources[st.resource] == nil:
			missing = append(missing, fmt.Sprintf("state %s: no TaskFunc in Resources for %q", where, st.resource))
		case st.mapSpec != nil && st.mapSpec.reader != nil && opts.ItemReader == nil:
			missing = append(missing, fmt.Sprintf("state %s: RunOptions.ItemReader is needed for its ItemReader", where))
		}
	})
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("statemachine: %s", strings.Join(missing, "; "))
	}
	return nil
}

func walkStates(def *machineDef, scope string, visit func(where string, st *stateDef)) {
	for name, st := range def.states {
		where := fmt.Sprintf("%s%q", scope, name)
		visit(where, st)
		if st.mapSpec != nil && st.mapSpec.processor != nil {
			walkStates(st.mapSpec.processor, where+" > ", visit)
		}
	}
}

// lookupFunction finds a lambda:invoke FunctionName in resources: exactly,
// without a version or alias qualifier, or by bare function name.
func lookupFunction(resources map[string]TaskFunc, name string) TaskFunc {
	if fn := resources[name]; fn != nil {
		return fn
	}
	parts := strings.Split(name, ":")
	if len(parts) == 8 && parts[5] == "function" {
		if fn := resources[strings.Join(parts[:7], ":")]; fn != nil {
			return fn
		}
	}
	for key, fn := range resources {
		kp := strings.Split(key, ":")
		if len(kp) == 7 && kp[5] == "function" && kp[6] == name {
			return fn
		}
	}
	return nil
}

// runMachine runs def from StartAt until a terminal state. A *stateError is
// a failure of the machine; any other error (cancellation, too many
// transitions) stops everything.
func (e *runEnv) runMachine(ctx context.Context, def *machineDef, input any) (any, []Event, error) {
	var events []Event
	cur, data := def.startAt, input
	for {
		if n := e.transitions.Add(1); n > e.opts.MaxTransitions {
			return nil, events, fmt.Errorf("%w: more than %d, entering state %q", ErrMaxTransitions, e.opts.MaxTransitions, cur)
		}
		if err := ctx.Err(); err != nil {
			return nil, events, err
		}
		st := def.states[cur]
		ev, out, next, err := e.runState(ctx, st, data)
		events = append(events, ev)
		if err != nil {
			return nil, events, err
		}
		if next == "" {
			return out, events, nil
		}
		cur, data = next, out
	}
}

// runState runs one state and records its event.
func (e *runEnv) runState(ctx context.Context, st *stateDef, raw any) (Event, any, string, error) {
	ev := Event{State: st.name, Type: st.typ, Entered: e.clock.Now(), Input: mustEncode(raw)}
	out, next, err := e.dispatch(ctx, st, raw, &ev)
	if err == nil {
		ev.Output = mustEncode(out)
		if len(ev.Output) > maxPayloadBytes {
			err = newStateError(StatesDataLimitExceeded, "the state/task returned a result with a size exceeding the maximum number of bytes service limit (%d bytes)", len(ev.Output))
			ev.Output = nil
		}
	}
	ev.Exited = e.clock.Now()
	if err != nil {
		ev.Error, ev.Cause = errorText(err)
		return ev, nil, "", err
	}
	ev.Next = next
	return ev, out, next, nil
}

func errorText(err error) (string, string) {
	if se := asStateError(err); se != nil {
		return se.Name, se.Cause
	}
	return "Aborted", err.Error()
}

func (e *runEnv) dispatch(ctx context.Context, st *stateDef, raw any, ev *Event) (any, string, error) {
	switch st.typ {
	case "Task":
		return e.withErrorHandling(ctx, st, raw, ev, func(ctx context.Context, s scope) (any, error) {
			return e.taskAttempt(ctx, st, raw, s)
		})
	case "Map":
		return e.withErrorHandling(ctx, st, raw, ev, func(ctx context.Context, s scope) (any, error) {
			return e.mapAttempt(ctx, st, raw, s, ev)
		})
	case "Pass":
		return e.passState(st, raw, e.scopeFor(st, ev, 0, raw))
	case "Wait":
		return e.waitState(ctx, st, raw, e.scopeFor(st, ev, 0, raw))
	case "Choice":
		return e.choiceState(st, raw, e.scopeFor(st, ev, 0, raw))
	case "Succeed":
		out, err := st.io.applyIO(e.scopeFor(st, ev, 0, raw))
		return out, "", err
	}
	return nil, "", e.failState(st, e.scopeFor(st, ev, 0, raw))
}

func (e *runEnv) scopeFor(st *stateDef, ev *Event, retryCount int, raw any) scope {
	return scope{input: raw, context: e.contextObject(st.name, ev.Entered, retryCount, nil), env: e}
}
