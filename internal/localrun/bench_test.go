//go:build unix

package localrun_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/attom"
	"github.com/leadflow/attom-batch/internal/attomsim"
	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/config"
	"github.com/leadflow/attom-batch/internal/csvin/csvgen"
	"github.com/leadflow/attom-batch/internal/embeddedapp"
	"github.com/leadflow/attom-batch/statemachine"
)

// Workflow benchmarks of the batch pipeline on the embedded default (SQLite + directories +
// the local runner) against the ATTOM simulator: in a child process for the run-all benchmark
// (so the measured heap is the pipeline's alone), in process for the rate-limit benchmark
// (which reads the simulator's status counts). docs/benchmarks.md explains the metrics and
// keeps the measured numbers.

// simulatorChildEnv, set in the environment of this test binary, makes TestMain serve the
// ATTOM simulator (with the seed it holds) instead of running tests. The run-all benchmark
// starts its simulator that way: the simulator keeps a ledger of every billed call, which
// grows with the file, and in the benchmark's own process it would hide whether the
// pipeline's memory stays flat.
const simulatorChildEnv = "ATTOM_BATCH_BENCH_SIMULATOR_SEED"

// TestMain runs the tests, or the simulator child (see simulatorChildEnv).
func TestMain(m *testing.M) {
	if seed, ok := os.LookupEnv(simulatorChildEnv); ok {
		os.Exit(serveSimulatorChild(seed))
	}
	os.Exit(m.Run())
}

// serveSimulatorChild serves a simulator on a free loopback port, prints its base URL on
// stdout, and exits when stdin closes (the parent closed it, or died).
func serveSimulatorChild(seed string) int {
	n, err := strconv.ParseInt(seed, 10, 64)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s=%q: %v\n", simulatorChildEnv, seed, err)
		return 2
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "simulator child:", err)
		return 1
	}
	sim := attomsim.New(attomsim.Options{Seed: n})
	go http.Serve(ln, sim)
	fmt.Printf("http://%s\n", ln.Addr())
	io.Copy(io.Discard, os.Stdin)
	sim.Close()
	return 0
}

// simulatorChild is a simulator in a child process (this test binary, see TestMain).
type simulatorChild struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	baseURL string
}

func startSimulatorChild(b *testing.B, seed int64) *simulatorChild {
	b.Helper()
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", simulatorChildEnv, seed))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	c := &simulatorChild{cmd: cmd, stdin: stdin}
	b.Cleanup(func() { c.stop() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "http://") {
		b.Fatalf("simulator child: %q, %v", line, err)
	}
	c.baseURL = strings.TrimSpace(line)
	return c
}

// stop ends the child and returns its CPU time and peak resident memory in MiB; a second
// call returns zeros.
func (c *simulatorChild) stop() (cpu time.Duration, maxRSSMB float64) {
	if c.cmd.ProcessState != nil {
		return 0, 0
	}
	c.stdin.Close()
	if err := c.cmd.Wait(); err != nil || c.cmd.ProcessState == nil {
		return 0, 0
	}
	st := c.cmd.ProcessState
	if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
		maxRSSMB = float64(ru.Maxrss) / 1024 // kilobytes on Linux
	}
	return st.UserTime() + st.SystemTime(), maxRSSMB
}

// benchClock reads the wall clock, so the execution history's Entered/Exited times measure
// each state for real, but sleeps like the FakeClock: Wait states and retry backoff return at
// once, so the benchmark measures the pipeline's work and never the poll interval.
type benchClock struct{ *statemachine.FakeClock }

// Now is the wall clock.
func (benchClock) Now() time.Time { return time.Now() }

func newBenchClock() benchClock { return benchClock{statemachine.NewFakeClock(time.Now())} }

// timedAttom wraps the tasks' ATTOM client and measures the calls. Calls run on several
// workers at once, so it keeps two numbers: the sum of every call's duration, and the wall
// time during which at least one call was in flight (the union of the call intervals). The
// union is what can be subtracted from the wall time; the sum can exceed it.
type timedAttom struct {
	inner batch.AttomLookup
	calls atomic.Int64
	sum   atomic.Int64 // nanoseconds, summed over concurrent calls

	mu        sync.Mutex
	inFlight  int
	busySince time.Time
	busy      time.Duration
}

