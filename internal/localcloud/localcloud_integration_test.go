//go:build integration

package localcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

const greeting = "hello from the local cloud test"

// helloOutput is test/lambdas/hello's answer.
type helloOutput struct {
	Echo     map[string]any `json:"echo"`
	Function string         `json:"function"`
	Greeting string         `json:"greeting"`
	PID      int            `json:"pid"`
}

// TestLocalCloud runs the real hello bootstrap under the real engine, then closes
// the cloud and checks that no process it started survives.
func TestLocalCloud(t *testing.T) {
	if err := MotoAvailable(context.Background()); errors.Is(err, ErrNoMoto) {
		t.Skip(err.Error())
	}
	binDir := t.TempDir()
	started := time.Now()
	bootstrap, err := BuildBootstrap(context.Background(), "./test/lambdas/hello", binDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("build hello: %s", time.Since(started).Round(time.Millisecond))

	started = time.Now()
	cloud, err := Start(context.Background(), Options{
		// "throttled" is hello with a reserved concurrency of 1.
		Functions:            map[string]string{"hello": bootstrap, "throttled": bootstrap},
		ReservedConcurrency:  map[string]int{"throttled": 1},
		Rules:                []ObjectRule{{Bucket: ruleBucket, Prefix: "in/", Suffix: ".txt", Function: "hello"}},
		Env:                  map[string]string{"HELLO_GREETING": greeting},
		LogDir:               t.TempDir(),
		InstancesPerFunction: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cloud.Close() })
	t.Logf("start (moto + 2 emulators): %s; endpoint %s; logs %s", time.Since(started).Round(time.Millisecond), cloud.Endpoint(), cloud.LogDir())

	t.Run("RetryAndCatchOnNamedError", func(t *testing.T) { testRetryAndCatch(t, cloud) })
	t.Run("DistributedMapFromS3", func(t *testing.T) { testDistributedMap(t, cloud) })
	t.Run("ConcurrentInvocations", func(t *testing.T) { testConcurrentInvocations(t, cloud) })
	t.Run("UnknownFunction", func(t *testing.T) { testUnknownFunction(t, cloud) })
	t.Run("InvocationTypes", func(t *testing.T) { testInvocationTypes(t, cloud) })
	t.Run("Recycle", func(t *testing.T) { testRecycle(t, cloud) })
	t.Run("SetEnv", func(t *testing.T) { testSetEnv(t, cloud) })
	t.Run("ReservedConcurrencyThrottles", func(t *testing.T) { testReservedConcurrency(t, cloud) })
	t.Run("ObjectRule", func(t *testing.T) { testObjectRule(t, cloud) })

	pids := cloud.ProcessIDs()
	if len(pids) < 5 { // moto, 2 emulators, 2 bootstraps (both used by the concurrent test)
		t.Errorf("ProcessIDs = %v, want moto, 2 emulators and their 2 bootstraps", pids)
	}
	started = time.Now()
	if err := cloud.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	t.Logf("close: %s", time.Since(started).Round(time.Millisecond))
	for _, pid := range pids {
		if processAlive(pid) {
			t.Errorf("process %d still running after Close", pid)
		}
	}
	// The bootstrap path is unique to this test, and every emulator names it on its command line.
	if out, err := exec.Command("pgrep", "-a", "-f", binDir).Output(); err == nil {
		t.Errorf("processes left after Close:\n%s", out)
	}
}

func testRetryAndCatch(t *testing.T, cloud *Cloud) {
	client := sfn.NewFromConfig(cloud.AWSConfig())
	definition := fmt.Sprintf(`{
	  "StartAt": "Hello",
	  "States": {
	    "Hello": {
	      "Type": "Task",
	      "Resource": %q,
	      "Retry": [{"ErrorEquals": ["HelloFailed"], "IntervalSeconds": 1, "MaxAttempts": 1, "BackoffRate": 1.5}],
	      "Catch": [{"ErrorEquals": ["HelloFailed"], "ResultPath": "$.error", "Next": "Recovered"}],
	      "End": true
	    },
	    "Recovered": {"Type": "Pass", "Result": "recovered", "ResultPath": "$.outcome", "End": true}
	  }
	}`, cloud.FunctionARN("hello"))
	machine := createStateMachine(t, client, cloud, "hello-retry-catch", definition)

	started := time.Now()
	okArn := startExecution(t, client, machine, "run-ok", `{"name":"ok"}`)
	failArn := startExecution(t, client, machine, "run-fail", `{"name":"bad","fail":true}`)

	okOut := waitSucceeded(t, client, okArn)
	var hello helloOutput
	mustUnmarshal(t, okOut, &hello)
	if hello.Echo["name"] != "ok" || hello.Function != "hello" || hello.Greeting != greeting {
		t.Errorf("ok output = %s; want echo of the input, function hello and the Env greeting", okOut)
	}

	failOut := waitSucceeded(t, client, failArn)
	t.Logf("two executions (one with a 1 s retry): %s", time.Since(started).Round(time.Millisecond))
	var caught struct {
		Name    string `json:"name"`
		Outcome string `json:"outcome"`
		Error   struct {
			Error string `json:"Error"`
			Cause string `json:"Cause"`
		} `json:"error"`
	}
	mustUnmarshal(t, failOut, &caught)
	if caught.Outcome != "recovered" || caught.Error.Error != "HelloFailed" || caught.Name != "bad" {
		t.Errorf("failing execution output = %s; want the Catch path with error HelloFailed", failOut)
	}
	if !strings.Contains(caught.Error.Cause, "input asked to fail") {
		t.Errorf("cause = %q, want the function's error message", caught.Error.Cause)
	}

	events := history(t, client, failArn)
	var failures, recovered int
	for _, e := range events {
		if e.Type == sfntypes.HistoryEventTypeLambdaFunctionFailed {
			failures++
			if got := aws.ToString(e.LambdaFunctionFailedEventDetails.Error); got != "HelloFailed" {
				t.Errorf("LambdaFunctionFailed error = %q, want HelloFailed", got)
			}
		}
		if e.StateEnteredEventDetails != nil && aws.ToString(e.StateEnteredEventDetails.Name) == "Recovered" {
			recovered++
		}
	}
	if failures != 2 || recovered != 1 {
		t.Errorf("history: %d LambdaFunctionFailed (want 2: first try and one retry), entered Recovered %d times (want 1)", failures, recovered)
	}
}

func testDistributedMap(t *testing.T, cloud *Cloud) {
	ctx := context.Background()
	cfg := cloud.AWSConfig()
	s3c := s3.NewFromConfig(cfg)
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("localcloud-items")}); err != nil {
		t.Fatal(err)
	}
	// Each item asks hello to write its answer to S3 through AWS_ENDPOINT_URL
	// (the router, then moto) while the execution runs.
	var items strings.Builder
	items.WriteString("[")
	for id := 1; id <= 5; id++ {
		if id > 1 {
			items.WriteString(",")
		}
		fmt.Fprintf(&items, `{"id":%d,"writeBucket":"localcloud-items","writeKey":"out/%d.json"}`, id, id)
	}
	items.WriteString("]")
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("localcloud-items"), Key: aws.String("chunks/manifest.json"), Body: strings.NewReader(items.String()),
	}); err != nil {
		t.Fatal(err)
	}
	client := sfn.NewFromConfig(cfg)
	definition := fmt.Sprintf(`{
	  "StartAt": "EachChunk",
	  "States": {
	    "EachChunk": {
	      "Type": "Map",
	      "ItemReader": {
	        "Resource": "arn:aws:states:::s3:getObject",
	        "ReaderConfig": {"InputType": "JSON"},
	        "Parameters": {"Bucket.$": "$.bucket", "Key.$": "$.key"}
	      },
	      "ItemProcessor": {
	        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
	        "StartAt": "Hello",
	        "States": {"Hello": {"Type": "Task", "Resource": %q, "End": true}}
	      },
	      "MaxConcurrency": 2,
	      "End": true
	    }
	  }
	}`, cloud.FunctionARN("hello"))
	machine := createStateMachine(t, client, cloud, "hello-distributed-map", definition)
	started := time.Now()
	arn := startExecution(t, client, machine, "map-run", `{"bucket":"localcloud-items","key":"chunks/manifest.json"}`)
	out := waitSucceeded(t, client, arn)
	t.Logf("distributed map over 5 items: %s", time.Since(started).Round(time.Millisecond))
	var results []helloOutput
	mustUnmarshal(t, out, &results)
	if len(results) != 5 {
		t.Fatalf("map output has %d results, want 5: %s", len(results), out)
	}
	for i, r := range results {
		if id, _ := r.Echo["id"].(float64); int(id) != i+1 {
			t.Errorf("result %d echoes %v, want id %d", i, r.Echo, i+1)
		}
	}
	for id := 1; id <= 5; id++ {
		obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("localcloud-items"), Key: aws.String(fmt.Sprintf("out/%d.json", id))})
		if err != nil {
			t.Errorf("object the function wrote for item %d: %v", id, err)
			continue
		}
		var written helloOutput
		err = json.NewDecoder(obj.Body).Decode(&written)
		obj.Body.Close()
		if got, _ := written.Echo["id"].(float64); err != nil || int(got) != id {
			t.Errorf("out/%d.json holds %+v (%v), want the answer for item %d", id, written, err, id)
		}
	}
}

