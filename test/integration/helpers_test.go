//go:build integration

package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/leadflow/attom-batch/events"
	"github.com/leadflow/attom-batch/internal/app"
	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/localcloud"
)

// executionTimeout bounds one pipeline execution on moto; the slowest scenario (the ATTOM
// outage, with real retry intervals) takes about a minute.
const executionTimeout = 3 * time.Minute

// happyPath is the pipeline's path for a file that is looked up, processed and turned into
// leads, once the polls that found the lookups still running are left out.
var happyPath = []string{"Prepare", "IsDuplicate", "Submit", "WaitForLookups", "Poll", "LookupState",
	"Download", "Process", "MoreToProcess", "WantsLeads", "Leads", "Complete", "Done"}

// upload puts body under key with the SDK and returns the EventBridge "Object Created" event
// S3 would send for it, built from the PutObject answer, with opts alongside when set (the
// CLI's --name and --leads).
func (s *testSuite) upload(t *testing.T, key string, body []byte, opts *batch.SubmitOptions) json.RawMessage {
	t.Helper()
	ctx := context.Background()
	put, err := s.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
		ContentType: aws.String("text/csv"),
	})
	if err != nil {
		t.Fatalf("put s3://%s/%s: %v", bucket, key, err)
	}
	etag := strings.Trim(aws.ToString(put.ETag), `"`)
	if etag == "" {
		t.Fatalf("PutObject of %s answered no ETag", key)
	}
	ev := events.NewObjectCreated(bucket, key, etag, int64(len(body)), time.Now())
	ev.Detail.Object.VersionID = aws.ToString(put.VersionId)
	var raw []byte
	if opts == nil {
		raw, err = json.Marshal(ev)
	} else {
		raw, err = batch.EventInput(ev, *opts)
	}
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// execution is how a pipeline execution on moto ended, with the path it took.
type execution struct {
	ARN    string
	Status sfntypes.ExecutionStatus
	Error  string
	Cause  string
	Output string
	Path   []string
	Took   time.Duration
}

// runPipeline starts the pipeline with input under an explicit name (moto requires one)
// and waits for the execution to end.
func (s *testSuite) runPipeline(t *testing.T, name string, input json.RawMessage) execution {
	t.Helper()
	ctx := context.Background()
	started := time.Now()
	out, err := s.sfn.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(s.pipelineARN),
		Name:            aws.String(name),
		Input:           aws.String(string(input)),
	})
	if err != nil {
		t.Fatalf("start execution %s: %v", name, err)
	}
	exec := s.waitExecution(t, aws.ToString(out.ExecutionArn))
	exec.Took = time.Since(started)
	t.Logf("execution %s: %s in %s; path %v", name, exec.Status, exec.Took.Round(time.Millisecond), exec.Path)
	return exec
}

// waitExecution polls DescribeExecution until the execution ends, then reads its path from
// the history (StateEntered events in order).
func (s *testSuite) waitExecution(t *testing.T, arn string) execution {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), executionTimeout)
	defer cancel()
	for {
		d, err := s.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			t.Fatalf("describe %s: %v (path so far %v)", arn, err, s.path(t, arn))
		}
		if d.Status != sfntypes.ExecutionStatusRunning {
			return execution{ARN: arn, Status: d.Status, Error: aws.ToString(d.Error), Cause: aws.ToString(d.Cause),
				Output: aws.ToString(d.Output), Path: s.path(t, arn)}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("execution %s still running after %s; path so far %v", arn, executionTimeout, s.path(t, arn))
		case <-time.After(300 * time.Millisecond):
		}
	}
}

func (s *testSuite) path(t *testing.T, arn string) []string {
	t.Helper()
	events, err := app.ExecutionPath(context.Background(), s.sfn, arn)
	if err != nil {
		t.Fatalf("history of %s: %v", arn, err)
	}
	path := make([]string, len(events))
	for i, ev := range events {
		path[i] = ev.State
	}
	return path
}