func (t *timedAttom) Lookup(ctx context.Context, endpoint string, q attom.Query) (attom.Result, error) {
	start := t.enter()
	res, err := t.inner.Lookup(ctx, endpoint, q)
	t.leave(start)
	return res, err
}

func (t *timedAttom) enter() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	if t.inFlight == 0 {
		t.busySince = now
	}
	t.inFlight++
	return now
}

func (t *timedAttom) leave(start time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	t.calls.Add(1)
	t.sum.Add(int64(now.Sub(start)))
	t.inFlight--
	if t.inFlight == 0 {
		t.busy += now.Sub(t.busySince)
	}
}

// busyTime is the wall time with at least one call in flight.
func (t *timedAttom) busyTime() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.busy
}

// memPeak samples the Go runtime's memory every 10 ms and keeps the maxima: HeapInuse
// (live and not yet collected heap spans) and Sys minus HeapReleased (what the runtime holds
// from the OS, close to its share of the RSS). Sys alone never shrinks, so it would only
// show the largest run of the whole process. It also keeps when the heap peaked, to name
// the state that was running, and can write a heap profile at each new peak (profilePath).
type memPeak struct {
	stop   chan struct{}
	done   chan struct{}
	heap   atomic.Uint64
	held   atomic.Uint64
	rss    atomic.Uint64 // resident set from /proc/self/statm: also SQLite's C memory
	heapAt atomic.Int64  // unix nanoseconds of the heap peak

	profilePath string // written (overwritten) when the heap peaks 5% above the last profile
	profiled    uint64 // only the sampling goroutine touches it
}

// peakProfileEnv names a file to which the run-all benchmark writes a heap profile of this
// process at its heap peak (the size in rows is appended), for
// `go tool pprof -sample_index=inuse_space -top`.
const peakProfileEnv = "ATTOM_BATCH_BENCH_PEAK_PROFILE"

func startMemPeak(profilePath string) *memPeak {
	runtime.GC()
	m := &memPeak{stop: make(chan struct{}), done: make(chan struct{}), profilePath: profilePath}
	m.sample()
	go func() {
		defer close(m.done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-m.stop:
				m.sample()
				return
			case <-tick.C:
				m.sample()
			}
		}
	}()
	return m
}

func (m *memPeak) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if raise(&m.heap, ms.HeapInuse) {
		m.heapAt.Store(time.Now().UnixNano())
		if m.profilePath != "" && ms.HeapInuse > m.profiled+m.profiled/20 {
			m.profiled = ms.HeapInuse
			writeHeapProfile(m.profilePath)
		}
	}
	raise(&m.held, ms.Sys-ms.HeapReleased)
	raise(&m.rss, residentBytes())
}