// testReservedConcurrency: a second synchronous invocation while the only reserved
// instance is busy gets Lambda's 429, and Step Functions sees it as
// Lambda.TooManyRequestsException, which a Retry on that name rides out.
func testReservedConcurrency(t *testing.T, cloud *Cloud) {
	url := cloud.Endpoint() + "/2015-03-31/functions/throttled/invocations"
	statuses := make([]int, 2)
	kinds := make([]string, 2)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() {
			time.Sleep(time.Duration(i) * 200 * time.Millisecond) // the first holds the instance
			resp, err := http.Post(url, "application/json", strings.NewReader(`{"sleepMillis":1000}`))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses[i], kinds[i] = resp.StatusCode, resp.Header.Get("X-Amzn-Errortype")
		})
	}
	wg.Wait()
	if statuses[0] != http.StatusOK || statuses[1] != http.StatusTooManyRequests || kinds[1] != "TooManyRequestsException" {
		t.Errorf("two overlapping invocations of a function with reserved concurrency 1: HTTP %v %q; want 200 then 429 TooManyRequestsException", statuses, kinds)
	}

	client := sfn.NewFromConfig(cloud.AWSConfig())
	definition := fmt.Sprintf(`{
	  "StartAt": "Each",
	  "States": {
	    "Each": {
	      "Type": "Map",
	      "ItemsPath": "$.items",
	      "MaxConcurrency": 3,
	      "ItemProcessor": {
	        "ProcessorConfig": {"Mode": "INLINE"},
	        "StartAt": "Throttled",
	        "States": {"Throttled": {"Type": "Task", "Resource": %q,
	          "Retry": [{"ErrorEquals": ["Lambda.TooManyRequestsException"], "IntervalSeconds": 1, "MaxAttempts": 20, "BackoffRate": 1.0}],
	          "End": true}}
	      },
	      "End": true
	    }
	  }
	}`, cloud.FunctionARN("throttled"))
	machine := createStateMachine(t, client, cloud, "throttled-map", definition)
	arn := startExecution(t, client, machine, "throttled-run", `{"items":[{"sleepMillis":700},{"sleepMillis":700},{"sleepMillis":700}]}`)
	var results []helloOutput
	mustUnmarshal(t, waitSucceeded(t, client, arn), &results)
	if len(results) != 3 {
		t.Errorf("map results %d, want 3", len(results))
	}
	throttled := 0
	for _, e := range history(t, client, arn) {
		if e.Type == sfntypes.HistoryEventTypeLambdaFunctionFailed {
			if got := aws.ToString(e.LambdaFunctionFailedEventDetails.Error); got != "Lambda.TooManyRequestsException" {
				t.Errorf("LambdaFunctionFailed error %q, want Lambda.TooManyRequestsException", got)
			}
			throttled++
		}
	}
	if throttled == 0 {
		t.Error("three items at once on one reserved instance: no invocation was throttled")
	}
}

