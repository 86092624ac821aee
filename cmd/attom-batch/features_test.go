package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Each feature flag switches something: these fail when the flag is ignored.

func TestFeatureImportsOffRefusesImports(t *testing.T) {
	dir := sandbox(t)
	t.Setenv("ATTOM_BATCH_FEATURES", "-imports")
	file := filepath.Join(dir, "list.csv")
	_ = os.WriteFile(file, []byte("address,zip,vacant\n1 Main St,62701,Y\n"), 0o644)
	_, errOut, code := runCLI(t, "", "import", file, "--source", "county", "--leads")
	if code != 1 || !strings.Contains(errOut, "imports are switched off") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if recs := newPropertyRecords(t, "1 MAIN ST"); len(recs) != 0 {
		t.Fatalf("a refused import stored %d records", len(recs))
	}
	t.Setenv("ATTOM_BATCH_FEATURES", "imports")
	mustRun(t, "import", file, "--source", "county")
	if recs := newPropertyRecords(t, "1 MAIN ST"); len(recs) != 1 {
		t.Fatalf("with the flag on the import stored %d records", len(recs))
	}
}

func TestFeatureRefreshOffBuysNothing(t *testing.T) {
	_, sim := simRig(t)
	runAllJob(t)
	billed := sim.BilledCount()
	t.Setenv("ATTOM_BATCH_FEATURES", "-refresh")
	_, errOut, code := runCLI(t, "", "refresh", "--all")
	if code != 1 || !strings.Contains(errOut, "refresh is switched off") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if got := sim.BilledCount(); got != billed {
		t.Fatalf("refresh switched off bought %d reports", got-billed)
	}
}

func TestFeatureLeadsExportOffWritesNoCSV(t *testing.T) {
	for _, on := range []bool{true, false} {
		dir := sandbox(t)
		flags := "leads_export"
		if !on {
			flags = "-leads_export"
		}
		t.Setenv("ATTOM_BATCH_FEATURES", flags)
		job := runAllJob(t)
		_, err := os.Stat(filepath.Join(dir, "results", "exports", job.ID, "leads.csv"))
		if exists := err == nil; exists != on {
			t.Errorf("leads_export=%t: export exists %t", on, exists)
		}
		if job.LeadsCreated != 25 || len(leadsOf(t, "--job", job.ID)) != 25 {
			t.Errorf("leads_export=%t: leads are saved either way, got %d created", on, job.LeadsCreated)
		}
	}
}

func TestConfigShowListsFeatures(t *testing.T) {
	sandbox(t)
	t.Setenv("ATTOM_BATCH_FEATURES", "-refresh")
	out := mustRun(t, "config", "show")
	for _, want := range []string{"feature imports", "feature leads_export", "feature refresh"} {
		if !strings.Contains(out, want) {
			t.Errorf("config show lacks %q:\n%s", want, out)
		}
	}
	var cfg struct {
		Features []struct {
			Name    string `json:"name"`
			Enabled bool   `json:"enabled"`
		} `json:"features"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "config", "show", "--json")), &cfg); err != nil {
		t.Fatal(err)
	}
	state := map[string]bool{}
	for _, f := range cfg.Features {
		state[f.Name] = f.Enabled
	}
	if len(state) != 3 || state["refresh"] || !state["imports"] || !state["leads_export"] {
		t.Fatalf("features: %+v", cfg.Features)
	}
	t.Setenv("ATTOM_BATCH_FEATURES", "-refesh")
	if _, errOut, code := runCLI(t, "", "config", "show"); code == 0 || !strings.Contains(errOut, `feature "refesh" is unknown`) {
		t.Fatalf("an unknown flag: exit %d: %s", code, errOut)
	}
}