// residentBytes is this process's resident set size, or 0 where /proc is missing. The Go
// runtime's numbers leave out memory allocated outside the Go heap, such as SQLite's page
// cache and C heap (modernc.org/sqlite has its own allocator).
func residentBytes() uint64 {
	raw, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(raw))
	if len(fields) < 2 {
		return 0
	}
	pages, err := strconv.ParseUint(fields[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * uint64(os.Getpagesize())
}

// raise sets v to x if x is larger and says whether it did.
func raise(v *atomic.Uint64, x uint64) bool {
	for {
		old := v.Load()
		if x <= old {
			return false
		}
		if v.CompareAndSwap(old, x) {
			return true
		}
	}
}

func writeHeapProfile(path string) {
	f, err := os.Create(path)
	if err != nil {
		return
	}
	defer f.Close()
	_ = pprof.WriteHeapProfile(f)
}

// finish stops sampling and returns the peaks in MiB.
func (m *memPeak) finish() (heapMB, heldMB, rssMB float64) {
	close(m.stop)
	<-m.done
	const mib = 1 << 20
	return float64(m.heap.Load()) / mib, float64(m.held.Load()) / mib, float64(m.rss.Load()) / mib
}

// statesAt names the states that were running at t, outermost first.
func statesAt(exec *statemachine.Execution, t time.Time) []string {
	var names []string
	for _, ev := range exec.History {
		if !t.Before(ev.Entered) && !t.After(ev.Exited) {
			names = append(names, ev.State)
		}
	}
	return names
}

// cpuTime is the process's user + system CPU time so far. On a shared machine the wall
// time also counts waiting for a core; CPU time does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchSystem is one embedded system in a fresh directory.
type benchSystem struct {
	sys   *embeddedapp.Embedded
	attom *timedAttom
	dir   string
}

// openBenchSystem opens a system against an in-process simulator with sim, or, when simURL
// is set, against the simulator at simURL (a child process) with an unlimited client, as the
// in-process simulator mode has.
func openBenchSystem(b *testing.B, sim attomsim.Options, ratePerMinute int, simURL string) *benchSystem {
	b.Helper()
	dir, err := os.MkdirTemp(b.TempDir(), "run")
	if err != nil {
		b.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.UploadDir = filepath.Join(dir, "uploads")
	cfg.ResultsDir = filepath.Join(dir, "results")
	cfg.DBPath = filepath.Join(dir, "db", "attom-batch.db")
	cfg.DailyCapCents = 100_000_000 // $1M: the cap never pauses a benchmark
	if ratePerMinute > 0 {
		cfg.RatePerMinute = ratePerMinute // the completion estimate's rate
	}
	if simURL != "" {
		cfg.ATTOMBaseURL, cfg.ATTOMAPIKey = simURL, config.Secret("bench-simulator")
	}
	// In simulator mode the client's rate is the simulator's (app.NewAttom): 0 is unlimited.
	sys, err := embeddedapp.OpenEmbedded(cfg, embeddedapp.EmbeddedOptions{Clock: newBenchClock(), Simulator: sim})
	if err != nil {
		b.Fatal(err)
	}
	inner := sys.Tasks.Attom
	if simURL != "" {
		inner = unlimitedClient(b, cfg)
	}
	timed := &timedAttom{inner: inner}
	sys.Tasks.Attom = timed
	return &benchSystem{sys: sys, attom: timed, dir: dir}
}

// unlimitedClient is the client app.NewAttom builds in simulator mode (no rate limit, the
// configured timeout), pointed at cfg's base URL: with a key configured, app.NewAttom would
// pace it at cfg.RatePerMinute like the real API.
func unlimitedClient(b *testing.B, cfg config.Config) *attom.Client {
	b.Helper()
	c, err := attom.New(attom.Config{
		BaseURL: cfg.ATTOMBaseURL, APIKey: cfg.ATTOMAPIKey.Reveal(), Timeout: cfg.HTTPTimeout(),
		HTTPClient: &http.Client{Transport: http.DefaultTransport},
	})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// writeCSV generates rows addresses into a file (1% bad rows, 2% duplicates in another
// spelling, like a real lead list).
func writeCSV(b *testing.B, dir string, rows int, seed uint64) string {
	b.Helper()
	path := filepath.Join(dir, fmt.Sprintf("addresses-%d.csv", rows))
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	cfg := csvgen.Config{Rows: rows, Seed: seed, BadShare: 0.01, DuplicateShare: 0.02}
	if _, err := csvgen.Write(f, cfg); err != nil {
		b.Fatal(err)
	}
	return path
}

// runAll is the CLI's run-all: upload, then the pipeline with leads. It returns the
// execution and the job.
func (s *benchSystem) runAll(b *testing.B, path, name string) (*statemachine.Execution, batch.Job) {
	b.Helper()
	ctx := context.Background()
	leads := true
	ev, err := s.sys.Upload(ctx, path, batch.SubmitOptions{Name: name, Leads: &leads})
	if err != nil {
		b.Fatal(err)
	}
	exec, err := s.sys.Runner.RunPipeline(ctx, name, ev)
	if err != nil {
		b.Fatal(err)
	}
	jobs, err := s.sys.Tasks.Jobs.ListJobs(ctx, 1)
	if err != nil || len(jobs) != 1 {
		b.Fatalf("jobs: %v (%d)", err, len(jobs))
	}
	if exec.Status != statemachine.StatusSucceeded {
		b.Fatalf("pipeline %s: %s; path %v; job error: %s", exec.Status, exec.Error, exec.Path(), jobs[0].Error)
	}
	return exec, jobs[0]
}

// stageTimes sums each top-level state's wall time from the execution history.
func stageTimes(exec *statemachine.Execution) map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, ev := range exec.History {
		out[ev.State] += ev.Exited.Sub(ev.Entered)
	}
	return out
}

func checkJob(b *testing.B, j batch.Job, rows int) {
	b.Helper()
	sum := j.RejectedRecords + j.DuplicateRecords + j.RecordsFound + j.NotFoundRecords + j.ErrorRecords
	if j.Status != batch.StatusCompleted || j.RecordCount != rows || sum != rows || j.LeadsCreated == 0 {
		b.Fatalf("job %s: %d rows, counts add to %d, %d leads", j.Status, j.RecordCount, sum, j.LeadsCreated)
	}
}

// BenchmarkRunAll100k runs run-all (upload, prepare, lookups, download, process, leads,
// export) on files of 25k, 50k and 100k addresses, against the simulator in a child process
// (a fresh one per run, rate limit off) with an unlimited client. The child holds the
// simulator's ledger of billed calls, which grows with the file, so this process's memory is
// the pipeline's (and the client's) alone. Metrics, per input row:
//
//	ns/address          wall time of upload + pipeline
//	cpu-ns/address      this process's CPU time: pipeline and client (not the simulator)
//	sim-cpu-ns/address  the simulator child's CPU time
//	attom-sum-ns/address   the ATTOM calls' durations summed over the concurrent workers
//	attom-busy-ns/address  wall time with at least one ATTOM call in flight
//	outside-attom-ns/address  ns/address minus attom-busy: the pipeline's own time
//	<stage>-ns/address  wall time of one state (Submit runs the whole lookup workflow)
//	peak-heap-MB, peak-held-MB  this process's Go memory maxima, sampled every 10 ms
//	peak-rss-MB         this process's resident set maximum (Linux), which also holds
//	                    SQLite's C memory; it never shrinks much, so it is only the
//	                    peak of the first, or largest, run in the process
//	retained-MB         live heap the finished system still holds until closed
//	sim-maxrss-MB       the simulator child's peak resident memory (its ledger grows)
//
// `make bench` runs the 100k file only; ATTOM_BATCH_BENCH_FULL=1 adds 25k and 50k, which
// show whether memory stays flat as the file grows.
func BenchmarkRunAll100k(b *testing.B) {
	for _, rows := range []int{25_000, 50_000, 100_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			if rows < 100_000 && !fullBench() {
				b.Skip("set " + fullBenchEnv + "=1 to run the smaller files too")
			}
			benchRunAll(b, rows)
		})
	}
}

