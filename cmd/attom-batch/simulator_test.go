package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/attom"
	"github.com/leadflow/attom-batch/internal/attomsim"
)

// childCLIEnv, set in the environment of this test binary, makes TestChildCLI run
// attom-batch's main with the arguments after "--". A test thus runs the CLI as a process of
// its own (to stop it with a signal, kill it, or keep a simulator across CLI runs) without a
// go build: see startCLI.
const childCLIEnv = "ATTOM_BATCH_TEST_CHILD_CLI"

// TestChildCLI is the CLI in a child process; it never runs as a test of its own.
func TestChildCLI(t *testing.T) {
	if os.Getenv(childCLIEnv) != "1" {
		t.Skip("runs only in a child process started by startCLI")
	}
	for i, a := range os.Args {
		if a == "--" {
			os.Args = append([]string{"attom-batch"}, os.Args[i+1:]...)
			profileHeapPeaks() // only when a benchmark asks for it
			main()             // exits
		}
	}
	t.Fatal(`child CLI started without "--" before its arguments`)
}

// cliProcess is attom-batch running in a child process.
type cliProcess struct {
	cmd    *exec.Cmd
	stdout *bufio.Reader
	mu     sync.Mutex
	stderr bytes.Buffer
	done   chan struct{}
}

// Write collects the child's stderr, for failure messages.
func (p *cliProcess) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.Write(b)
}

func (p *cliProcess) errText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// startCLI runs `attom-batch args...` as a child process; the test's cleanup kills it if it
// is still running.
func startCLI(t testing.TB, args ...string) *cliProcess {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := &cliProcess{done: make(chan struct{})}
	p.cmd = exec.Command(exe, append([]string{"-test.run=^TestChildCLI$", "--"}, args...)...)
	p.cmd.Env = append(os.Environ(), childCLIEnv+"=1")
	p.cmd.Stderr = p
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.stdout = bufio.NewReader(out)
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	go func() { p.cmd.Wait(); close(p.done) }()
	return p
}

// line reads the next line of the child's stdout, failing the test after timeout.
func (p *cliProcess) line(t testing.TB, timeout time.Duration) string {
	t.Helper()
	got := make(chan string, 1)
	go func() {
		s, _ := p.stdout.ReadString('\n')
		got <- s
	}()
	select {
	case s := <-got:
		return strings.TrimSpace(s)
	case <-time.After(timeout):
		t.Fatalf("no line from the child in %s; stderr:\n%s", timeout, p.errText())
		return ""
	}
}

// stop sends sig and returns the exit code, failing the test if the child outlives timeout.
func (p *cliProcess) stop(t *testing.T, sig os.Signal, timeout time.Duration) int {
	t.Helper()
	p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(timeout):
		t.Fatalf("child still running %s after %v; stderr:\n%s", timeout, sig, p.errText())
		return -1
	}
}

// simGet makes one ATTOM call with the key and returns the status.
func simGet(t *testing.T, base, endpoint, apiKey string, q url.Values) int {
	t.Helper()
	path, _ := attom.EndpointPath(endpoint)
	req, _ := http.NewRequest(http.MethodGet, base+path+"?"+q.Encode(), nil)
	req.Header.Set("apikey", apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestSimulatorProcessServesItsLedger(t *testing.T) {
	const simKey = "sim-process-test-key"
	p := startCLI(t, "simulator", "--addr", "127.0.0.1:0", "--seed", "7", "--not-found-rate", "-1",
		"--endpoint-failure", "avm=1", "--api-key", simKey)
	base := p.line(t, 20*time.Second)
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("first line %q is not the base URL; stderr:\n%s", base, p.errText())
	}
	remote := attomsim.Remote{BaseURL: base}
	ctx := context.Background()
	if f, err := remote.Fault(ctx); err != nil || f.EndpointFailures[attom.EndpointAVM] != 1 {
		t.Fatalf("fault from the flags = %+v, %v", f, err)
	}
	q := url.Values{"address1": {"1640 Riverside Drive"}, "address2": {"Hill Valley, CA 95420"}}
	if code := simGet(t, base, attom.EndpointExpandedProfile, simKey, q); code != 200 {
		t.Fatalf("expandedprofile: %d", code)
	}
	if code := simGet(t, base, attom.EndpointAVM, simKey, q); code < 500 {
		t.Fatalf("avm with --endpoint-failure avm=1: %d", code)
	}
	if err := remote.SetFault(ctx, attomsim.Fault{HTMLRate: 1}); err != nil {
		t.Fatal(err)
	}
	if code := simGet(t, base, attom.EndpointAVM, simKey, q); code != 200 {
		t.Fatalf("HTML page: %d", code)
	}
	checkProcessLedger(t, remote, q)
	if code := p.stop(t, syscall.SIGTERM, 10*time.Second); code != 0 {
		t.Errorf("exit %d after SIGTERM; stderr:\n%s", code, p.errText())
	}
	if strings.Contains(p.errText(), simKey) {
		t.Error("the simulator printed its API key")
	}
}

// checkProcessLedger checks the child's ledger after one billed profile, one failed AVM call
// and one free HTML page.
func checkProcessLedger(t *testing.T, remote attomsim.Remote, q url.Values) {
	t.Helper()
	st, err := remote.Ledger(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	k := attomsim.AddressKey(q.Get("address1"), q.Get("address2"))
	if st.Billed != 1 || st.ByAddress[k][attom.EndpointExpandedProfile] != 1 || st.BilledFor(k) != 1 {
		t.Errorf("ledger = %+v", st)
	}
	if len(st.Charges) != 1 || st.Charges[0].Line1 != q.Get("address1") || st.Charges[0].Line2 != q.Get("address2") {
		t.Errorf("charges = %+v", st.Charges)
	}
	tr, err := remote.Status(context.Background())
	if err != nil || tr.Calls != 3 || tr.HTML != 1 || tr.ByStatus[200] != 2 {
		t.Errorf("status = %+v, %v", tr, err)
	}
}

func TestSimulatorRefusesBadFaultFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--endpoint-failure", "avm"},
		{"--endpoint-failure", "avn=1"},
		{"--endpoint-failure", "avm=x"},
		{"--html-rate", "2"},
		{"--burst-429", "-1"},
	} {
		_, errOut, code := runCLI(t, "", append([]string{"simulator", "--addr", "127.0.0.1:0"}, args...)...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errOut)
		}
	}
}

func TestParseEndpointFailures(t *testing.T) {
	got, err := parseEndpointFailures([]string{"avm=1", "homeequity, preforeclosure=0.5"})
	want := map[string]float64{"avm": 1, "homeequity": 0.5, "preforeclosure": 0.5}
	if err != nil || len(got) != len(want) {
		t.Fatalf("got %v, %v", got, err)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if _, err := parseEndpointFailures([]string{"avm=1=2"}); err == nil {
		t.Error("avm=1=2 accepted")
	}
}
