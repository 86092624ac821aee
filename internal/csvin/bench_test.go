package csvin

import (
	"bytes"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
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

// BenchmarkIngestCSV is the per-file cost of the reader: parse, normalize, key, dedupe.
// Compare its ns/row with BenchmarkReadCSVBaseline.
func BenchmarkIngestCSV(b *testing.B) {
	benchPerRow(b, func(data []byte) error {
		r, err := NewReader(bytes.NewReader(data), "bench.csv", Options{})
		if err != nil {
			return err
		}
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

// benchPerRow reads the 100,000-row bench file with readAll b.N times.
func benchPerRow(b *testing.B, readAll func(data []byte) error) {
	data := benchFile()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := readAll(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100_000), "ns/row")
}

func endOfFile(err error) error {
	if err == io.EOF {
		return nil
	}
	return err
}

// BenchmarkPrepare1M reads a generated file of a million rows (2% bad, 5% duplicates) from
// disk through the reader, as Prepare does, and reports the time, the CPU time (user +
// system: steadier than the wall time on a shared machine) and the peak heap in use, sampled
// every 5 ms. The file is written before the timer starts. Run with -benchtime=1x.
func BenchmarkPrepare1M(b *testing.B) {
	const rows = 1_000_000
	path := filepath.Join(b.TempDir(), "big.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := csvgen.Write(f, csvgen.Config{Rows: rows, Seed: 3, BadShare: 0.02, DuplicateShare: 0.05}); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		runtime.GC()
		cpu := processCPU()
		peak, stop := samplePeakHeap()
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		r, err := NewReader(f, "big.csv", Options{})
		if err != nil {
			b.Fatal(err)
		}
		var row Row
		for err == nil {
			err = r.NextInto(&row)
		}
		stop()
		f.Close()
		if err != io.EOF || r.Counts().Rows != rows {
			b.Fatalf("read %d rows, then %v", r.Counts().Rows, err)
		}
		b.ReportMetric((processCPU() - cpu).Seconds(), "cpu-s")
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
	}
}

// processCPU is the CPU time this process has spent, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// samplePeakHeap samples HeapInuse every 5 ms until stop is called.
func samplePeakHeap() (*atomic.Uint64, func()) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak.Store(max(peak.Load(), ms.HeapInuse))
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	})
	return &peak, func() { close(done); wg.Wait() }
}
