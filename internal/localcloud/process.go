package localcloud

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stopGrace is how long a child gets to exit after SIGTERM before SIGKILL.
const stopGrace = 5 * time.Second

// process is a child started in its own process group, so that stopping it also
// stops whatever it started in that group (a pyenv shim's Python, for example).
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	logFile *os.File
	done    chan struct{}
	stopped sync.Once
}

// startProcess starts cmd with its output appended to logPath. deathSignal is what
// the kernel sends the child if this test process dies without calling Close
// (a crash, a timeout kill): SIGTERM lets aws-lambda-rie stop its bootstrap first.
func startProcess(name string, cmd *exec.Cmd, logPath string, deathSignal syscall.Signal) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("localcloud: %s: open log: %w", name, err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: deathSignal}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("localcloud: %s: start %s: %w", name, cmd.Path, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, logFile: logFile, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the child has already ended (a failed start, a crash).
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// pid is the child's process id, which is also its process group id.
func (p *process) pid() int { return p.cmd.Process.Pid }

// stop ends the child's process group and every process it started outside the
// group (aws-lambda-rie puts the bootstrap in a group of its own): SIGTERM first,
// so rie can stop its runtime cleanly, then SIGKILL for anything left. It waits
// until the child is reaped. Safe to call more than once.
func (p *process) stop() {
	p.stopped.Do(func() {
		strays := descendants(p.pid())
		_ = syscall.Kill(-p.pid(), syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopGrace):
			_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
			<-p.done
		}
		for _, pid := range strays {
			killGroupAndProcess(pid)
		}
		waitGone(strays, stopGrace)
	})
}

// waitGone waits until none of pids is alive: a killed orphan is reaped by init
// a moment after the signal, and callers want "stopped" to mean gone.
func waitGone(pids []int, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for _, pid := range pids {
		for processAlive(pid) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// logTail returns the last bytes of the child's log, for error messages.
func (p *process) logTail() string { return tailFile(p.logPath, 4096) }

// killGroupAndProcess makes sure a leftover descendant is gone, whatever group
// it ended up in. Errors mean it is already gone.
func killGroupAndProcess(pid int) {
	if pgid, err := syscall.Getpgid(pid); err == nil && pgid == pid {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// descendants lists every live process below pid, read from /proc.
func descendants(pid int) []int {
	children := childrenByParent()
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		parent := queue[0]
		queue = queue[1:]
		for _, child := range children[parent] {
			out = append(out, child)
			queue = append(queue, child)
		}
	}
	return out
}

// childrenByParent maps each parent pid to its children, from /proc/*/stat.
func childrenByParent() map[int][]int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, entry := range entries {
		pid, err := strconv.Atoi(entry.Name())
		if err != nil {
			continue
		}
		ppid, err := parentPID(pid)
		if err != nil {
			continue
		}
		children[ppid] = append(children[ppid], pid)
	}
	return children
}

// parentPID reads field 4 of /proc/PID/stat; the command name (field 2) may hold
// spaces and parentheses, so parsing starts after its last ')'.
func parentPID(pid int) (int, error) {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, err
	}
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, errors.New("localcloud: malformed /proc stat")
	}
	fields := strings.Fields(string(stat[end+1:]))
	if len(fields) < 2 {
		return 0, errors.New("localcloud: malformed /proc stat")
	}
	return strconv.Atoi(fields[1])
}

// processAlive reports whether pid names a running (not zombie) process.
func processAlive(pid int) bool {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	end := bytes.LastIndexByte(stat, ')')
	fields := strings.Fields(string(stat[end+1:]))
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}

// tailFile returns up to limit trailing bytes of a file, or a note saying why not.
func tailFile(path string, limit int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	offset := max(info.Size()-limit, 0)
	buf := make([]byte, info.Size()-offset)
	if _, err := f.ReadAt(buf, offset); err != nil {
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	return string(buf)
}
