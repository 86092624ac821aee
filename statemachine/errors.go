package statemachine

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/aws/aws-lambda-go/lambda/messages"
)

// Error names Step Functions defines, as they appear in ErrorEquals, in
// Execution.Error and in a Catch's error output.
const (
	StatesALL                    = "States.ALL"
	StatesTaskFailed             = "States.TaskFailed"
	StatesTimeout                = "States.Timeout"
	StatesRuntime                = "States.Runtime"
	StatesDataLimitExceeded      = "States.DataLimitExceeded"
	StatesNoChoiceMatched        = "States.NoChoiceMatched"
	StatesParameterPathFailure   = "States.ParameterPathFailure"
	StatesResultPathMatchFailure = "States.ResultPathMatchFailure"
	StatesIntrinsicFailure       = "States.IntrinsicFailure"
	StatesItemReaderFailed       = "States.ItemReaderFailed"
	StatesExceedToleratedFailure = "States.ExceedToleratedFailureThreshold"
)

// stateError is a named ASL error raised while running a state: what Retry
// and Catch match and what a failed execution reports.
type stateError struct {
	Name  string
	Cause string
}

func (e *stateError) Error() string { return e.Name + ": " + e.Cause }

func newStateError(name, format string, args ...any) *stateError {
	return &stateError{Name: name, Cause: fmt.Sprintf(format, args...)}
}

// asStateError extracts a stateError from err (nil if there is none).
func asStateError(err error) *stateError {
	var se *stateError
	if errors.As(err, &se) {
		return se
	}
	return nil
}

// LambdaErrorType returns the error name AWS Step Functions sees when a Go
// Lambda handler built with aws-lambda-go v1.55.1 returns err: the dynamic
// type name of the returned error with one pointer stripped (so
// *budget.Exhausted reports "Exhausted", and an error wrapped with
// fmt.Errorf("...: %w", e) reports "wrapError", exactly as on AWS), or the
// Type of a messages.InvokeResponse_Error value. The local runner uses it so
// Retry and Catch match the same names locally and on AWS.
func LambdaErrorType(err error) string {
	if ive, ok := err.(messages.InvokeResponse_Error); ok {
		return ive.Type
	}
	return reflectTypeName(err)
}

// lambdaPanicType mirrors aws-lambda-go's naming of a panic value.
func lambdaPanicType(v any) string {
	if ive, ok := v.(messages.InvokeResponse_Error); ok {
		return ive.Type
	}
	return reflectTypeName(v)
}

func reflectTypeName(v any) string {
	t := reflect.TypeOf(v)
	if t == nil {
		return ""
	}
	if t.Kind() == reflect.Pointer {
		return t.Elem().Name()
	}
	return t.Name()
}

// lambdaErrorCause is the Cause Step Functions reports for a Lambda function
// error: the function's error payload, {"errorMessage":...,"errorType":...}.
func lambdaErrorCause(name, message string) string {
	b, err := encodeJSON(struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}{message, name})
	if err != nil {
		return message
	}
	return string(b)
}

// taskError converts a Go error returned by a task into the ASL error Step
// Functions would report for the same error returned by a Go Lambda.
func taskError(err error) *stateError {
	msg := err.Error()
	if ive, ok := err.(messages.InvokeResponse_Error); ok {
		msg = ive.Message
	}
	name := LambdaErrorType(err)
	return &stateError{Name: name, Cause: lambdaErrorCause(name, msg)}
}
