//go:build integration

package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/batch"
)

// TestServeWithTheAWSBackend runs `attom-batch serve --backend aws` against the local cloud
// and uses its API as the pages do: the upload is streamed to incoming/ and the pipeline
// started, the job is read from DynamoDB until the deployed state machine completes it, and
// its leads, export and rejects come from the stores and the bucket.
func TestServeWithTheAWSBackend(t *testing.T) {
	cli := newCLI(t)
	ctx, cancel := context.WithTimeout(context.Background(), executionTimeout+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cli.bin, "serve", "--addr", "127.0.0.1:0")
	cmd.Env = cli.env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve did not stop cleanly: %v\n%s", err, stderr.Bytes())
			}
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("serve did not stop on SIGINT")
		}
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed no URL: %v\n%s", err, stderr.Bytes())
	}
	base := strings.TrimSpace(line)

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("name", "UI batch")
	_ = mw.WriteField("leads", "true")
	fw, _ := mw.CreateFormFile("file", "it-serve-birch.csv")
	_, _ = fw.Write(csvFile(append(addresses("Birch Road", 4), "PO Box 7,Springfield,IL,62704,po box")...))
	_ = mw.Close()
	res, err := http.Post(base+"/api/jobs", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var job struct {
		batch.Job
		ConsoleURL string `json:"console_url"`
	}
	if res.StatusCode != http.StatusAccepted || json.Unmarshal(raw, &job) != nil || job.ID == "" {
		t.Fatalf("POST /api/jobs: %d %s\n%s", res.StatusCode, raw, stderr.Bytes())
	}
	if job.FilePath != "incoming/it-serve-birch.csv" || !strings.Contains(job.ConsoleURL, "console.aws.amazon.com/states") {
		t.Errorf("job %s from %q, console link %q", job.ID, job.FilePath, job.ConsoleURL)
	}

	get := func(path string) []byte {
		t.Helper()
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, res.StatusCode, raw)
		}
		return raw
	}
	deadline := time.Now().Add(executionTimeout)
	for {
		var j batch.Job
		if err := json.Unmarshal(get("/api/jobs/"+job.ID), &j); err != nil {
			t.Fatal(err)
		}
		if j.Status == batch.StatusCompleted {
			checkCounts(t, j)
			if j.RecordCount != 5 || j.RejectedRecords != 1 || j.LeadsCreated == 0 {
				t.Errorf("completed job %+v", j)
			}
			break
		}
		if j.Status == batch.StatusFailed || time.Now().After(deadline) {
			t.Fatalf("job %s is %s: %s", j.ID, j.Status, j.Error)
		}
		time.Sleep(time.Second)
	}
	var leads []map[string]any
	if err := json.Unmarshal(get("/api/jobs/"+job.ID+"/leads"), &leads); err != nil || len(leads) == 0 {
		t.Errorf("leads: %v %d", err, len(leads))
	}
	if export := get("/api/jobs/" + job.ID + "/leads.csv"); !bytes.HasPrefix(export, []byte("address,city,state,zip")) {
		t.Errorf("export starts %q", export[:min(len(export), 60)])
	}
	if rejects := get("/api/jobs/" + job.ID + "/rejects.csv"); !bytes.Contains(rejects, []byte("PO box")) {
		t.Errorf("rejects %q", rejects)
	}
	if page := get("/jobs/" + job.ID); !bytes.Contains(page, []byte("Step Functions console")) {
		t.Errorf("the job page has no link to the execution")
	}
}
