package statemachine

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// parser turns a decoded definition into a validated machineDef, collecting
// notes about fields it accepts but ignores.
type parser struct {
	notes []string
}

// machine parses a top-level definition or a Map's processor; scope prefixes
// state names in messages (`state "Map" > "Inner"`).
func (p *parser) machine(v any, where, scope string, allowed []string) (*machineDef, error) {
	f, err := newFields(v, where)
	if err != nil {
		return nil, err
	}
	f.onlyAllowed(allowed...)
	def := &machineDef{startAt: f.requiredStr("StartAt"), states: map[string]*stateDef{}}
	if secs, ok := f.integer("TimeoutSeconds", 1); ok {
		def.timeout = time.Duration(secs) * time.Second
	}
	if f.has("Version") && f.str("Version") != "1.0" {
		f.fail("Version", "must be \"1.0\"")
	}
	if f.err != nil {
		return nil, f.err
	}
	states, ok := f.obj["States"].(map[string]any)
	if !ok || len(states) == 0 {
		return nil, fmt.Errorf("%s: field \"States\": must be a non-empty object of states", where)
	}
	if err := p.states(def, states, scope); err != nil {
		return nil, err
	}
	return def, checkGraph(def, where, scope)
}

func (p *parser) states(def *machineDef, states map[string]any, scope string) error {
	names := make([]string, 0, len(states))
	for name := range states {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if len(name) > 80 {
			return fmt.Errorf("%s: state names must be at most 80 characters", stateWhere(scope, name))
		}
		st, err := p.state(name, states[name], scope)
		if err != nil {
			return err
		}
		def.states[name] = st
	}
	return nil
}

func stateWhere(scope, name string) string {
	return fmt.Sprintf("state %s%q", scope, name)
}

