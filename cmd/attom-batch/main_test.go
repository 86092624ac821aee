package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/attomsim"
	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/budget"
	"github.com/leadflow/attom-batch/internal/sqlitestore"
)

// sandbox points every setting at a temp dir and clears the key, so commands use the
// simulator and leave nothing behind.
func sandbox(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("ATTOM_API_KEY", "")
	t.Setenv("ATTOM_API_KEY_PARAMETER", "")
	t.Setenv("ATTOM_BATCH_CONFIG", "")
	t.Setenv("ATTOM_BATCH_BACKEND", "")
	t.Setenv("BATCH_UPLOAD_DIR", filepath.Join(dir, "uploads"))
	t.Setenv("BATCH_RESULTS_DIR", filepath.Join(dir, "results"))
	t.Setenv("ATTOM_BATCH_DB", filepath.Join(dir, "attom-batch.db"))
	return dir
}

func runCLI(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestNormalizeWritesOneJSONObjectPerLine(t *testing.T) {
	sandbox(t)
	out, _, code := runCLI(t, "123 Main Street Apt 4, Springfield, IL 62701\nPO Box 12, Phoenix, AZ 85001\n", "normalize")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %q", out)
	}
	var good, bad map[string]any
	_ = json.Unmarshal([]byte(lines[0]), &good)
	_ = json.Unmarshal([]byte(lines[1]), &bad)
	if good["line1"] != "123 MAIN ST" || good["unit"] != "APT 4" || good["state"] != "IL" || good["zip5"] != "62701" || good["key"] == "" {
		t.Fatalf("normalized: %v", good)
	}
	if bad["error"] == nil || !strings.Contains(bad["error"].(string), "PO box") {
		t.Fatalf("PO box: %v", bad)
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	sandbox(t)
	for _, args := range [][]string{{"submit"}, {"run-all", "a", "b"}, {"list", "--nope"}, {"status", "a", "b"}} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, nil, &out, &errOut); code != 2 {
			t.Errorf("%v: exit %d (%s)", args, code, errOut.String())
		}
	}
}

func TestFailureExitsOne(t *testing.T) {
	sandbox(t)
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"run-all", "does-not-exist.csv"}, nil, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "does-not-exist.csv") {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
}

func TestSeedWorkflowStepByStep(t *testing.T) {
	sandbox(t)
	example := "../../examples/properties.csv"
	ctx := context.Background()
	call := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := run(ctx, args, nil, &out, &errOut); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut.String())
		}
		return out.String()
	}
	var job batch.Job
	decode := func(raw string) {
		t.Helper()
		if err := json.Unmarshal([]byte(raw), &job); err != nil {
			t.Fatalf("%v: %s", err, raw)
		}
	}
	decode(call("submit", example, "--name", "Test Batch", "--json"))
	// The local lookups run within submit, so the job is already past them.
	if job.Name != "Test Batch" || job.Status != batch.StatusProcessing || job.UniqueRecords != 26 || job.ProgressPercent != 100 {
		t.Fatalf("after submit: %+v", job)
	}
	decode(call("status", "--json"))
	if job.ProgressPercent != 100 || job.Status != batch.StatusProcessing {
		t.Fatalf("after status: status %s progress %d", job.Status, job.ProgressPercent)
	}
	decode(call("download", job.ID, "--json"))
	if job.Status != batch.StatusDownloaded || job.ResultFilePath == "" {
		t.Fatalf("after download: %+v", job)
	}
	var summary struct {
		Job      batch.Job        `json:"job"`
		TopLeads []map[string]any `json:"top_leads"`
	}
	if err := json.Unmarshal([]byte(call("process", "--leads", "--json")), &summary); err != nil {
		t.Fatal(err)
	}
	if summary.Job.Status != batch.StatusCompleted || summary.Job.LeadsCreated == 0 || len(summary.TopLeads) == 0 {
		t.Fatalf("after process: %+v", summary.Job)
	}
	list := call("list")
	if !strings.Contains(list, job.ID) || !strings.Contains(list, "completed") {
		t.Fatalf("list: %s", list)
	}
	// Submitting the same file under the same name again names the same job.
	decode(call("submit", example, "--name", "Test Batch", "--json"))
	if job.ID != summary.Job.ID || job.Name != "Test Batch" {
		t.Fatalf("second submit made job %s (%s)", job.ID, job.Name)
	}
	// Under another name it is a new job, which buys nothing already known.
	decode(call("submit", example, "--name", "Again", "--json"))
	if job.ID == summary.Job.ID || job.Name != "Again" || job.ReusedRecords != 26 || job.CostSpentCents != 0 {
		t.Fatalf("submit under a new name: id %s name %q reused %d spent %d", job.ID, job.Name, job.ReusedRecords, job.CostSpentCents)
	}
}