const ruleBucket = "localcloud-rules"

// testObjectRule: an object created under the rule's prefix and suffix is delivered to
// the function as S3's EventBridge event, once; other keys are not.
func testObjectRule(t *testing.T, cloud *Cloud) {
	ctx := context.Background()
	s3c := s3.NewFromConfig(cloud.AWSConfig())
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(ruleBucket)}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"in/skip.csv", "other/skip.txt", "in/new file.txt"} {
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(ruleBucket), Key: aws.String(key), Body: strings.NewReader("twelve bytes")}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		log := readFile(t, cloud.LogDir()+"/router.log")
		if strings.Contains(log, "delivered") {
			if strings.Contains(log, "skip") {
				t.Errorf("router.log shows a delivery for a key outside the rule:\n%s", log)
			}
			for _, want := range []string{"s3://" + ruleBucket + "/in/new file.txt delivered", `"detail-type":"Object Created"`, `"key":"in/new file.txt"`, `"size":12`} {
				if !strings.Contains(log, want) {
					t.Errorf("router.log lacks %q:\n%s", want, log)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no delivery of in/new file.txt after 30 s; router.log:\n%s", log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// More simultaneous invocations than emulators: the router must queue them
// (aws-lambda-rie panics on overlapping invocations) and use both instances.
func testConcurrentInvocations(t *testing.T, cloud *Cloud) {
	const calls = 6
	started := time.Now()
	var wg sync.WaitGroup
	outputs := make([]helloOutput, calls)
	errs := make([]error, calls)
	for i := range calls {
		wg.Go(func() {
			outputs[i], errs[i] = invokeHello(cloud, fmt.Sprintf(`{"call":%d,"sleepMillis":300}`, i))
		})
	}
	wg.Wait()
	elapsed := time.Since(started)
	t.Logf("%d concurrent invocations of 300 ms on 2 emulators: %s", calls, elapsed.Round(time.Millisecond))
	pids := map[int]bool{}
	for i, out := range outputs {
		if errs[i] != nil {
			t.Errorf("call %d: %v", i, errs[i])
			continue
		}
		if call, _ := out.Echo["call"].(float64); int(call) != i {
			t.Errorf("call %d got the answer to call %v", i, out.Echo["call"])
		}
		pids[out.PID] = true
	}
	if len(pids) != 2 {
		t.Errorf("answers came from bootstrap pids %v, want both emulators' bootstraps", pids)
	}
}

func testUnknownFunction(t *testing.T, cloud *Cloud) {
	resp, err := http.Post(cloud.Endpoint()+"/2015-03-31/functions/nope/invocations", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("X-Amzn-Errortype") != "ResourceNotFoundException" {
		t.Errorf("unknown function: HTTP %d %q, want 404 ResourceNotFoundException", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"))
	}
}

func testInvocationTypes(t *testing.T, cloud *Cloud) {
	for invocationType, want := range map[string]int{"Event": http.StatusAccepted, "DryRun": http.StatusNoContent, "RequestResponse": http.StatusOK} {
		req, err := http.NewRequest(http.MethodPost, cloud.Endpoint()+"/2015-03-31/functions/hello/invocations", strings.NewReader(`{"type":"`+invocationType+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Invocation-Type", invocationType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("InvocationType %s: HTTP %d, want %d", invocationType, resp.StatusCode, want)
		}
	}
}

// testRecycle: after Recycle every invocation is served by a new bootstrap (a cold start),
// and the old ones are gone.
func testRecycle(t *testing.T, cloud *Cloud) {
	before := map[int]bool{}
	for i := range 4 {
		out, err := invokeHello(cloud, fmt.Sprintf(`{"call":%d}`, i))
		if err != nil {
			t.Fatal(err)
		}
		before[out.PID] = true
	}
	started := time.Now()
	if err := cloud.Recycle(context.Background(), "hello"); err != nil {
		t.Fatal(err)
	}
	t.Logf("recycle 2 emulators: %s", time.Since(started).Round(time.Millisecond))
	for pid := range before {
		if processAlive(pid) {
			t.Errorf("bootstrap %d still running after Recycle", pid)
		}
	}
	for i := range 4 {
		out, err := invokeHello(cloud, fmt.Sprintf(`{"call":%d}`, i))
		if err != nil {
			t.Fatalf("after Recycle: %v", err)
		}
		if before[out.PID] {
			t.Errorf("after Recycle, call %d was served by the old bootstrap %d", i, out.PID)
		}
	}
	if err := cloud.Recycle(context.Background(), "nope"); err == nil {
		t.Error("Recycle of an unknown function: no error")
	}
}

// testSetEnv: after SetEnv every invocation sees the new value, and SetEnv with the old
// value undoes it.
func testSetEnv(t *testing.T, cloud *Cloud) {
	for _, want := range []string{"changed", greeting} {
		if err := cloud.SetEnv(context.Background(), map[string]string{"HELLO_GREETING": want}); err != nil {
			t.Fatal(err)
		}
		for i := range 4 {
			out, err := invokeHello(cloud, fmt.Sprintf(`{"call":%d}`, i))
			if err != nil {
				t.Fatal(err)
			}
			if out.Greeting != want {
				t.Errorf("after SetEnv(%q), call %d greeted %q", want, i, out.Greeting)
			}
		}
	}
}

// invokeHello calls the Lambda Invoke REST API on the router, as an SDK would.
func invokeHello(cloud *Cloud, payload string) (helloOutput, error) {
	url := cloud.Endpoint() + "/2015-03-31/functions/" + strings.ReplaceAll(cloud.FunctionARN("hello"), ":", "%3A") + "/invocations"
	resp, err := http.Post(url, "application/json", bytes.NewReader([]byte(payload)))
	if err != nil {
		return helloOutput{}, err
	}
	defer resp.Body.Close()
	var out helloOutput
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Amz-Function-Error") != "" {
		return out, fmt.Errorf("HTTP %d, function error %q", resp.StatusCode, resp.Header.Get("X-Amz-Function-Error"))
	}
	return out, json.NewDecoder(resp.Body).Decode(&out)
}

func createStateMachine(t testing.TB, client *sfn.Client, cloud *Cloud, name, definition string) string {
	t.Helper()
	if !json.Valid([]byte(definition)) {
		t.Fatalf("definition of %s is not JSON", name)
	}
	out, err := client.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{
		Name: aws.String(name), Definition: aws.String(definition), RoleArn: aws.String(cloud.RoleARN("sfn-" + name)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.StateMachineArn)
}

// startExecution names every execution: moto's engine needs an explicit name.
func startExecution(t testing.TB, client *sfn.Client, machine, name, input string) string {
	t.Helper()
	out, err := client.StartExecution(context.Background(), &sfn.StartExecutionInput{
		StateMachineArn: aws.String(machine), Name: aws.String(name), Input: aws.String(input),
	})
	if err != nil {
		t.Fatalf("StartExecution %s: %v", name, err)
	}
	return aws.ToString(out.ExecutionArn)
}

// waitSucceeded polls DescribeExecution until the execution ends and returns its output.
func waitSucceeded(t testing.TB, client *sfn.Client, arn string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for {
		out, err := client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			t.Fatalf("DescribeExecution %s: %v", arn, err)
		}
		switch out.Status {
		case sfntypes.ExecutionStatusSucceeded:
			return aws.ToString(out.Output)
		case sfntypes.ExecutionStatusRunning, sfntypes.ExecutionStatusPendingRedrive:
		default:
			t.Fatalf("execution %s ended %s: %s: %s", arn, out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
		}
		select {
		case <-ctx.Done():
			t.Fatalf("execution %s still running after 2 minutes", arn)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func history(t testing.TB, client *sfn.Client, arn string) []sfntypes.HistoryEvent {
	t.Helper()
	var events []sfntypes.HistoryEvent
	pages := sfn.NewGetExecutionHistoryPaginator(client, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, page.Events...)
	}
	return events
}

func mustUnmarshal(t testing.TB, data string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(data), v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
}
