package statemachine

import (
	"context"
	"time"
)

// effectiveInput applies InputPath to the raw state input.
func (io *ioSpec) effectiveInput(s scope) (any, error) {
	switch {
	case io.inputNull:
		return map[string]any{}, nil
	case io.inputPath == nil:
		return s.input, nil
	}
	v, ok := s.lookup(*io.inputPath)
	if !ok {
		return nil, newStateError(StatesRuntime, "Invalid path '%s' : No results for path in the state input %s", io.inputPath.raw, s.describe(*io.inputPath))
	}
	return v, nil
}

// mergeResult applies ResultPath: result placed into the raw input.
func mergeResult(raw, result any, path *jsonPath, null bool) (any, error) {
	switch {
	case null:
		return raw, nil
	case path == nil:
		return result, nil
	}
	out, err := path.set(raw, result)
	if err != nil {
		return nil, newStateError(StatesResultPathMatchFailure, "Unable to apply ResultPath \"%s\" to input: %v", path.raw, err)
	}
	return out, nil
}

// applyOutput applies OutputPath to the state output.
func (io *ioSpec) applyOutput(out any, s scope) (any, error) {
	switch {
	case io.outputNull:
		return map[string]any{}, nil
	case io.outputPath == nil:
		return out, nil
	}
	s.input = out
	v, ok := s.lookup(*io.outputPath)
	if !ok {
		return nil, newStateError(StatesRuntime, "Invalid path '%s' : No results for path in the state output %s", io.outputPath.raw, s.describe(*io.outputPath))
	}
	return v, nil
}

// applyIO is InputPath then OutputPath, for states with no result.
func (io *ioSpec) applyIO(s scope) (any, error) {
	eff, err := io.effectiveInput(s)
	if err != nil {
		return nil, err
	}
	return io.applyOutput(eff, s)
}

// parametersInput is InputPath then Parameters: a state's effective input.
func (io *ioSpec) parametersInput(s scope) (any, error) {
	eff, err := io.effectiveInput(s)
	if err != nil || io.parameters == nil {
		return eff, err
	}
	s.input = eff
	return io.parameters.eval(s)
}

// resultChain is ResultSelector then ResultPath.
func (io *ioSpec) resultChain(raw, result any, s scope) (any, error) {
	if io.resultSelector != nil {
		s.input = result
		var err error
		if result, err = io.resultSelector.eval(s); err != nil {
			return nil, err
		}
	}
	return mergeResult(raw, result, io.resultPath, io.resultNull)
}

func (e *runEnv) passState(st *stateDef, raw any, s scope) (any, string, error) {
	eff, err := st.io.parametersInput(s)
	if err != nil {
		return nil, "", err
	}
	result := eff
	if st.hasResult {
		result = st.result
	}
	out, err := mergeResult(raw, result, st.io.resultPath, st.io.resultNull)
	if err != nil {
		return nil, "", err
	}
	out, err = st.io.applyOutput(out, s)
	return out, st.next, err
}

func (e *runEnv) choiceState(st *stateDef, raw any, s scope) (any, string, error) {
	eff, err := st.io.effectiveInput(s)
	if err != nil {
		return nil, "", err
	}
	s.input = eff
	next := st.defaultNext
	for _, rule := range st.choices {
		ok, err := rule.matches(s)
		if err != nil {
			return nil, "", err
		}
		if ok {
			next = rule.next
			break
		}
	}
	if next == "" {
		return nil, "", newStateError(StatesNoChoiceMatched, "No Matches! (state %q has no Default)", st.name)
	}
	out, err := st.io.applyOutput(eff, s)
	return out, next, err
}

func (e *runEnv) waitState(ctx context.Context, st *stateDef, raw any, s scope) (any, string, error) {
	eff, err := st.io.effectiveInput(s)
	if err != nil {
		return nil, "", err
	}
	s.input = eff
	d, err := e.waitDuration(st.wait, s)
	if err != nil {
		return nil, "", err
	}
	if d > 0 {
		if err := e.clock.Sleep(ctx, d); err != nil {
			return nil, "", err
		}
	}
	out, err := st.io.applyOutput(eff, s)
	return out, st.next, err
}

