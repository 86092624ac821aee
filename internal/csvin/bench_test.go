package csvin

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/csvin/csvgen"
)

var benchFile = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	if _, err := csvgen.Write(&b, csvgen.Config{Rows: 100_000, Seed: 1, BadShare: 0.02, DuplicateShare: 0.05}); err != nil {
		panic(err)
	}
	return b.Bytes()
})

// BenchmarkIngestCSV is the full per-file cost: parse, normalize, key, dedupe. Compare its
// cpu-ns/row with BenchmarkReadCSVBaseline (the target is at most 3x).
func BenchmarkIngestCSV(b *testing.B) {
	benchPerRow(b, func(data []byte) error {
		r, err := NewReader(bytes.NewReader(data), "bench.csv", Options{})
		if err != nil {
			return err
		}
		defer r.Close()
		var row Row
		for {
			if err := r.NextInto(&row); err != nil {
				return endOfFile(err)
			}
		}
	})
}

// BenchmarkReadCSVBaseline only reads the same bytes with encoding/csv.
func BenchmarkReadCSVBaseline(b *testing.B) {
	benchPerRow(b, func(data []byte) error {
		r := csv.NewReader(bytes.NewReader(data))
		r.FieldsPerRecord = -1
		r.ReuseRecord = true
		for {
			if _, err := r.Read(); err != nil {
				return endOfFile(err)
			}
		}
	})
}

// BenchmarkScanCSV reads the same bytes with the package's own CSV scanner alone (no
// normalizing), for comparison with BenchmarkReadCSVBaseline.
func BenchmarkScanCSV(b *testing.B) {
	benchPerRow(b, func(data []byte) error {
		s := newScanner(bufio.NewReaderSize(bytes.NewReader(data), bufferSize))
		for {
			if _, err := s.read(); err != nil {
				return endOfFile(err)
			}
		}
	})
}

// benchPerRow reads the 100,000-row bench file with readAll b.N times and reports the cost
// per row in wall and CPU time.
func benchPerRow(b *testing.B, readAll func(data []byte) error) {
	data := benchFile()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		if err := readAll(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100_000), "ns/row")
	b.ReportMetric(float64(cpu.elapsed())/float64(b.N*100_000), "cpu-ns/row")
}

// endOfFile is nil for io.EOF, the end of a read that went well, and err otherwise. (The
// loops that read rows stay in each benchmark: a call through a function value per row would
// add to the baseline's cost and the ingest's alike, and blur their ratio.)
func endOfFile(err error) error {
	if err == io.EOF {
		return nil
	}
	return err
}

// BenchmarkIngest1MPeakMemory streams generated files of 250k, 1M and 4M rows (never held
// in memory) through the reader and reports the peak heap in use and the peak resident memory
// of the process, anonymous (heap, stacks) and file-backed (the duplicate set's temporary
// file once it passes its budget), sampled every 5 ms, and the live heap at the end. A flat
// peak heap and anonymous memory across sizes mean memory is bounded. Run with -benchtime=1x.
func BenchmarkIngest1MPeakMemory(b *testing.B) {
	for _, rows := range []int{250_000, 1_000_000, 4_000_000} {
		b.Run(fmtRows(rows), func(b *testing.B) {
			for b.Loop() {
				m := ingestMeasured(b, rows)
				b.ReportMetric(float64(m.peakHeap)/(1<<20), "peak-heap-MB")
				b.ReportMetric(float64(m.liveHeap)/(1<<20), "live-heap-MB")
				b.ReportMetric(float64(m.peakAnon)/(1<<20), "peak-rss-anon-MB")
				b.ReportMetric(float64(m.peakFile)/(1<<20), "peak-rss-file-MB")
			}
		})
	}
}

// ingestMemory is what ingestMeasured saw, in bytes.
type ingestMemory struct{ peakHeap, liveHeap, peakAnon, peakFile uint64 }

func ingestMeasured(b *testing.B, rows int) ingestMemory {
	runtime.GC()
	var m ingestMemory
	var mu sync.Mutex
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			anon, file := residentMemory()
			mu.Lock()
			m.peakHeap, m.peakAnon, m.peakFile = max(m.peakHeap, ms.HeapInuse), max(m.peakAnon, anon), max(m.peakFile, file)
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	gen := csvgen.NewReader(csvgen.Config{Rows: rows, Seed: 3, BadShare: 0.02, DuplicateShare: 0.05})
	r, err := NewReader(gen, "big.csv", Options{})
	if err != nil {
		b.Fatal(err)
	}
	var row Row
	for {
		if err := r.NextInto(&row); err == io.EOF {
			break
		} else if err != nil {
			b.Fatal(err)
		}
	}
	close(stop)
	<-done
	if c := r.Counts(); c.Rows != rows {
		b.Fatalf("read %d rows, want %d", c.Rows, rows)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.liveHeap = ms.HeapAlloc
	if err := r.Close(); err != nil {
		b.Fatal(err)
	}
	return m
}

// residentMemory reads the process's anonymous and file-backed resident memory from
// /proc/self/status (0, 0 where there is none).
func residentMemory() (anon, file uint64) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		switch {
		case err != nil:
		case name == "RssAnon":
			anon = kb << 10
		case name == "RssFile":
			file = kb << 10
		}
	}
	return anon, file
}

func fmtRows(n int) string {
	if n%1_000_000 == 0 {
		return itoa(n/1_000_000) + "M"
	}
	return itoa(n/1000) + "k"
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// cpuClock measures the CPU time this process spends (user + system, garbage collector
// included). On a machine shared with other work, wall-clock ns/row swings with the load
// while CPU time per row stays comparable, so the benchmarks report both.
type cpuClock struct{ start time.Duration }

func startCPU() cpuClock { return cpuClock{start: processCPU()} }

func (c cpuClock) elapsed() time.Duration { return processCPU() - c.start }

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