func TestRunAllPrintsASummaryWithSimulatedLeads(t *testing.T) {
	sandbox(t)
	out, errOut, code := runCLI(t, "", "run-all", "../../examples/properties.csv", "--name", "My First Batch", "--leads")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"My First Batch", "completed", "Rejected", "25 created", "Top leads (SIMULATED data)"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "SIMULATED") {
		t.Errorf("no simulator notice on stderr: %s", errOut)
	}
	status, _, _ := runCLI(t, "", "status", "--verbose")
	if !strings.Contains(status, "Prepare") || !strings.Contains(status, "Complete") {
		t.Fatalf("status --verbose lacks the path:\n%s", status)
	}
}

func TestConfigShowNeverPrintsTheKey(t *testing.T) {
	sandbox(t)
	t.Setenv("ATTOM_API_KEY", "super-secret-attom-key-123")
	for _, args := range [][]string{{"config", "show"}, {"config", "show", "--json"}} {
		out, errOut, code := runCLI(t, "", args...)
		if code != 0 || strings.Contains(out+errOut, "super-secret") {
			t.Fatalf("%v: exit %d, output leaks the key or fails:\n%s%s", args, code, out, errOut)
		}
		if !strings.Contains(out, "DAILY_CAP_ATTOM_CENTS") && !strings.Contains(out, "daily_cap_cents") {
			t.Fatalf("%v: missing settings:\n%s", args, out)
		}
	}
}

func TestLookupPrintsAScoredSimulatedProperty(t *testing.T) {
	sandbox(t)
	out, errOut, code := runCLI(t, "", "lookup", "1640 Riverside Drive, Hill Valley, CA 95420")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct {
		Simulated bool `json:"simulated"`
		Found     bool `json:"found"`
		Property  struct {
			Address struct{ Line1 string } `json:"address"`
		} `json:"property"`
		Distress struct {
			Score   int              `json:"score"`
			Factors []map[string]any `json:"factors"`
		} `json:"distress"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !res.Simulated || !res.Found || res.Property.Address.Line1 != "1640 RIVERSIDE DR" || len(res.Distress.Factors) == 0 {
		t.Fatalf("lookup: %s", out)
	}
}

func TestRefreshLooksStaleRecordsUpAgain(t *testing.T) {
	sandbox(t)
	if _, errOut, code := runCLI(t, "", "run-all", "../../examples/properties.csv", "--leads"); code != 0 {
		t.Fatalf("run-all: %s", errOut)
	}
	out, _, code := runCLI(t, "", "refresh")
	if code != 0 || !strings.Contains(out, "Nothing to refresh") {
		t.Fatalf("fresh records must not be refreshed: exit %d\n%s", code, out)
	}
	if _, _, code := runCLI(t, "", "refresh", "--max-age-days", "-1"); code != 2 {
		t.Fatalf("a negative age is a usage error, got exit %d", code)
	}
	out, errOut, code := runCLI(t, "", "refresh", "--all", "--json")
	if code != 0 {
		t.Fatalf("refresh: exit %d: %s", code, errOut)
	}
	var summary struct {
		Job batch.Job `json:"job"`
	}
	if json.Unmarshal([]byte(out), &summary) != nil {
		t.Fatalf("refresh output: %s", out)
	}
	if summary.Job.Status != batch.StatusCompleted || summary.Job.RecordCount != 25 || summary.Job.RecordsFound != 25 {
		t.Fatalf("refresh job: %+v", summary.Job)
	}
	// A refresh buys fresh answers, however young the ones it has are.
	if summary.Job.ReusedRecords != 0 || summary.Job.CostSpentCents != 250 {
		t.Fatalf("refresh reused %d answers, spent %d cents", summary.Job.ReusedRecords, summary.Job.CostSpentCents)
	}
}

// `lookup` with a real key is paid like any job: under the day's cap, counted on its counter.
func TestLookupIsPaidUnderTheCap(t *testing.T) {
	dir := sandbox(t)
	sim := attomsim.New(attomsim.Options{NotFoundRate: -1, APIKey: "k-test"})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	t.Setenv("ATTOM_BASE_URL", srv.URL)
	t.Setenv("ATTOM_API_KEY", "k-test")
	t.Setenv("DAILY_CAP_ATTOM_CENTS", "10")
	if _, errOut, code := runCLI(t, "", "lookup", "1640 Riverside Dr, Hill Valley, CA 95420"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	_, errOut, code := runCLI(t, "", "lookup", "9 Harbor View Ln, Tampa, FL 33602")
	if code != 1 || !strings.Contains(errOut, "not looked up") || sim.BilledCount() != 1 {
		t.Fatalf("over the cap: exit %d, billed %d: %s", code, sim.BilledCount(), errOut)
	}
	store, err := sqlitestore.Open(filepath.Join(dir, "attom-batch.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	usage, err := store.Budget(10).Usage(context.Background(), budget.Day(time.Now()))
	if err != nil || usage.SpentCents != 10 || usage.ReservedCents != 0 {
		t.Fatalf("the day's counter %+v (%v): want the one report spent", usage, err)
	}
}