func (e *runEnv) waitDuration(w waitSpec, s scope) (time.Duration, error) {
	switch {
	case w.hasSeconds:
		return time.Duration(w.seconds) * time.Second, nil
	case w.hasTimestamp:
		return w.timestamp.Sub(e.clock.Now()), nil
	case w.secondsPath != nil:
		v, ok := s.lookup(*w.secondsPath)
		n, err := asInt(v)
		if !ok || err != nil || n < 0 {
			return 0, newStateError(StatesRuntime, "Wait SecondsPath %s must point at a non-negative integer, got %s", w.secondsPath.raw, string(mustEncode(v)))
		}
		return time.Duration(n) * time.Second, nil
	}
	v, ok := s.lookup(*w.timestampPath)
	ts, valid := asTimestamp(v)
	if !ok || !valid {
		return 0, newStateError(StatesRuntime, "Wait TimestampPath %s must point at an RFC 3339 timestamp, got %s", w.timestampPath.raw, string(mustEncode(v)))
	}
	return ts.Sub(e.clock.Now()), nil
}

func (e *runEnv) failState(st *stateDef, s scope) error {
	name, cause := st.failError, st.failCause
	var ok bool
	if st.failErrorPath != nil {
		if name, ok = lookupString(s, st.failErrorPath); !ok {
			return newStateError(StatesRuntime, "Fail ErrorPath %s must point at a string", st.failErrorPath.raw)
		}
	}
	if st.failCausePath != nil {
		if cause, ok = lookupString(s, st.failCausePath); !ok {
			return newStateError(StatesRuntime, "Fail CausePath %s must point at a string", st.failCausePath.raw)
		}
	}
	return &stateError{Name: name, Cause: cause}
}

func lookupString(s scope, p *jsonPath) (string, bool) {
	v, ok := s.lookup(*p)
	str, isStr := v.(string)
	return str, ok && isStr
}

// withErrorHandling runs attempt under the state's Retry and Catch rules and
// applies OutputPath unless a Catch took the error.
func (e *runEnv) withErrorHandling(ctx context.Context, st *stateDef, raw any, ev *Event, attempt func(context.Context, scope) (any, error)) (any, string, error) {
	used := make([]int, len(st.retry))
	for retryCount := 0; ; retryCount++ {
		s := e.scopeFor(st, ev, retryCount, raw)
		out, err := attempt(ctx, s)
		if err == nil {
			out, err = st.io.applyOutput(out, s)
			return out, st.next, err
		}
		se := asStateError(err)
		if se == nil {
			return nil, "", err
		}
		if i := matchRetrier(st.retry, se.Name); i >= 0 && used[i] < st.retry[i].maxAttempts {
			delay := st.retry[i].delay(used[i], e.random)
			used[i]++
			ev.Retries = append(ev.Retries, Retry{Error: se.Name, Cause: se.Cause, DelaySeconds: delay.Seconds()})
			if err := e.clock.Sleep(ctx, delay); err != nil {
				return nil, "", err
			}
			continue
		}
		return e.catch(st, raw, se, ev)
	}
}

func matchRetrier(retriers []retrier, name string) int {
	for i, r := range retriers {
		if errorMatches(r.errorEquals, name) {
			return i
		}
	}
	return -1
}

// catch sends the error to the first matching Catch, with the error output
// {"Error","Cause"} placed at the Catch's ResultPath.
func (e *runEnv) catch(st *stateDef, raw any, se *stateError, ev *Event) (any, string, error) {
	for _, c := range st.catch {
		if !errorMatches(c.errorEquals, se.Name) {
			continue
		}
		out, err := mergeResult(raw, map[string]any{"Error": se.Name, "Cause": se.Cause}, c.resultPath, c.resultNull)
		if err != nil {
			return nil, "", err
		}
		ev.Error, ev.Cause, ev.Caught = se.Name, se.Cause, true
		return out, c.next, nil
	}
	return nil, "", se
}