// Fields every state type may carry, and the extra ones per type.
var (
	flowFields     = []string{"Type", "Comment", "Next", "End", "InputPath", "OutputPath"}
	taskFields     = append(append([]string{}, flowFields...), "Resource", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch", "TimeoutSeconds", "HeartbeatSeconds")
	passFields     = append(append([]string{}, flowFields...), "Parameters", "Result", "ResultPath")
	waitFields     = append(append([]string{}, flowFields...), "Seconds", "SecondsPath", "Timestamp", "TimestampPath")
	choiceFields   = []string{"Type", "Comment", "InputPath", "OutputPath", "Choices", "Default"}
	succeedFields  = []string{"Type", "Comment", "InputPath", "OutputPath"}
	failFields     = []string{"Type", "Comment", "Error", "Cause", "ErrorPath", "CausePath"}
	mapStateFields = append(append([]string{}, flowFields...), "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch",
		"Iterator", "ItemProcessor", "ItemsPath", "ItemSelector", "ItemReader", "MaxConcurrency", "ResultWriter",
		"ToleratedFailureCount", "ToleratedFailurePercentage", "Label")
)

func (p *parser) state(name string, v any, scope string) (*stateDef, error) {
	where := stateWhere(scope, name)
	f, err := newFields(v, where)
	if err != nil {
		return nil, err
	}
	st := &stateDef{name: name, typ: f.str("Type")}
	if f.err != nil {
		return nil, f.err
	}
	switch st.typ {
	case "Task":
		p.task(f, st)
	case "Pass":
		p.pass(f, st)
	case "Wait":
		p.waitState(f, st)
	case "Choice":
		p.choice(f, st)
	case "Succeed":
		f.onlyAllowed(succeedFields...)
		p.inputOutput(f, st)
	case "Fail":
		p.fail(f, st)
	case "Map":
		p.mapState(f, st, scope+fmt.Sprintf("%q > ", name))
	case "Parallel":
		return nil, fmt.Errorf("%s: Type \"Parallel\" is not supported by the local runner", where)
	case "":
		return nil, fmt.Errorf("%s: field \"Type\" is required", where)
	default:
		return nil, fmt.Errorf("%s: Type %q is not a state type", where, st.typ)
	}
	return st, f.err
}

// transition reads Next/End for the state types that need exactly one.
func (p *parser) transition(f *fields, st *stateDef) {
	st.next, st.end = f.str("Next"), f.boolean("End")
	switch {
	case f.has("Next") && f.has("End"):
		f.fail("End", "a state cannot have both Next and End")
	case st.next == "" && !st.end:
		f.fail("Next", "a %s state needs Next or \"End\": true", st.typ)
	}
}

func (p *parser) inputOutput(f *fields, st *stateDef) {
	st.io.inputPath, st.io.inputNull = f.path("InputPath")
	st.io.outputPath, st.io.outputNull = f.path("OutputPath")
}

func (p *parser) resultHandling(f *fields, st *stateDef) {
	st.io.parameters = f.template("Parameters")
	st.io.resultPath, st.io.resultNull = f.referencePath("ResultPath")
}

func (p *parser) task(f *fields, st *stateDef) {
	f.onlyAllowed(taskFields...)
	p.transition(f, st)
	p.inputOutput(f, st)
	p.resultHandling(f, st)
	st.io.resultSelector = f.template("ResultSelector")
	st.resource = f.requiredStr("Resource")
	if strings.HasSuffix(st.resource, ".waitForTaskToken") {
		f.fail("Resource", "the callback pattern (.waitForTaskToken) is not supported by the local runner")
	}
	if st.resource == lambdaInvokeARN {
		p.lambdaInvoke(f, st)
	}
	if secs, ok := f.integer("TimeoutSeconds", 1); ok {
		st.timeout = time.Duration(secs) * time.Second
	}
	if f.has("HeartbeatSeconds") {
		f.integer("HeartbeatSeconds", 1)
		p.note(st, "HeartbeatSeconds is ignored locally (tasks run in-process)")
	}
	st.retry = p.retriers(f)
	st.catch = p.catchers(f)
}

// lambdaInvoke checks the parameters of arn:aws:states:::lambda:invoke.
func (p *parser) lambdaInvoke(f *fields, st *stateDef) {
	params := st.io.parameters
	if params == nil || params.field("FunctionName") == nil {
		f.fail("Parameters", "%s needs Parameters.FunctionName", lambdaInvokeARN)
		return
	}
	for _, fld := range params.fields {
		switch fld.key {
		case "FunctionName", "Payload", "Qualifier", "InvocationType", "ClientContext", "LogType":
		default:
			f.fail("Parameters", "%s does not take parameter %q", lambdaInvokeARN, fld.key)
		}
		if fld.key == "InvocationType" && (fld.value.literal != "RequestResponse") {
			f.fail("Parameters", "only InvocationType \"RequestResponse\" is supported by the local runner")
		}
	}
}

func (p *parser) note(st *stateDef, msg string) {
	p.notes = append(p.notes, fmt.Sprintf("state %q: %s", st.name, msg))
}

func (p *parser) pass(f *fields, st *stateDef) {
	f.onlyAllowed(passFields...)
	p.transition(f, st)
	p.inputOutput(f, st)
	p.resultHandling(f, st)
	st.result, st.hasResult = f.obj["Result"]
}

func (p *parser) waitState(f *fields, st *stateDef) {
	f.onlyAllowed(waitFields...)
	p.transition(f, st)
	p.inputOutput(f, st)
	w := &st.wait
	count := 0
	for _, k := range []string{"Seconds", "SecondsPath", "Timestamp", "TimestampPath"} {
		if f.has(k) {
			count++
		}
	}
	if count != 1 {
		f.fail("Seconds", "a Wait state needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath")
		return
	}
	w.seconds, w.hasSeconds = f.integer("Seconds", 0)
	w.secondsPath, _ = f.path("SecondsPath")
	w.timestampPath, _ = f.path("TimestampPath")
	if f.has("Timestamp") {
		ts, err := parseTimestamp(f.str("Timestamp"))
		if err != nil {
			f.fail("Timestamp", "%v", err)
		}
		w.timestamp, w.hasTimestamp = ts, true
	}
}

func (p *parser) fail(f *fields, st *stateDef) {
	f.onlyAllowed(failFields...)
	st.failError, st.failCause = f.str("Error"), f.str("Cause")
	st.failErrorPath, _ = f.path("ErrorPath")
	st.failCausePath, _ = f.path("CausePath")
	if f.has("Error") && f.has("ErrorPath") {
		f.fail("ErrorPath", "a Fail state cannot have both Error and ErrorPath")
	}
	if f.has("Cause") && f.has("CausePath") {
		f.fail("CausePath", "a Fail state cannot have both Cause and CausePath")
	}
}

// parseTimestamp reads an ASL timestamp (RFC 3339, upper-case T, with Z or
// an offset).
func parseTimestamp(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 timestamp such as 2026-01-02T15:04:05Z", s)
	}
	return t, nil
}
