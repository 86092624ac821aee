//go:build integration

package localcloud

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// startBenchCloud starts a cloud with hello for a benchmark, outside the timer.
func startBenchCloud(b *testing.B) *Cloud {
	b.Helper()
	if err := MotoAvailable(context.Background()); errors.Is(err, ErrNoMoto) {
		b.Skip(err.Error())
	}
	bootstrap, err := BuildBootstrap(context.Background(), "./test/lambdas/hello", b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	cloud, err := Start(context.Background(), Options{Functions: map[string]string{"hello": bootstrap}, LogDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cloud.Close() })
	return cloud
}

// BenchmarkInvoke measures one synchronous invocation through the router and rie.
func BenchmarkInvoke(b *testing.B) {
	cloud := startBenchCloud(b)
	for b.Loop() {
		if _, err := invokeHello(cloud, `{"bench":true}`); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExecution measures a one-Task state machine on moto's engine, start to SUCCEEDED.
func BenchmarkExecution(b *testing.B) {
	cloud := startBenchCloud(b)
	client := sfn.NewFromConfig(cloud.AWSConfig())
	definition := fmt.Sprintf(`{"StartAt":"Hello","States":{"Hello":{"Type":"Task","Resource":%q,"End":true}}}`, cloud.FunctionARN("hello"))
	machine := createStateMachine(b, client, cloud, "bench", definition)
	n := 0
	for b.Loop() {
		n++
		arn := startExecution(b, client, machine, fmt.Sprintf("bench-%d", n), `{}`)
		waitSucceeded(b, client, arn)
	}
}
