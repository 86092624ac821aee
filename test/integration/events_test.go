//go:build integration

package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/eventbus"
)

// TestJobEventsReachEventBridge runs a small file through the pipeline with a rule on the
// default bus that sends every attom-batch event to an SQS queue (moto delivers PutEvents to
// SQS targets, as EventBridge does), and reads the queue: the complete Lambda put one "Batch
// Job Completed" event whose detail is the job as DynamoDB holds it, under the seed's column
// names, with where its files are.
func TestJobEventsReachEventBridge(t *testing.T) {
	queue := suite.jobEventQueue(t)
	rows := append(addresses("Event Court", 3),
		"100 Event Ct,Springfield,IL,62704,again", // a duplicate of the first row
		"PO Box 9,Springfield,IL,62704,po box",    // rejected
	)
	event := suite.upload(t, "incoming/it-job-events.csv", csvFile(rows...), nil)
	id := jobID(t, event)

	exec := suite.runPipeline(t, uniqueName("job-events"), event)
	if exec.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: %s %s (path %v)", exec.ARN, exec.Error, exec.Cause, exec.Path)
	}
	job := suite.job(t, id)
	if job.Status != batch.StatusCompleted || job.RecordCount != 5 || job.DuplicateRecords != 1 || job.RejectedRecords != 1 {
		t.Fatalf("job %+v", job)
	}

	queue.waitFor(t, id, "Batch Job Completed")
	queue.drain(t)
	got := queue.of(id)
	for _, ev := range got {
		// A job that runs straight through is neither paused, resumed nor failed.
		if ev.Source != eventbus.Source || ev.DetailType != "Batch Job Completed" {
			t.Errorf("job %s: event from %q with detail-type %q, want only %q from %q",
				id, ev.Source, ev.DetailType, "Batch Job Completed", eventbus.Source)
		}
	}
	var completed busEvent
	for _, ev := range got {
		if ev.DetailType != "Batch Job Completed" {
			continue
		}
		// A retried Complete sends the same event again: the same id.
		if completed.Detail.ID != "" && ev.Detail.ID != completed.Detail.ID {
			t.Errorf("two different completed events for job %s: %s and %s", id, completed.Detail.ID, ev.Detail.ID)
		}
		completed = ev
	}
	d := completed.Detail
	t.Logf("%s %s (%s): job %s rows %d, found %d, not found %d, rejected %d, duplicates %d, leads %d, spent %d cents",
		completed.Source, completed.DetailType, d.ID, d.Job.ID, d.Job.RecordCount, d.Job.RecordsFound, d.Job.NotFoundRecords,
		d.Job.RejectedRecords, d.Job.DuplicateRecords, d.Job.LeadsCreated, d.Job.CostSpentCents)
	if d.Type != batch.EventCompleted || d.Job.ID != id || d.Job.Name != job.Name || d.Job.Status != batch.StatusCompleted {
		t.Errorf("detail type %q, job %q %q %q; want completed for job %s", d.Type, d.Job.ID, d.Job.Name, d.Job.Status, id)
	}
	type counts struct{ rows, rejected, duplicates, found, notFound, errors, processed, leads int }
	wantCounts := counts{job.RecordCount, job.RejectedRecords, job.DuplicateRecords, job.RecordsFound, job.NotFoundRecords,
		job.ErrorRecords, job.ProcessedRecords, job.LeadsCreated}
	gotCounts := counts{d.Job.RecordCount, d.Job.RejectedRecords, d.Job.DuplicateRecords, d.Job.RecordsFound, d.Job.NotFoundRecords,
		d.Job.ErrorRecords, d.Job.ProcessedRecords, d.Job.LeadsCreated}
	if gotCounts != wantCounts || d.Job.CostSpentCents != job.CostSpentCents || d.Job.CostReservedCents != 0 {
		t.Errorf("event counts %+v, spent %d, reserved %d; the job has %+v, spent %d",
			gotCounts, d.Job.CostSpentCents, d.Job.CostReservedCents, wantCounts, job.CostSpentCents)
	}
	if d.ResultsPath != job.ResultFilePath || d.RejectsPath != job.RejectsPath || d.LeadsExportPath != "exports/"+id+"/leads.csv" {
		t.Errorf("paths: results %q rejects %q export %q; want %q, %q, exports/%s/leads.csv",
			d.ResultsPath, d.RejectsPath, d.LeadsExportPath, job.ResultFilePath, job.RejectsPath, id)
	}
	// The detail speaks the seed's column names.
	var raw struct {
		Job map[string]json.RawMessage `json:"job"`
	}
	if err := json.Unmarshal(completed.RawDetail, &raw); err != nil {
		t.Fatal(err)
	}
	for _, col := range []string{"id", "name", "status", "record_count", "records_found", "processed_records", "error_records", "leads_created"} {
		if _, ok := raw.Job[col]; !ok {
			t.Errorf("detail.job has no %q: %s", col, completed.RawDetail)
		}
	}
}