// withoutRunningPolls drops each WaitForLookups, Poll, LookupState round that found the
// lookups still running (LookupState chose WaitForLookups again) and says how many it
// dropped. How many such rounds an execution makes depends on how fast the lookups run
// (the project's runner finishes them before its first poll; on moto they run beside the
// pipeline), not on the path through the definition.
func withoutRunningPolls(path []string) ([]string, int) {
	round := []string{"WaitForLookups", "Poll", "LookupState", "WaitForLookups"}
	var out []string
	dropped := 0
	for i := 0; i < len(path); i++ {
		if i+len(round) <= len(path) && slices.Equal(path[i:i+len(round)], round) {
			dropped++
			i += len(round) - 2 // continue at the next WaitForLookups
			continue
		}
		out = append(out, path[i])
	}
	return out, dropped
}

// job reads a job from DynamoDB.
func (s *testSuite) job(t *testing.T, id string) batch.Job {
	t.Helper()
	job, err := s.store.GetJob(context.Background(), id)
	if err != nil {
		t.Fatalf("job %s: %v", id, err)
	}
	return job
}

// jobID is the job an event names: the same derivation Prepare uses.
func jobID(t *testing.T, event json.RawMessage) string {
	t.Helper()
	id, err := batch.EventJobID(event)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// checkCounts asserts the job's counts add up: every row ends as exactly one outcome.
func checkCounts(t *testing.T, j batch.Job) {
	t.Helper()
	sum := j.RejectedRecords + j.DuplicateRecords + j.RecordsFound + j.NotFoundRecords + j.ErrorRecords
	if j.RecordCount != sum {
		t.Errorf("job %s: record_count %d != rejected %d + duplicates %d + found %d + not found %d + errors %d",
			j.ID, j.RecordCount, j.RejectedRecords, j.DuplicateRecords, j.RecordsFound, j.NotFoundRecords, j.ErrorRecords)
	}
}

// object reads an object from the bucket.
func (s *testSuite) object(t *testing.T, key string) []byte {
	t.Helper()
	body, err := s.blobs.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("get s3://%s/%s: %v", bucket, key, err)
	}
	defer body.Close()
	data, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// resultLines parses a results.jsonl file.
func resultLines(t *testing.T, data []byte) []batch.ResultLine {
	t.Helper()
	var lines []batch.ResultLine
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 8<<20)
	for n := 1; sc.Scan(); n++ {
		var line batch.ResultLine
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("results.jsonl line %d: %v", n, err)
		}
		lines = append(lines, line)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// csvRecords parses a CSV file into its header and rows.
func csvRecords(t *testing.T, data []byte) ([]string, [][]string) {
	t.Helper()
	records, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil || len(records) == 0 {
		t.Fatalf("csv: %v (%d records)\n%.300s", err, len(records), data)
	}
	return records[0], records[1:]
}

// csvFile is a CSV of "address,city,state,zip,campaign" rows under its header.
func csvFile(rows ...string) []byte {
	return []byte("address,city,state,zip,campaign\n" + strings.Join(rows, "\n") + "\n")
}

// addresses makes n distinct valid rows on one street; each scenario uses its own street, so
// no scenario's leads or bills are another's.
func addresses(street string, n int) []string {
	rows := make([]string, n)
	for i := range rows {
		rows[i] = fmt.Sprintf("%d %s,Springfield,IL,62704,it", 100+i*2, street)
	}
	return rows
}

// uniqueName makes an execution name unique within the moto server's lifetime.
func uniqueName(base string) string {
	return fmt.Sprintf("%s-%d", base, time.Now().UnixMilli())
}

// buildCommand builds the module's main package pkg ("./cmd/NAME") for this machine into
// dir and returns the binary's path.
func buildCommand(t *testing.T, pkg, dir string) string {
	t.Helper()
	root, err := localcloud.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, filepath.Base(pkg))
	build := exec.Command("go", "build", "-trimpath", "-o", bin, pkg)
	build.Dir = root
	started := time.Now()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, out)
	}
	t.Logf("built %s in %s", pkg, time.Since(started).Round(time.Millisecond))
	return bin
}
