package app

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/leadflow/attom-batch/internal/attom"
	"github.com/leadflow/attom-batch/internal/config"
	"github.com/leadflow/attom-batch/internal/sfnlaunch"
)

// A function that cannot read the ATTOM key still starts (only the lookup function may read
// it); its first ATTOM call fails as a refused key, saying why.
func TestAFunctionWithoutTheKeyStartsAndRefusesATTOMCalls(t *testing.T) {
	at, lookup, err := cloudAttom(config.Config{}, errors.New("AccessDenied: ssm:GetParameter"))
	if err != nil || at.Simulated() {
		t.Fatalf("cloudAttom: %v, simulated %v", err, at.Simulated())
	}
	_, err = lookup.Lookup(context.Background(), attom.EndpointExpandedProfile, attom.Query{Line1: "1 A St", Line2: "B, CA"})
	var refused *attom.AttomUnauthorized
	if !errors.As(err, &refused) || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("lookup without the key: %v", err)
	}
	at.Close()
}

// The start function needs the bucket and the pipeline's ARN, nothing else.
func TestStarterNeedsTheBucketAndThePipeline(t *testing.T) {
	t.Setenv("ATTOM_BATCH_BUCKET", "data")
	t.Setenv("ATTOM_BATCH_PIPELINE_STATE_MACHINE_ARN", "")
	if _, err := newStarter(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "ATTOM_BATCH_PIPELINE_STATE_MACHINE_ARN") {
		t.Fatalf("without the pipeline: %v", err)
	}
	const arn = "arn:aws:states:us-east-1:1:stateMachine:AttomBatch-pipeline"
	t.Setenv("ATTOM_BATCH_PIPELINE_STATE_MACHINE_ARN", arn)
	s, err := newStarter(context.Background(), nil)
	if err != nil || s.Bucket != "data" {
		t.Fatalf("starter %+v, %v", s, err)
	}
	if p, ok := s.Pipeline.(*sfnlaunch.Pipeline); !ok || p.StateMachineARN != arn {
		t.Fatalf("pipeline %+v", s.Pipeline)
	}
}

// TestLambdasDoNotLinkSQLite: no Lambda function links the SQLite driver or the embedded
// backend (issue 12); they are built as the Makefile builds them (linux/arm64, no cgo).
func TestLambdasDoNotLinkSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool:", err)
	}
	cmd := exec.Command(goTool, "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "../../functions/...")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	functions := 0
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		functions++
		for _, dep := range fields[1:] {
			if strings.Contains(strings.ToLower(dep), "sqlite") || strings.HasSuffix(dep, "/internal/embeddedapp") {
				t.Errorf("%s depends on %s", fields[0], dep)
			}
		}
	}
	if functions < 10 {
		t.Errorf("go list found %d functions, want every functions/* package:\n%s", functions, out)
	}
}