// eventQueue is an SQS queue that a rule on the default bus fills with every attom-batch
// event, and what has been read from it so far.
type eventQueue struct {
	s    *testSuite
	url  string
	seen []busEvent
}

// busEvent is an EventBridge event as a rule delivers it to SQS.
type busEvent struct {
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	RawDetail  json.RawMessage `json:"detail"`
	Detail     batch.JobEvent  `json:"-"`
}

// jobEventQueue creates the queue and the rule, and removes both when the test ends, so no
// later test's events pile up in it.
func (s *testSuite) jobEventQueue(t *testing.T) *eventQueue {
	t.Helper()
	ctx := context.Background()
	name := uniqueName("attom-batch-it-job-events")
	q := &eventQueue{s: s}
	var created struct{ QueueUrl string }
	if err := s.sqs(ctx, "CreateQueue", map[string]any{"QueueName": name}, &created); err != nil {
		t.Fatalf("create queue: %v", err)
	}
	q.url = created.QueueUrl
	var attrs struct{ Attributes map[string]string }
	if err := s.sqs(ctx, "GetQueueAttributes", map[string]any{"QueueUrl": q.url, "AttributeNames": []string{"QueueArn"}}, &attrs); err != nil {
		t.Fatalf("queue attributes: %v", err)
	}
	eb := eventbridge.NewFromConfig(s.cloud.AWSConfig())
	pattern := fmt.Sprintf(`{"source":[%q]}`, eventbus.Source)
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(name), EventBusName: aws.String("default"),
		EventPattern: aws.String(pattern), State: ebtypes.RuleStateEnabled}); err != nil {
		t.Fatalf("put rule: %v", err)
	}
	out, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(name), EventBusName: aws.String("default"),
		Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(attrs.Attributes["QueueArn"])}}})
	if err != nil || out.FailedEntryCount > 0 {
		t.Fatalf("put targets: %v %+v", err, out)
	}
	t.Cleanup(func() {
		_, _ = eb.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(name), Ids: []string{"queue"}})
		_, _ = eb.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String(name)})
		_ = s.sqs(ctx, "DeleteQueue", map[string]any{"QueueUrl": q.url}, nil)
	})
	return q
}

// waitFor reads the queue until an event of detailType for the job has arrived.
func (q *eventQueue) waitFor(t *testing.T, jobID, detailType string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, ev := range q.of(jobID) {
			if ev.DetailType == detailType {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q event for job %s on the queue after 10 s (%d events read)", detailType, jobID, len(q.seen))
		}
		q.read(t)
	}
}

// drain reads until the queue is empty.
func (q *eventQueue) drain(t *testing.T) {
	t.Helper()
	for q.read(t) > 0 {
	}
}

// of is every event read so far about the job.
func (q *eventQueue) of(jobID string) []busEvent {
	var out []busEvent
	for _, ev := range q.seen {
		if ev.Detail.Job.ID == jobID {
			out = append(out, ev)
		}
	}
	return out
}

// read receives what the queue holds (waiting up to a second) and deletes it; it returns
// how many messages it read.
func (q *eventQueue) read(t *testing.T) int {
	t.Helper()
	ctx := context.Background()
	var out struct {
		Messages []struct{ Body, ReceiptHandle string }
	}
	if err := q.s.sqs(ctx, "ReceiveMessage", map[string]any{"QueueUrl": q.url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 1}, &out); err != nil {
		t.Fatalf("receive: %v", err)
	}
	for _, m := range out.Messages {
		var ev busEvent
		if err := json.Unmarshal([]byte(m.Body), &ev); err != nil {
			t.Fatalf("message is not an EventBridge event: %v\n%s", err, m.Body)
		}
		if err := json.Unmarshal(ev.RawDetail, &ev.Detail); err != nil {
			t.Fatalf("detail is not a job event: %v\n%s", err, m.Body)
		}
		q.seen = append(q.seen, ev)
		_ = q.s.sqs(ctx, "DeleteMessage", map[string]any{"QueueUrl": q.url, "ReceiptHandle": m.ReceiptHandle}, nil)
	}
	return len(out.Messages)
}

// sqs makes one SQS call in its JSON protocol, signed as the SDK signs it. (The SDK's own
// SQS client is not a dependency of this module; these few calls do not need one.)
func (s *testSuite) sqs(ctx context.Context, action string, in, out any) error {
	cfg := s.cloud.AWSConfig()
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(s.cloud.Endpoint(), "/")+"/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "AmazonSQS."+action)
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "sqs", cfg.Region, time.Now()); err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("SQS %s: HTTP %d: %.300s", action, resp.StatusCode, answer)
	}
	if out == nil || len(answer) == 0 {
		return nil
	}
	return json.Unmarshal(answer, out)
}
