//go:build unix

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/csvin/csvgen"
)

// rss1MEnv adds the 1M-row file to BenchmarkRunAllRSS (15-20 minutes on 2 cores).
const rss1MEnv = "ATTOM_BATCH_BENCH_1M"

// rssRowsEnv runs BenchmarkRunAllRSS on one file of that many rows instead, to look into
// one size (with heapProfileEnv, say).
const rssRowsEnv = "ATTOM_BATCH_BENCH_RSS_ROWS"

// heapProfileEnv names a file to which the run-all child writes a heap profile each time
// its heap in use grows 5% past the last profile, so the last one written is the peak's:
// `go tool pprof -sample_index=inuse_space -top FILE`.
const heapProfileEnv = "ATTOM_BATCH_BENCH_HEAP_PROFILE"

// profileHeapPeaks runs in the run-all child when heapProfileEnv is set (TestChildCLI).
func profileHeapPeaks() {
	path := os.Getenv(heapProfileEnv)
	if path == "" || !slices.Contains(os.Args, "run-all") {
		return
	}
	go func() {
		var last uint64
		for range time.Tick(20 * time.Millisecond) {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse <= last+last/20 {
				continue
			}
			last = ms.HeapInuse
			if f, err := os.Create(path); err == nil {
				pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
	}()
}

// BenchmarkRunAllRSS runs the whole `attom-batch run-all --leads` process (this test binary
// re-executed as the CLI, see TestChildCLI) on generated files of 10k and 100k rows (and 1M
// with ATTOM_BATCH_BENCH_1M=1 or ATTOM_BATCH_BENCH_FULL=1), against `attom-batch simulator`
// in a process of its own, with the client's rate far above what the CPU allows. It reports
// the run-all process's peak resident set (rusage Maxrss, so SQLite's C memory, the runtime
// and the binary are all in it) and, for the larger files, its ratio to the 10k run: issue
// 12 asks for at most 100 MB at 1M rows and at most 1.5 from 10k to 100k. Metrics:
//
//	peak-rss-MB          the run-all process's peak resident set
//	rss-ratio-to-10k     peak-rss-MB over the 10k run's (when 10k ran first)
//	ns/address           wall time of the run-all process per input row
//	cpu-ns/address       its user + system CPU time per input row (not the simulator's)
func BenchmarkRunAllRSS(b *testing.B) {
	sizes := []int{10_000, 100_000}
	if os.Getenv(rss1MEnv) != "" || os.Getenv("ATTOM_BATCH_BENCH_FULL") != "" {
		sizes = append(sizes, 1_000_000)
	}
	if n, err := strconv.Atoi(os.Getenv(rssRowsEnv)); err == nil {
		sizes = []int{n}
	}
	var base float64 // the 10k run's peak, MB
	for _, rows := range sizes {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			csv := writeBenchCSV(b, rows)
			var peak float64
			var wall, cpu time.Duration
			for range b.N {
				w, c, rss := runAllProcess(b, csv)
				wall, cpu, peak = wall+w, cpu+c, max(peak, rss)
			}
			per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N*rows) }
			b.ReportMetric(peak, "peak-rss-MB")
			b.ReportMetric(per(wall), "ns/address")
			b.ReportMetric(per(cpu), "cpu-ns/address")
			if rows == 10_000 {
				base = peak
			} else if base > 0 {
				b.ReportMetric(peak/base, "rss-ratio-to-10k")
			}
		})
	}
}

// writeBenchCSV generates rows addresses (1% bad rows, 2% duplicates in another spelling,
// as the localrun benchmarks do) into a temp file.
func writeBenchCSV(b *testing.B, rows int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), fmt.Sprintf("addresses-%d.csv", rows))
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := csvgen.Write(f, csvgen.Config{Rows: rows, Seed: 42, BadShare: 0.01, DuplicateShare: 0.02}); err != nil {
		b.Fatal(err)
	}
	return path
}

// runAllProcess runs run-all on csv in a fresh directory against a fresh simulator process
// and returns the run-all process's wall time, CPU time and peak RSS in MiB.
func runAllProcess(b *testing.B, csv string) (wall, cpu time.Duration, rssMB float64) {
	b.Helper()
	dir := b.TempDir()
	sim := startCLI(b, "simulator", "--addr", "127.0.0.1:0", "--seed", "7")
	simURL := sim.line(b, 30*time.Second)
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestChildCLI$", "--", "run-all", "--leads", csv)
	cmd.Env = append(os.Environ(), childCLIEnv+"=1",
		"ATTOM_API_KEY=bench-simulator", "ATTOM_API_KEY_PARAMETER=", "ATTOM_BASE_URL="+simURL,
		"ATTOM_BATCH_CONFIG=", "ATTOM_BATCH_BACKEND=",
		"BATCH_UPLOAD_DIR="+filepath.Join(dir, "uploads"),
		"BATCH_RESULTS_DIR="+filepath.Join(dir, "results"),
		"ATTOM_BATCH_DB="+filepath.Join(dir, "attom-batch.db"),
		"ATTOM_RATE_PER_MINUTE=100000000", // bounded by the CPU, not the limiter
		"DAILY_CAP_ATTOM_CENTS=100000000", // $1M: the cap never pauses
		"ATTOM_BATCH_POLL_MIN_SECONDS=0", "ATTOM_BATCH_POLL_MAX_SECONDS=1")
	out, err := os.Create(filepath.Join(dir, "run-all.out"))
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		text, _ := os.ReadFile(out.Name())
		b.Fatalf("run-all: %v\n%s", err, tail(string(text), 4000))
	}
	wall = time.Since(start)
	st := cmd.ProcessState
	if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
		rssMB = float64(ru.Maxrss) / 1024 // kilobytes on Linux
	}
	return wall, st.UserTime() + st.SystemTime(), rssMB
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
