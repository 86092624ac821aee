// Command hello is a tiny Lambda used to prove the local cloud harness
// (internal/localcloud): it echoes its input, reports the function name and
// one environment variable (so tests can see that Options.Env reaches the
// function), and fails with the named error HelloFailed when asked to, so
// Step Functions Retry and Catch on a Go error type name can be exercised.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Request is the part of the input hello acts on; the whole input is echoed.
type Request struct {
	Fail        bool `json:"fail"`
	SleepMillis int  `json:"sleepMillis"`
}

// Response echoes the raw input so tests can check data flowing through states.
type Response struct {
	Echo     json.RawMessage `json:"echo"`
	Function string          `json:"function"`
	Greeting string          `json:"greeting"`
	PID      int             `json:"pid"`
}

// HelloFailed is the error Step Functions sees as "HelloFailed": aws-lambda-go
// reports the Go type name as errorType, which is what ASL ErrorEquals matches.
type HelloFailed struct {
	Reason string
}

func (e *HelloFailed) Error() string { return "hello failed: " + e.Reason }

func handle(ctx context.Context, raw json.RawMessage) (Response, error) {
	var req Request
	if err := json.Unmarshal(raw, &req); err != nil {
		return Response{}, fmt.Errorf("hello: decode input: %w", err)
	}
	if req.SleepMillis > 0 {
		select {
		case <-time.After(time.Duration(req.SleepMillis) * time.Millisecond):
		case <-ctx.Done():
			return Response{}, ctx.Err()
		}
	}
	if req.Fail {
		return Response{}, &HelloFailed{Reason: "input asked to fail"}
	}
	return Response{
		Echo:     raw,
		Function: lambdacontext.FunctionName,
		Greeting: os.Getenv("HELLO_GREETING"),
		PID:      os.Getpid(),
	}, nil
}

func main() {
	lambda.Start(handle)
}
