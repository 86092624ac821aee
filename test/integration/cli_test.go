//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/batch"
)

// TestCLIWithTheAWSBackend runs the real attom-batch binary with --backend aws against the
// local cloud, the way an operator drives a deployed stack: submit uploads to incoming/ and
// starts the pipeline, status follows it, list shows it, download fetches its files.
func TestCLIWithTheAWSBackend(t *testing.T) {
	cli := newCLI(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "it-cli-maple.csv")
	rows := append(addresses("Maple Avenue", 6),
		"100 Maple Ave,Springfield,IL,62704,again", // duplicate of the first row
		"PO Box 9,Springfield,IL,62704,po box")     // rejected
	if err := os.WriteFile(file, csvFile(rows...), 0o644); err != nil {
		t.Fatal(err)
	}

	var submitted batch.Job
	cli.run(t, &submitted, "submit", file, "--name", "CLI batch", "--leads", "--json")
	if submitted.ID == "" || submitted.Name != "CLI batch" || !submitted.WantLeads || submitted.FileName != "it-cli-maple.csv" {
		t.Fatalf("submit printed %+v", submitted)
	}
	if !strings.HasPrefix(submitted.ExecutionID, "arn:aws:states:us-east-1:123456789012:execution:"+pipelineName+":") {
		t.Errorf("submitted job's execution %q is not a %s execution", submitted.ExecutionID, pipelineName)
	}

	job := cli.waitCompleted(t, submitted.ID)
	checkCounts(t, job)
	if job.RecordCount != 8 || job.RejectedRecords != 1 || job.DuplicateRecords != 1 || job.UniqueRecords != 6 ||
		job.RecordsFound == 0 || job.LeadsCreated != job.RecordsFound {
		t.Fatalf("status printed %+v", job)
	}

	var listed []batch.Job
	cli.run(t, &listed, "list", "--json")
	i := slices.IndexFunc(listed, func(j batch.Job) bool { return j.ID == job.ID })
	if i < 0 || listed[i].Status != batch.StatusCompleted || listed[i].LeadsCreated != job.LeadsCreated {
		t.Fatalf("list does not show the completed job %s: %+v", job.ID, listed)
	}

	var downloaded batch.Job
	cli.run(t, &downloaded, "download", job.ID, "--json")
	if downloaded.ID != job.ID {
		t.Fatalf("download printed job %q, want %q", downloaded.ID, job.ID)
	}
	checkDownloads(t, cli.resultsDir, job)
}

// checkDownloads compares the files download saved under BATCH_RESULTS_DIR with S3.
func checkDownloads(t *testing.T, resultsDir string, job batch.Job) {
	t.Helper()
	for _, key := range []string{job.ResultFilePath, job.RejectsPath, "exports/" + job.ID + "/leads.csv"} {
		saved, err := os.ReadFile(filepath.Join(resultsDir, filepath.FromSlash(key)))
		if err != nil {
			t.Errorf("download did not save %s: %v", key, err)
			continue
		}
		if !bytes.Equal(saved, suite.object(t, key)) {
			t.Errorf("%s saved by download differs from s3://%s/%s", key, bucket, key)
		}
	}
	results, err := os.ReadFile(filepath.Join(resultsDir, "batches", job.ID, "results.jsonl"))
	if err == nil && len(resultLines(t, results)) != job.UniqueRecords {
		t.Errorf("results.jsonl has %d lines, want %d", len(resultLines(t, results)), job.UniqueRecords)
	}
	leadsCSV, err := os.ReadFile(filepath.Join(resultsDir, "exports", job.ID, "leads.csv"))
	if err == nil {
		if _, rows := csvRecords(t, leadsCSV); len(rows) != job.LeadsCreated {
			t.Errorf("leads.csv has %d rows, want %d", len(rows), job.LeadsCreated)
		}
	}
}

// cliRunner runs the attom-batch binary with a clean environment pointing at the local cloud.
type cliRunner struct {
	bin        string
	env        []string
	resultsDir string
}

// newCLI builds ./cmd/attom-batch for this machine into a temporary directory, pointed at
// the suite's cloud.
func newCLI(t *testing.T) *cliRunner {
	env := map[string]string{
		"ATTOM_BATCH_BACKEND":                    "aws",
		"ATTOM_BATCH_BUCKET":                     bucket,
		"ATTOM_BATCH_JOBS_TABLE":                 suite.tables.Jobs,
		"ATTOM_BATCH_PROPERTIES_TABLE":           suite.tables.Properties,
		"ATTOM_BATCH_LEADS_TABLE":                suite.tables.Leads,
		"ATTOM_BATCH_LOOKUPS_TABLE":              suite.tables.Lookups,
		"ATTOM_BATCH_BUDGET_TABLE":               suite.tables.Budget,
		"ATTOM_BATCH_PIPELINE_STATE_MACHINE_ARN": suite.pipelineARN,
		"ATTOM_BATCH_LOOKUP_STATE_MACHINE_ARN":   suite.lookupARN,
		"ATTOM_API_KEY":                          attomKey,
		"ATTOM_BASE_URL":                         suite.simURL,
	}
	maps.Copy(env, suite.cloud.EnvVars()) // AWS_ENDPOINT_URL, dummy credentials, region
	return newCLIWith(t, env)
}

// newCLIWith builds ./cmd/attom-batch into a temporary directory, to run with env and
// nothing else of this process's environment but PATH.
func newCLIWith(t *testing.T, env map[string]string) *cliRunner {
	t.Helper()
	dir := t.TempDir()
	bin := buildCommand(t, "./cmd/attom-batch", dir)
	c := &cliRunner{bin: bin, resultsDir: filepath.Join(dir, "results")}
	all := map[string]string{"PATH": os.Getenv("PATH"), "HOME": dir, "BATCH_RESULTS_DIR": c.resultsDir}
	maps.Copy(all, env)
	for k, v := range all {
		c.env = append(c.env, k+"="+v)
	}
	return c
}

// run executes one command, requires exit status 0 and decodes its JSON output into v.
func (c *cliRunner) run(t *testing.T, v any, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = c.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("attom-batch %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	if bytes.Contains(stdout.Bytes(), []byte(attomKey)) || bytes.Contains(stderr.Bytes(), []byte(attomKey)) {
		t.Errorf("attom-batch %s printed the ATTOM key", strings.Join(args, " "))
	}
	if err := json.Unmarshal(stdout.Bytes(), v); err != nil {
		t.Fatalf("attom-batch %s: output is not the JSON expected: %v\n%s", strings.Join(args, " "), err, stdout.Bytes())
	}
}

// waitCompleted runs `status ID --json` until the job is completed.
func (c *cliRunner) waitCompleted(t *testing.T, id string) batch.Job {
	t.Helper()
	deadline := time.Now().Add(executionTimeout)
	var job batch.Job
	for polls := 1; ; polls++ {
		c.run(t, &job, "status", id, "--json")
		switch {
		case job.Status == batch.StatusCompleted:
			t.Logf("status: completed after %d polls", polls)
			return job
		case job.Status == batch.StatusFailed:
			t.Fatalf("job %s failed: %s", id, job.Error)
		case time.Now().After(deadline):
			t.Fatalf("job %s still %s after %s", id, job.Status, executionTimeout)
		}
		time.Sleep(time.Second)
	}
}
