//go:build unix

package localrun_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/app"
	"github.com/leadflow/attom-batch/internal/attom"
	"github.com/leadflow/attom-batch/internal/attomsim"
	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/config"
	"github.com/leadflow/attom-batch/internal/csvin/csvgen"
	"github.com/leadflow/attom-batch/statemachine"
)

// Workflow benchmarks of the batch pipeline on the embedded default (SQLite + directories +
// the local runner) against the in-process ATTOM simulator. docs/benchmarks.md explains the
// metrics and keeps the measured numbers.

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
// show the largest run of the whole process.
type memPeak struct {
	stop chan struct{}
	done chan struct{}
	heap atomic.Uint64
	held atomic.Uint64
}

func startMemPeak() *memPeak {
	runtime.GC()
	m := &memPeak{stop: make(chan struct{}), done: make(chan struct{})}
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
	raise(&m.heap, ms.HeapInuse)
	raise(&m.held, ms.Sys-ms.HeapReleased)
}

func raise(v *atomic.Uint64, x uint64) {
	for {
		old := v.Load()
		if x <= old || v.CompareAndSwap(old, x) {
			return
		}
	}
}

// finish stops sampling and returns the peaks in MiB.
func (m *memPeak) finish() (heapMB, heldMB float64) {
	close(m.stop)
	<-m.done
	return float64(m.heap.Load()) / (1 << 20), float64(m.held.Load()) / (1 << 20)
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
	sys   *app.Embedded
	attom *timedAttom
	dir   string
}

func openBenchSystem(b *testing.B, sim attomsim.Options, ratePerMinute int) *benchSystem {
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
	// In simulator mode the client's rate is the simulator's (app.NewAttom): 0 is unlimited.
	sys, err := app.OpenEmbedded(cfg, app.EmbeddedOptions{Clock: newBenchClock(), Simulator: sim})
	if err != nil {
		b.Fatal(err)
	}
	timed := &timedAttom{inner: sys.Tasks.Attom}
	sys.Tasks.Attom = timed
	return &benchSystem{sys: sys, attom: timed, dir: dir}
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
// export) on files of 25k, 50k and 100k addresses, against the simulator with its rate
// limit off and an unlimited client. Metrics, per input row:
//
//	ns/address          wall time of upload + pipeline
//	cpu-ns/address      the process's CPU time (pipeline, simulator and client together)
//	attom-sum-ns/address   the ATTOM calls' durations summed over the concurrent workers
//	attom-busy-ns/address  wall time with at least one ATTOM call in flight
//	outside-attom-ns/address  ns/address minus attom-busy: the pipeline's own time
//	<stage>-ns/address  wall time of one state (Submit runs the whole lookup workflow)
//	peak-heap-MB, peak-held-MB  memory maxima sampled every 10 ms
//	retained-MB         live heap the finished system still holds until closed: the
//	                    simulator's ledger of billed reports and the id map above, which grow
//	                    with the file (the pipeline itself keeps nothing per address)
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
		cpu             time.Duration
		stages          = map[string]time.Duration{}
		heapMB, heldMB  float64
		calls           int64
		retainedMB      float64
	)
	b.ResetTimer()
	b.StopTimer()
	for i := range b.N {
		s := openBenchSystem(b, attomsim.Options{Seed: 7}, 0)
		mem := startMemPeak()
		start, cpuStart := time.Now(), cpuTime()
		b.StartTimer()
		exec, job := s.runAll(b, path, fmt.Sprintf("bench-%d", i))
		b.StopTimer()
		wall += time.Since(start)
		cpu += cpuTime() - cpuStart
		h, r := mem.finish()
		heapMB, heldMB = max(heapMB, h), max(heldMB, r)
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
	b.ReportMetric(per(sum), "attom-sum-ns/address")
	b.ReportMetric(per(busy), "attom-busy-ns/address")
	b.ReportMetric(per(wall-busy), "outside-attom-ns/address")
	for _, st := range []string{"Prepare", "Submit", "Download", "Process", "Leads"} {
		b.ReportMetric(per(stages[st]), st+"-ns/address")
	}
	b.ReportMetric(float64(calls)/float64(b.N), "calls")
	b.ReportMetric(heapMB, "peak-heap-MB")
	b.ReportMetric(heldMB, "peak-held-MB")
	b.ReportMetric(retainedMB, "retained-MB")
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
		s := openBenchSystem(b, attomsim.Options{Seed: 3, RatePerMinute: perMinute}, perMinute)
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