// fullBenchEnv turns on the long variants of the workflow benchmarks. Without it `make bench`
// spends about two minutes here on an idle 2-core machine.
const fullBenchEnv = "ATTOM_BATCH_BENCH_FULL"

func fullBench() bool { return os.Getenv(fullBenchEnv) != "" }

func benchRunAll(b *testing.B, rows int) {
	path := writeCSV(b, b.TempDir(), rows, 42)
	var (
		wall, busy, sum time.Duration
		cpu, simCPU     time.Duration
		stages          = map[string]time.Duration{}
		heapMB, heldMB  float64
		rssMB           float64
		calls           int64
		retainedMB      float64
		simRSSMB        float64
	)
	b.ResetTimer()
	b.StopTimer()
	for i := range b.N {
		child := startSimulatorChild(b, 7)
		s := openBenchSystem(b, attomsim.Options{}, 0, child.baseURL)
		mem := startMemPeak(peakProfilePath(rows))
		start, cpuStart := time.Now(), cpuTime()
		b.StartTimer()
		exec, job := s.runAll(b, path, fmt.Sprintf("bench-%d", i))
		b.StopTimer()
		wall += time.Since(start)
		cpu += cpuTime() - cpuStart
		h, r, rss := mem.finish()
		heapMB, heldMB, rssMB = max(heapMB, h), max(heldMB, r), max(rssMB, rss)
		b.Logf("heap peaked at %.1f MiB during %v", h, statesAt(exec, time.Unix(0, mem.heapAt.Load())))
		childCPU, childRSS := child.stop()
		simCPU += childCPU
		simRSSMB = max(simRSSMB, childRSS)
		checkJob(b, job, rows)
		busy += s.attom.busyTime()
		sum += time.Duration(s.attom.sum.Load())
		calls += s.attom.calls.Load()
		for st, d := range stageTimes(exec) {
			stages[st] += d
		}
		withSystem := liveHeap()
		s.sys.Close()
		retainedMB = max(retainedMB, float64(int64(withSystem)-int64(liveHeap()))/(1<<20))
	}
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N*rows) }
	b.ReportMetric(per(wall), "ns/address")
	b.ReportMetric(per(cpu), "cpu-ns/address")
	b.ReportMetric(per(simCPU), "sim-cpu-ns/address")
	b.ReportMetric(per(sum), "attom-sum-ns/address")
	b.ReportMetric(per(busy), "attom-busy-ns/address")
	b.ReportMetric(per(wall-busy), "outside-attom-ns/address")
	for _, st := range []string{"Prepare", "Submit", "Download", "Process", "Leads"} {
		b.ReportMetric(per(stages[st]), st+"-ns/address")
	}
	b.ReportMetric(float64(calls)/float64(b.N), "calls")
	b.ReportMetric(heapMB, "peak-heap-MB")
	b.ReportMetric(heldMB, "peak-held-MB")
	b.ReportMetric(rssMB, "peak-rss-MB")
	b.ReportMetric(retainedMB, "retained-MB")
	b.ReportMetric(simRSSMB, "sim-maxrss-MB")
}

