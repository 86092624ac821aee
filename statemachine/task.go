package statemachine

import (
	"context"
	"encoding/json"
	"fmt"
)

// taskAttempt is one try of a Task: InputPath, Parameters, the call,
// ResultSelector and ResultPath.
func (e *runEnv) taskAttempt(ctx context.Context, st *stateDef, raw any, s scope) (any, error) {
	eff, err := st.io.parametersInput(s)
	if err != nil {
		return nil, err
	}
	result, err := e.invoke(ctx, st, eff)
	if err != nil {
		return nil, err
	}
	return st.io.resultChain(raw, result, s)
}

// invoke calls the Task's Go code with the effective input.
func (e *runEnv) invoke(ctx context.Context, st *stateDef, payload any) (any, error) {
	fn, input, err := e.resolveTask(st, payload)
	if err != nil {
		return nil, err
	}
	data := mustEncode(input)
	if len(data) > maxPayloadBytes {
		return nil, newStateError(StatesDataLimitExceeded, "the task input is %d bytes, over the 256 KiB limit", len(data))
	}
	out, err := e.callTask(ctx, st, fn, data)
	if err != nil {
		return nil, err
	}
	if len(out) > maxPayloadBytes {
		return nil, newStateError(StatesDataLimitExceeded, "the task returned %d bytes, over the 256 KiB limit", len(out))
	}
	var result any
	if len(out) > 0 {
		if result, err = decodeJSON(out); err != nil {
			return nil, newStateError(StatesRuntime, "the task's result is not valid JSON: %v", err)
		}
	}
	if st.resource == lambdaInvokeARN {
		result = map[string]any{"ExecutedVersion": "$LATEST", "Payload": result, "StatusCode": intNumber(200)}
	}
	return result, nil
}

// resolveTask finds the TaskFunc and its input; for lambda:invoke that is
// Parameters.FunctionName and Parameters.Payload.
func (e *runEnv) resolveTask(st *stateDef, payload any) (TaskFunc, any, error) {
	if st.resource != lambdaInvokeARN {
		return e.opts.Resources[st.resource], payload, nil
	}
	params, _ := payload.(map[string]any)
	name, _ := params["FunctionName"].(string)
	fn := lookupFunction(e.opts.Resources, name)
	if fn == nil {
		return nil, nil, newStateError("Lambda.ResourceNotFoundException", "Function not found: %s (no TaskFunc in RunOptions.Resources)", name)
	}
	input, ok := params["Payload"]
	if !ok {
		input = map[string]any{}
	}
	return fn, input, nil
}

type taskOutcome struct {
	out json.RawMessage
	err error
}

// taskPanic carries a recovered panic so it is named like aws-lambda-go
// names one.
type taskPanic struct{ value any }

func (p taskPanic) Error() string { return fmt.Sprintf("%v", p.value) }

// callTask runs fn under the Task's TimeoutSeconds. A task still running at
// its deadline is abandoned (its context is cancelled), as Step Functions
// abandons a Lambda invocation.
func (e *runEnv) callTask(ctx context.Context, st *stateDef, fn TaskFunc, data json.RawMessage) (json.RawMessage, error) {
	tctx, cancel := ctx, context.CancelFunc(func() {})
	if st.timeout > 0 {
		tctx, cancel = withClockTimeout(ctx, e.clock, st.timeout)
	}
	defer cancel()
	done := make(chan taskOutcome, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- taskOutcome{err: taskPanic{v}}
			}
		}()
		out, err := fn(tctx, data)
		done <- taskOutcome{out, err}
	}()
	var o taskOutcome
	select {
	case o = <-done:
	case <-tctx.Done():
	}
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case deadlinePassed(tctx):
		return nil, newStateError(StatesTimeout, "Task timed out after %d seconds", int(st.timeout.Seconds()))
	case o.err == nil:
		return o.out, nil
	}
	if p, ok := o.err.(taskPanic); ok {
		name := lambdaPanicType(p.value)
		return nil, &stateError{Name: name, Cause: lambdaErrorCause(name, p.Error())}
	}
	return nil, taskError(o.err)
}
