package sqlitestore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/batch"
)

// BenchmarkAddCountersParallel measures concurrent counter updates, the hottest write while
// chunks run.
func BenchmarkAddCountersParallel(b *testing.B) {
	s := openTemp(b)
	ctx := context.Background()
	if _, err := s.CreateJob(ctx, batch.Job{ID: "j", Name: "n", FileName: "f", FilePath: "p", Status: "s", CreatedAt: time.Now()}); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.AddCounters(ctx, "j", batch.Counters{LookedUpRecords: 1}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkUpdateJobParallel measures read-modify-write transactions under contention.
func BenchmarkUpdateJobParallel(b *testing.B) {
	s := openTemp(b)
	ctx := context.Background()
	if _, err := s.CreateJob(ctx, batch.Job{ID: "j", Name: "n", FileName: "f", FilePath: "p", Status: "s", CreatedAt: time.Now()}); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.UpdateJob(ctx, "j", func(j *batch.Job) error { j.ProgressPercent++; return nil }); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkReserveParallel measures the budget's conditional UPDATE under contention.
func BenchmarkReserveParallel(b *testing.B) {
	s := openTemp(b)
	budget := s.Budget(1 << 60)
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := budget.Reserve(context.Background(), "2026-05-01", 10); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkPutLookup measures the per-address write made right after each ATTOM call.
func BenchmarkPutLookup(b *testing.B) {
	s := openTemp(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		rec := batch.LookupRecord{JobID: "j", Chunk: i / 100, Key: fmt.Sprint(i), Outcome: batch.LookupFound, Raw: `{"expandedprofile":{}}`, At: time.Now()}
		if err := s.PutLookup(ctx, rec); err != nil {
			b.Fatal(err)
		}
	}
}
