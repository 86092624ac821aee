package dynamostore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/batch"
)

func benchLookups(n int) []batch.LookupRecord {
	recs := make([]batch.LookupRecord, n)
	for i := range recs {
		recs[i] = batch.LookupRecord{JobID: "bench", Chunk: 0, Key: fmt.Sprintf("%d MAIN ST|78701", i),
			Outcome: batch.LookupFound, BilledCents: 10, Raw: `{"expandedprofile":{}}`, At: time.Now()}
	}
	return recs
}

// BenchmarkPutLookup is one PutItem per lookup, as a chunk writes them after each call.
func BenchmarkPutLookup(b *testing.B) {
	s := newTestStore(b)
	recs := benchLookups(100)
	b.ResetTimer()
	for i := range b.N {
		if err := s.PutLookup(context.Background(), recs[i%len(recs)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPutLookups is the bulk path: reported per lookup, in batches of 100.
func BenchmarkPutLookups(b *testing.B) {
	s := newTestStore(b)
	recs := benchLookups(100)
	b.ResetTimer()
	for range b.N {
		if err := s.PutLookups(context.Background(), recs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/lookup")
}

// BenchmarkReserve is one budget reservation (a conditional UpdateItem).
func BenchmarkReserve(b *testing.B) {
	bud := newTestStore(b).Budget(1 << 40)
	b.ResetTimer()
	for range b.N {
		if err := bud.Reserve(context.Background(), "2032-01-01", 10); err != nil {
			b.Fatal(err)
		}
	}
}
