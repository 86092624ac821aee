package localcloud

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A child that starts a grandchild in a session of its own (as aws-lambda-rie
// puts the bootstrap in its own process group) must leave nothing behind after stop.
func TestStopKillsGroupAndStrayDescendants(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("setsid not installed")
	}
	cmd := exec.Command("sh", "-c", "setsid sleep 300 & sleep 300")
	proc, err := startProcess("sleeper", cmd, filepath.Join(t.TempDir(), "sleeper.log"), syscall.SIGKILL)
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	deadline := time.Now().Add(5 * time.Second)
	for len(pids) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		pids = descendants(proc.pid())
	}
	if len(pids) < 2 {
		proc.stop()
		t.Fatalf("want 2 descendants of the shell, got %v", pids)
	}
	proc.stop()
	proc.stop() // a second stop is harmless
	for _, pid := range append(pids, proc.pid()) {
		if processAlive(pid) {
			stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			t.Errorf("pid %d still alive after stop: %s", pid, stat)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func TestParentPIDReadsProc(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	ppid, err := parentPID(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if ppid != syscall.Getpid() {
		t.Errorf("parentPID(child) = %d, want %d", ppid, syscall.Getpid())
	}
}
