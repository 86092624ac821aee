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
