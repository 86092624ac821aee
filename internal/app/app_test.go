package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/leadflow/attom-batch/internal/attom"
	"github.com/leadflow/attom-batch/internal/config"
	"github.com/leadflow/attom-batch/internal/sfnlaunch"
)

func TestDeadLocalHolderTellsAGoneProcessOfThisMachine(t *testing.T) {
	host, _ := os.Hostname()
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Skip("no `true` to start:", err)
	}
	for _, c := range []struct {
		holder string
		dead   bool
	}{
		{fmt.Sprintf("attom-batch run-all (pid %d on %s)", gone.Process.Pid, host), true},
		{fmt.Sprintf("attom-batch run-all (pid %d on %s)", os.Getpid(), host), false},
		{fmt.Sprintf("attom-batch run-all (pid %d on another-host)", gone.Process.Pid), false},
		{"arn:aws:states:us-east-1:1:execution:batch-pipeline:x", false},
	} {
		if got := deadLocalHolder(c.holder); got != c.dead {
			t.Errorf("deadLocalHolder(%q) = %v, want %v", c.holder, got, c.dead)
		}
	}
}

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
