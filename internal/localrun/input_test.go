package localrun_test

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/leadflow/attom-batch/internal/attom"
	"github.com/leadflow/attom-batch/internal/attomsim"
	"github.com/leadflow/attom-batch/internal/batch"
)

// aliasingAttom answers some addresses as if they were others, the way ATTOM resolves two
// spellings that the normalizer keeps apart (a rear unit, a vanity address) to one parcel.
type aliasingAttom struct {
	inner batch.AttomLookup
	as    map[string]string // line 1 sent -> line 1 ATTOM answers for
}

func (a aliasingAttom) Lookup(ctx context.Context, ep string, q attom.Query) (attom.Result, error) {
	if other, ok := a.as[q.Line1]; ok {
		q.Line1 = other
	}
	return a.inner.Lookup(ctx, ep, q)
}

// When ATTOM resolves two input rows to one property there is one lead, and each row is in
// the export with its own columns: within one segment of results and across two.
func TestRowsResolvedToOnePropertyEachKeepTheirColumnsInTheExport(t *testing.T) {
	w := newWorld(t, 100000, attomsim.Options{NotFoundRate: -1})
	rows := addresses(5*batch.SegmentChunks + 3) // more than one segment of chunks of 5
	rows[1] = "900 Elm Street,Springfield,IL,62701,second"
	rows[2] = "900 Elm St Rear,Springfield,IL,62701,third"
	rows[len(rows)-1] = "900 Elm Street Lot 2,Springfield,IL,62701,last"
	w.sys.Tasks.Attom = aliasingAttom{inner: w.sys.Tasks.Attom, as: map[string]string{
		"900 ELM ST REAR": "900 ELM ST", "900 ELM ST LOT 2": "900 ELM ST"}}
	_, job := w.run(w.csvFile("aliases.csv", rows...), "aliases")
	checkCounts(t, job)
	if job.RecordCount != len(rows) || job.RecordsFound != len(rows) || job.DuplicateRecords != 0 {
		t.Fatalf("job %+v", job)
	}
	leads, err := w.sys.Tasks.Stores.Leads.LeadsByBatch(context.Background(), job.ID)
	if err != nil || len(leads) != len(rows)-2 || job.LeadsCreated != len(leads) {
		t.Fatalf("%d leads (%v), leads_created %d, want %d", len(leads), err, job.LeadsCreated, len(rows)-2)
	}
	export := readExport(t, w, job)
	if len(export) != len(rows)+1 {
		t.Fatalf("export has %d lines, want a header and %d rows", len(export), len(rows))
	}
	campaign, address, leadID := 4, 0, 5
	elm := map[string]string{} // campaign -> lead id
	for _, rec := range export[1:] {
		if strings.HasPrefix(rec[address], "900 Elm") {
			elm[rec[campaign]] = rec[leadID]
		}
	}
	if len(elm) != 3 || elm["second"] == "" || elm["second"] != elm["third"] || elm["second"] != elm["last"] {
		t.Fatalf("the three rows of one property in the export: %v", elm)
	}
	// Leads again, every segment: the counts stay.
	for step := (batch.Step{JobID: job.ID, More: true}); step.More; {
		if step, err = w.sys.Tasks.Leads(context.Background(), step); err != nil {
			t.Fatal(err)
		}
	}
	again, _ := w.sys.Tasks.Jobs.GetJob(context.Background(), job.ID)
	if again.LeadsCreated != len(leads) || again.LeadsUpdated != 0 {
		t.Fatalf("after Leads again: created %d, updated %d", again.LeadsCreated, again.LeadsUpdated)
	}
}

func readExport(t *testing.T, w *world, job batch.Job) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(w.dir, "results", "exports", job.ID, "leads.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}
