package localcloud

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// launcherPath is moto_launcher.py's place relative to the module root.
const launcherPath = "scripts/localcloud/moto_launcher.py"

// motoStartTimeout bounds moto's import and first answer (6-10 s on this 2-core machine).
const motoStartTimeout = 90 * time.Second

// ErrNoMoto says python3 cannot import moto; tests skip on it (and only on it).
var ErrNoMoto = errors.New("localcloud: moto is not installed for python3 (pip install 'moto[server]==5.2.1')")

// MotoAvailable returns nil when python3 can import moto, else ErrNoMoto with the reason.
func MotoAvailable(ctx context.Context) error {
	python, err := exec.LookPath("python3")
	if err != nil {
		return fmt.Errorf("%w: python3 not on PATH", ErrNoMoto)
	}
	out, err := exec.CommandContext(ctx, python, "-c", "import moto").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", ErrNoMoto, bytes.TrimSpace(out))
	}
	return nil
}

// startMoto runs moto_launcher.py on motoPort, telling moto's Step Functions engine
// (through MOTO_PORT) to call routerPort for every AWS call a task makes.
func startMoto(ctx context.Context, opts Options, motoPort, routerPort int) (*process, error) {
	root, err := ModuleRoot()
	if err != nil {
		return nil, err
	}
	launcher := filepath.Join(root, launcherPath)
	if _, err := os.Stat(launcher); err != nil {
		return nil, fmt.Errorf("localcloud: moto launcher: %w", err)
	}
	args := []string{launcher, "-H", "127.0.0.1", "-p", strconv.Itoa(motoPort)}
	if opts.ParallelMoto {
		args = append([]string{launcher, "--parallel"}, args[1:]...)
	}
	cmd := exec.Command("python3", args...)
	cmd.Env = append(os.Environ(),
		"MOTO_PORT="+strconv.Itoa(routerPort),
		"PYTHONUNBUFFERED=1",
	)
	proc, err := startProcess("moto", cmd, filepath.Join(opts.LogDir, "moto.log"), syscall.SIGKILL)
	if err != nil {
		return nil, err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(motoPort)
	if err := waitForMoto(ctx, proc, base); err != nil {
		proc.stop()
		return nil, err
	}
	if err := enableExecution(ctx, base); err != nil {
		proc.stop()
		return nil, err
	}
	return proc, nil
}

// waitForMoto polls /moto-api/ until moto answers, the process dies, or time runs out.
func waitForMoto(ctx context.Context, proc *process, base string) error {
	ctx, cancel := context.WithTimeout(ctx, motoStartTimeout)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/moto-api/", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		if proc.exited() {
			return fmt.Errorf("localcloud: moto exited during start-up; log %s:\n%s", proc.logPath, proc.logTail())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("localcloud: moto not answering at %s: %w; log %s:\n%s", base, ctx.Err(), proc.logPath, proc.logTail())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// enableExecution turns on moto's Step Functions engine through its documented
// config API (the launcher does it too; this keeps plain moto servers working).
func enableExecution(ctx context.Context, base string) error {
	body := []byte(`{"stepfunctions":{"execute_state_machine":true}}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/moto-api/config", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("localcloud: moto config: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("localcloud: moto config: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("localcloud: moto config: HTTP %d", resp.StatusCode)
	}
	return nil
}
