// Command hello is a tiny Lambda used to prove the local cloud harness
// (internal/localcloud): it echoes its input, reports the function name and
// one environment variable (so tests can see that Options.Env reaches the
// function), fails with the named error HelloFailed when asked to, so Step
// Functions Retry and Catch on a Go error type name can be exercised, and,
// given a bucket and key, writes its answer to S3 through AWS_ENDPOINT_URL, as
// the real functions reach moto from inside an execution.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Request is the part of the input hello acts on; the whole input is echoed.
type Request struct {
	Fail        bool   `json:"fail"`
	SleepMillis int    `json:"sleepMillis"`
	WriteBucket string `json:"writeBucket"`
	WriteKey    string `json:"writeKey"`
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
	resp := Response{
		Echo:     raw,
		Function: lambdacontext.FunctionName,
		Greeting: os.Getenv("HELLO_GREETING"),
		PID:      os.Getpid(),
	}
	if req.WriteBucket != "" && req.WriteKey != "" {
		if err := writeResponse(ctx, req.WriteBucket, req.WriteKey, resp); err != nil {
			return Response{}, err
		}
	}
	return resp, nil
}

// writeResponse puts the answer in S3 with the SDK's default configuration,
// which takes the endpoint from AWS_ENDPOINT_URL.
func writeResponse(ctx context.Context, bucket, key string, resp Response) error {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("hello: aws config: %w", err)
	}
	body, err := json.Marshal(resp)
	if err != nil {
		return fmt.Errorf("hello: encode answer: %w", err)
	}
	_, err = s3.NewFromConfig(cfg).PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
	})
	if err != nil {
		return fmt.Errorf("hello: put s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

func main() {
	lambda.Start(handle)
}
