// Package awstest runs the AWS adapters' tests against a real moto server: it starts moto's
// server as a child process on a free loopback port (handling one request at a time, so
// that DynamoDB writes to one item are atomic as on AWS), points the AWS SDK at it with
// dummy credentials, and stops the whole process group when the test ends. Tests that share
// one server give every store its own name prefix (UniqueName), so they never see each
// other's tables or buckets.
package awstest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Dummy credentials and region moto accepts; real ones are never needed or read.
const (
	AccessKeyID     = "test"
	SecretAccessKey = "test"
	Region          = "us-east-1"
)

// motoCommand is the moto 5 server executable, run as is by the Parallel option.
const motoCommand = "moto_server"

// serializedServer runs moto's own server (moto.server.main, what moto_server runs) with
// one lock around request handling. moto's DynamoDB backend has no locking and werkzeug
// serves each request on its own thread, so concurrent UpdateItems on one item lose
// updates and pass conditions they should fail (seen with moto 5.2.1: 200 concurrent
// budget reservations granted 1001 cents against a cap of 1000). Real DynamoDB applies
// each item write atomically; serializing requests restores that guarantee.
const serializedServer = `
import sys, threading
from moto import server
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
_lock = threading.Lock()
_call = DomainDispatcherApplication.__call__
def _serialized(self, environ, start_response):
    with _lock:
        return _call(self, environ, start_response)
DomainDispatcherApplication.__call__ = _serialized
server.main(sys.argv[1:])
`

// Option changes how Launch starts the server.
type Option func(*options)

type options struct{ parallel bool }

// Parallel runs plain moto_server, which handles requests concurrently and so does not
// keep DynamoDB's per-item atomicity. Use it only when a request to moto must call back
// into moto while it runs (the serialized server would wait on itself).
func Parallel() Option { return func(o *options) { o.parallel = true } }

// startTimeout bounds how long moto may take to import and answer (about 2 s here).
const startTimeout = 30 * time.Second

// ErrNoMoto says moto_server is not installed; tests skip on it rather than fail.
var ErrNoMoto = errors.New("awstest: moto is not installed (want moto_server and python3 with moto 5: pip install 'moto[server]')")

// Moto is a running moto_server child process.
type Moto struct {
	// Endpoint is the server's base URL, e.g. http://127.0.0.1:40123.
	Endpoint string

	cmd    *exec.Cmd
	output *tailBuffer
	once   sync.Once
	done   chan struct{}
}

// Launch starts a moto server on a free loopback port in its own process group and waits
// until it answers. By default requests are handled one at a time (see serializedServer);
// Parallel changes that. It needs no *testing.T, so a TestMain can share one server across
// a package; call Stop when done. It returns ErrNoMoto when moto is not installed.
func Launch(opts ...Option) (*Moto, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd, err := serverCommand(o, port)
	if err != nil {
		return nil, err
	}
	m := &Moto{
		Endpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		cmd:      cmd,
		output:   &tailBuffer{limit: 8 << 10},
		done:     make(chan struct{}),
	}
	m.cmd.Stdout, m.cmd.Stderr = m.output, m.output
	// Its own group, so Stop also ends the Python process behind a pyenv shim; and a
	// SIGKILL if this process dies first, so no server outlives a crashed test binary.
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := m.cmd.Start(); err != nil {
		return nil, fmt.Errorf("awstest: start %s: %w", m.cmd.Path, err)
	}
	go func() { _ = m.cmd.Wait(); close(m.done) }()
	if err := m.waitReady(); err != nil {
		m.Stop()
		if strings.Contains(m.output.String(), "No module named 'moto'") {
			return nil, ErrNoMoto
		}
		return nil, err
	}
	return m, nil
}

// serverCommand is moto_server itself (Parallel) or Python running the serialized server;
// either way moto must be installed for the python3 on PATH.
func serverCommand(o options, port int) (*exec.Cmd, error) {
	args := []string{"-H", "127.0.0.1", "-p", strconv.Itoa(port)}
	if o.parallel {
		path, err := exec.LookPath(motoCommand)
		if err != nil {
			return nil, ErrNoMoto
		}
		return exec.Command(path, args...), nil
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		return nil, ErrNoMoto
	}
	return exec.Command(python, append([]string{"-c", serializedServer}, args...)...), nil
}

// StartMoto starts a moto server (see Launch) for one test, sets dummy credentials and the region for
// the test's duration, and stops the server when the test ends. It skips the test, with
// the reason, only when moto is not installed.
func StartMoto(t testing.TB, opts ...Option) (endpoint string) {
	t.Helper()
	m, err := Launch(opts...)
	if errors.Is(err, ErrNoMoto) {
		t.Skip(err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	for k, v := range m.Env() {
		t.Setenv(k, v)
	}
	return m.Endpoint
}

// Env is the environment that points the AWS SDK (and the AWS CLI's credentials) at the
// server: AWS_ENDPOINT_URL, dummy keys and the region.
func (m *Moto) Env() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL":      m.Endpoint,
		"AWS_ACCESS_KEY_ID":     AccessKeyID,
		"AWS_SECRET_ACCESS_KEY": SecretAccessKey,
		"AWS_REGION":            Region,
	}
}

// SetEnv sets Env in the process environment, for a TestMain sharing one server (t.Setenv
// is not available there).
func (m *Moto) SetEnv() error {
	for k, v := range m.Env() {
		if err := os.Setenv(k, v); err != nil {
			return fmt.Errorf("awstest: setenv %s: %w", k, err)
		}
	}
	return nil
}

// Stop kills the server's process group and waits for it to exit. It is safe to call twice.
func (m *Moto) Stop() {
	m.once.Do(func() {
		if m.cmd.Process != nil {
			_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
		}
		select {
		case <-m.done:
		case <-time.After(5 * time.Second):
		}
	})
}

// Config returns an SDK config aimed at the server with the dummy credentials, read from
// code rather than the environment, so it works whatever the process environment says.
func (m *Moto) Config(ctx context.Context) (aws.Config, error) {
	return Config(ctx, m.Endpoint)
}

// Config returns an SDK config for endpoint with the dummy credentials and region.
func Config(ctx context.Context, endpoint string) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "")),
		config.WithBaseEndpoint(endpoint),
	)
	if err != nil {
		return aws.Config{}, fmt.Errorf("awstest: load config: %w", err)
	}
	return cfg, nil
}

// UniqueName returns prefix followed by a random lower-case hex suffix: valid as a
// DynamoDB table prefix and as an S3 bucket name (keep prefix short, lower-case, no dots).
func UniqueName(prefix string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// waitReady polls the server until it answers HTTP or the child exits.
func (m *Moto) waitReady() error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-m.done:
			return fmt.Errorf("awstest: moto_server exited before answering; output:\n%s", m.output)
		default:
		}
		resp, err := client.Get(m.Endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("awstest: moto_server at %s did not answer within %v; output:\n%s", m.Endpoint, startTimeout, m.output)
}

// freePort asks the kernel for an unused loopback port. Another process could take it
// before moto binds it; that shows as moto exiting early with "Address already in use".
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("awstest: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer keeps the last limit bytes written, for error messages.
type tailBuffer struct {
	mu    sync.Mutex
	limit int
	buf   bytes.Buffer
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if extra := b.buf.Len() - b.limit; extra > 0 {
		b.buf.Next(extra)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.TrimSpace(b.buf.String())
}
