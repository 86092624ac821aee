package localrun_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/attomsim"
)

// BenchmarkTimeToLeads measures, on the real clock, how long after submitting a 1,000-address
// file at 600 calls a minute the first lead and the first 100 leads are saved (in the leads
// store, where the UI, the API and `status` read them), and the whole run. A watcher reads the
// leads store every 100 ms. Before issue 15 leads were saved only after the last lookup.
func BenchmarkTimeToLeads(b *testing.B) {
	const perMinute, rows = 600, 1000
	path := writeCSV(b, b.TempDir(), rows, 11)
	var first, hundred, total time.Duration
	b.ResetTimer()
	b.StopTimer()
	for i := range b.N {
		s := openBenchSystem(b, attomsim.Options{Seed: 3, RatePerMinute: perMinute}, perMinute, "")
		ctx := context.Background()
		begin := time.Now()
		var firstAt, hundredAt atomic.Int64
		stop := make(chan struct{})
		watched := make(chan struct{})
		go func() {
			defer close(watched)
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				jobs, err := s.sys.Tasks.Jobs.ListJobs(ctx, 1)
				if err != nil || len(jobs) == 0 {
					continue
				}
				saved, err := s.sys.Tasks.Stores.Leads.LeadsByBatch(ctx, jobs[0].ID)
				if err != nil {
					continue
				}
				since := int64(time.Since(begin))
				if len(saved) >= 1 {
					firstAt.CompareAndSwap(0, since)
				}
				if len(saved) >= 100 {
					hundredAt.CompareAndSwap(0, since)
				}
			}
		}()
		b.StartTimer()
		_, job := s.runAll(b, path, fmt.Sprintf("leads-%d", i))
		b.StopTimer()
		elapsed := time.Since(begin)
		close(stop)
		<-watched
		checkJob(b, job, rows)
		// Leads saved in the run's last 100 ms count at its end.
		firstAt.CompareAndSwap(0, int64(elapsed))
		hundredAt.CompareAndSwap(0, int64(elapsed))
		first += time.Duration(firstAt.Load())
		hundred += time.Duration(hundredAt.Load())
		total += elapsed
		s.sys.Close()
	}
	b.ReportMetric(first.Seconds()/float64(b.N), "first-lead-s")
	b.ReportMetric(hundred.Seconds()/float64(b.N), "first-100-leads-s")
	b.ReportMetric(total.Seconds()/float64(b.N), "run-s")
}
