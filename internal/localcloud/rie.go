package localcloud

import (
	"context"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// rieStartTimeout bounds how long an emulator may take to open its port.
const rieStartTimeout = 30 * time.Second

// rieInvokePath is the only function path aws-lambda-rie serves.
const rieInvokePath = "/2015-03-31/functions/function/invocations"

// rieInstance is one aws-lambda-rie process running one bootstrap. It handles
// one invocation at a time (it panics on overlapping ones), so the pool that
// owns it hands it to one caller at a time.
type rieInstance struct {
	proc      *process
	invokeURL string
}

// functionPool holds a function's emulators; free is a queue of idle instances,
// so an invocation waits for one instead of overlapping another.
type functionPool struct {
	name string
	// reserved is true when the pool's size is the function's reserved concurrency:
	// synchronous invocations beyond it are throttled, as Lambda does.
	reserved bool
	// mu guards instances, which recycle replaces.
	mu        sync.Mutex
	instances []*rieInstance
	free      chan *rieInstance
}

// acquire waits for an idle instance or the caller giving up.
func (p *functionPool) acquire(ctx context.Context) (*rieInstance, error) {
	select {
	case inst := <-p.free:
		return inst, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// tryAcquire takes an idle instance if there is one: a function at its reserved
// concurrency refuses further invocations instead of queueing them.
func (p *functionPool) tryAcquire() (*rieInstance, bool) {
	select {
	case inst := <-p.free:
		return inst, true
	default:
		return nil, false
	}
}

// release returns an instance to the pool.
func (p *functionPool) release(inst *rieInstance) { p.free <- inst }

// startPool starts count emulators for one function and waits until each listens.
func startPool(ctx context.Context, rie, name, bootstrap string, env []string, count int, logDir string) (*functionPool, error) {
	if _, err := os.Stat(bootstrap); err != nil {
		return nil, fmt.Errorf("localcloud: function %q: bootstrap: %w", name, err)
	}
	pool := &functionPool{name: name, free: make(chan *rieInstance, count)}
	for i := range count {
		inst, err := startRIE(ctx, rie, name, i, bootstrap, env, logDir)
		if err != nil {
			pool.stop()
			return nil, err
		}
		pool.instances = append(pool.instances, inst)
		pool.free <- inst
	}
	return pool, nil
}

// startRIE runs `aws-lambda-rie --runtime-interface-emulator-address A
// --runtime-api-address B bootstrap` on two free loopback ports. Both addresses
// are set: the defaults (0.0.0.0:8080 and 127.0.0.1:9001) would collide between
// instances and with other programs.
func startRIE(ctx context.Context, rie, name string, index int, bootstrap string, env []string, logDir string) (*rieInstance, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	invokeAddr := "127.0.0.1:" + strconv.Itoa(ports[0])
	cmd := exec.Command(rie,
		"--runtime-interface-emulator-address", invokeAddr,
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(ports[1]),
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = env
	label := fmt.Sprintf("rie-%s-%d", name, index)
	proc, err := startProcess(label, cmd, filepath.Join(logDir, label+".log"), syscall.SIGTERM)
	if err != nil {
		return nil, err
	}
	if err := waitForPort(ctx, proc, invokeAddr); err != nil {
		proc.stop()
		return nil, err
	}
	return &rieInstance{proc: proc, invokeURL: "http://" + invokeAddr + rieInvokePath}, nil
}

// stop ends every emulator of the pool (and, through them, their bootstraps).
func (p *functionPool) stop() {
	for _, inst := range p.snapshot() {
		inst.proc.stop()
	}
}

// snapshot is the pool's instances now.
func (p *functionPool) snapshot() []*rieInstance {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.instances)
}

// recycle replaces every emulator, and so every bootstrap, with a fresh one: a cold start,
// as when Lambda replaces a function's execution environments, so nothing a bootstrap kept
// in memory survives. It first takes every instance, waiting for invocations in flight.
// On a failed start the pool keeps what it has (a stopped instance fails its invocations
// as a crashed runtime does) and the error is returned.
func (p *functionPool) recycle(ctx context.Context, rie, bootstrap string, env []string, logDir string) error {
	n := len(p.snapshot())
	held := make([]*rieInstance, 0, n)
	defer func() {
		for _, inst := range held {
			p.release(inst)
		}
	}()
	for range n {
		inst, err := p.acquire(ctx)
		if err != nil {
			return err
		}
		held = append(held, inst)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, inst := range p.instances {
		inst.proc.stop()
		fresh, err := startRIE(ctx, rie, p.name, i, bootstrap, env, logDir)
		if err != nil {
			return fmt.Errorf("localcloud: recycle %s: %w", p.name, err)
		}
		p.instances[i] = fresh
		held[slices.Index(held, inst)] = fresh
	}
	return nil
}

// functionEnv is the environment of a function's emulator and bootstrap: a clean
// Lambda-like set (no host AWS settings leak in), then the caller's Env on top.
func functionEnv(name string, opts Options, endpoint string) []string {
	env := map[string]string{
		"PATH":                            os.Getenv("PATH"),
		"HOME":                            os.Getenv("HOME"),
		"TZ":                              "UTC",
		"AWS_LAMBDA_FUNCTION_NAME":        name,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     strconv.Itoa(int(opts.FunctionTimeout / time.Second)),
		"AWS_REGION":                      opts.Region,
		"AWS_DEFAULT_REGION":              opts.Region,
		"AWS_ACCESS_KEY_ID":               AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":           SecretAccessKey,
		"AWS_ENDPOINT_URL":                endpoint,
	}
	maps.Copy(env, opts.Env)
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// waitForPort waits until something accepts connections on addr.
func waitForPort(ctx context.Context, proc *process, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, rieStartTimeout)
	defer cancel()
	for {
		conn, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", addr)
		if err == nil {
			conn.Close()
			return nil
		}
		if proc.exited() {
			return fmt.Errorf("localcloud: %s exited during start-up; log %s:\n%s", proc.name, proc.logPath, proc.logTail())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("localcloud: %s not listening on %s: %w; log %s:\n%s", proc.name, addr, ctx.Err(), proc.logPath, proc.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// freePorts asks the kernel for n distinct free loopback ports. They are free
// when returned; a child binds them a moment later, a race that is harmless on
// a test machine (the kernel does not hand the same ephemeral port out twice in
// quick succession).
func freePorts(n int) ([]int, error) {
	listeners := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("localcloud: free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
