package embeddedapp

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
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