// peakProfilePath is where the heap profile at the peak goes for rows, or "" (see
// peakProfileEnv).
func peakProfilePath(rows int) string {
	if p := os.Getenv(peakProfileEnv); p != "" {
		return fmt.Sprintf("%s.%d", p, rows)
	}
	return ""
}

// liveHeap is the heap still reachable after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkLookupAtRateLimit runs the lookup stage against a simulator enforcing 6,000
// calls a minute (its token bucket has a burst of 500) with the client paced at the same
// rate, and measures the achieved rate (target: at least 95% of the allowed) and the 429s
// (target: none). The full run (ATTOM_BATCH_BENCH_FULL=1) is 3,000 addresses, about 30 s of
// calls; the default is 1,000 (about 10 s).
func BenchmarkLookupAtRateLimit(b *testing.B) {
	const perMinute = 6000
	rows := 1000
	if fullBench() {
		rows = 3000
	}
	path := writeCSV(b, b.TempDir(), rows, 11)
	var lookup time.Duration
	var calls, tooMany int64
	b.ResetTimer()
	b.StopTimer()
	for i := range b.N {
		s := openBenchSystem(b, attomsim.Options{Seed: 3, RatePerMinute: perMinute}, perMinute, "")
		b.StartTimer()
		exec, job := s.runAll(b, path, fmt.Sprintf("rate-%d", i))
		b.StopTimer()
		checkJob(b, job, rows)
		lookup += stageTimes(exec)["Submit"]
		status := s.sys.Attom.Simulator.StatusCounts()
		tooMany += int64(status[429])
		for _, n := range status {
			calls += int64(n)
		}
		s.sys.Close()
	}
	perMin := float64(calls) / lookup.Minutes()
	b.ReportMetric(float64(calls)/float64(b.N), "calls")
	b.ReportMetric(perMin, "calls/min")
	b.ReportMetric(100*perMin/perMinute, "%-of-allowed")
	b.ReportMetric(float64(tooMany)/float64(b.N), "429s")
	b.ReportMetric(lookup.Seconds()/float64(b.N), "lookup-s")
}
