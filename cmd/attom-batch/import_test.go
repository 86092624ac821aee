package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/attomsim"
	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/distress"
	"github.com/leadflow/attom-batch/internal/sqlitestore"
)

// simRig is a sandbox whose CLI talks to one simulator that outlives the commands, so its
// billing ledger shows what every command bought.
func simRig(t *testing.T) (dir string, sim *attomsim.Server) {
	t.Helper()
	dir = sandbox(t)
	sim = attomsim.New(attomsim.Options{Seed: 7})
	base, stop, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stop(context.Background()) })
	t.Setenv("ATTOM_BASE_URL", base)
	t.Setenv("ATTOM_API_KEY", "import-test-key")
	t.Setenv("ATTOM_RATE_PER_MINUTE", "100000")
	t.Setenv("ATTOM_BATCH_FEATURES", "")
	return dir, sim
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := runCLI(t, "", args...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, errOut)
	}
	return out
}

func runAllJob(t *testing.T) batch.Job {
	t.Helper()
	var sum struct {
		Job batch.Job `json:"job"`
	}
	out := mustRun(t, "run-all", "../../examples/properties.csv", "--name", "First list", "--leads", "--json")
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.Job.Status != batch.StatusCompleted {
		t.Fatalf("run-all: %v %s", err, out)
	}
	return sum.Job
}

func leadsOf(t *testing.T, args ...string) map[string]leadView {
	t.Helper()
	var list []leadView
	out := mustRun(t, append([]string{"leads", "--json"}, args...)...)
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("leads: %v: %s", err, out)
	}
	for i := 1; i < len(list); i++ {
		if list[i].Score > list[i-1].Score {
			t.Fatalf("leads not best first: %d after %d", list[i].Score, list[i-1].Score)
		}
	}
	byID := map[string]leadView{}
	for _, l := range list {
		byID[l.ID] = l
	}
	return byID
}

func factorState(l leadView, name string) string {
	for _, f := range l.Breakdown {
		if f.Name == name {
			return f.State
		}
	}
	return ""
}

// retype writes a normalized line 1 the way a county clerk might: mixed case, suffixes
// spelled out.
func retype(line1 string) string {
	long := map[string]string{"ST": "Street", "AVE": "Avenue", "DR": "Drive", "RD": "Road", "BLVD": "Boulevard",
		"LN": "Lane", "CT": "Court", "PL": "Place", "N": "North", "S": "South", "E": "East", "W": "West"}
	words := strings.Fields(line1)
	for i, w := range words {
		if l, ok := long[w]; ok {
			words[i] = l
			continue
		}
		words[i] = w[:1] + strings.ToLower(w[1:])
	}
	return strings.Join(words, " ")
}

func TestImportRaisesExactlyTheListedLeadsWithoutATTOM(t *testing.T) {
	dir, sim := simRig(t)
	job := runAllJob(t)
	billed := sim.BilledCount()
	if billed == 0 {
		t.Fatal("the run-all bought nothing: the simulator is not the one the CLI uses")
	}
	before := leadsOf(t, "--job", job.ID)
	var picks []leadView
	for _, l := range before {
		if factorState(l, distress.FactorTaxDelinquent) != distress.Unknown || factorState(l, distress.FactorVacant) != distress.Unknown {
			t.Fatalf("lead %s knows tax or vacancy before any import: %+v", l.Address, l.Breakdown)
		}
		if l.Score <= 60 { // room to rise below the cap of 100
			picks = append(picks, l)
		}
	}
	sort.Slice(picks, func(i, j int) bool { return picks[i].ID < picks[j].ID })
	if len(picks) < 3 {
		t.Fatalf("want 3 leads scoring 60 or less, have %d", len(picks))
	}
	hot, cold := picks[:2], picks[2]

	// Another list, typed differently from the first: other headers, the address in mixed
	// case with its suffix spelled out, the flags as words.
	addr := func(l leadView) (string, string) {
		rec, err := leadRecord(t, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		return retype(rec.line1), rec.zip
	}
	var b strings.Builder
	b.WriteString("Property Address,Zip Code,Tax Status,Vacancy,Owner Mailing Address\n")
	for _, l := range hot {
		a, zip := addr(l)
		fmt.Fprintf(&b, "%s,%s,DELINQUENT,Vacant,\n", a, zip)
	}
	a, zip := addr(cold)
	fmt.Fprintf(&b, "%s,%s,Current,Occupied,\n", a, zip)
	b.WriteString("77 Nowhere Lane,62701,Y,N,\n") // a property no source knew
	b.WriteString("PO Box 12,62701,Y,Y,\n")       // not a property
	b.WriteString(a + "," + zip + ",maybe,Y,\n")  // an unreadable flag
	b.WriteString("1 Bad Zip Road,9,Y,Y,\n")      // an unreadable ZIP
	file := filepath.Join(dir, "county.csv")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	var sum batch.ImportSummary
	out := mustRun(t, "import", file, "--source", "county:test", "--json")
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if sum.Rows != 7 || sum.Matched != 3 || sum.New != 1 || sum.Unchanged != 0 || sum.Rejected != 3 ||
		sum.Matched+sum.New+sum.Unchanged+sum.Rejected != sum.Rows || sum.LeadsUpdated != 3 || sum.LeadsCreated != 0 {
		t.Fatalf("import summary: %+v", sum)
	}
	reasons := map[int]batch.ImportReject{}
	for _, r := range sum.Rejects {
		reasons[r.Line] = r
	}
	if r := reasons[6]; !strings.Contains(r.Reason, "PO box") {
		t.Errorf("PO box row: %+v", r)
	}
	if r := reasons[7]; r.Field != "Tax Status" || !strings.Contains(r.Reason, "yes/no") {
		t.Errorf("bad flag row: %+v", r)
	}
	if r := reasons[8]; r.Field != "Zip Code" {
		t.Errorf("bad ZIP row: %+v", r)
	}
	if got := sim.BilledCount(); got != billed {
		t.Fatalf("the import called ATTOM: billed %d, was %d", got, billed)
	}

	after := leadsOf(t, "--job", job.ID)
	if len(after) != len(before) {
		t.Fatalf("leads: %d before, %d after", len(before), len(after))
	}
	for id, was := range before {
		now := after[id]
		switch {
		case id == hot[0].ID || id == hot[1].ID:
			if now.Score <= was.Score || factorState(now, distress.FactorTaxDelinquent) != distress.Yes ||
				factorState(now, distress.FactorVacant) != distress.Yes {
				t.Errorf("%s: score %d -> %d, breakdown %+v", now.Address, was.Score, now.Score, now.Breakdown)
			}
			if !strings.Contains(strings.Join(now.Sources, "+"), "county:test") || strings.Contains(strings.Join(now.UnknownFactors, ","), "vacant") {
				t.Errorf("%s: sources %v unknown %v", now.Address, now.Sources, now.UnknownFactors)
			}
		case id == cold.ID:
			if now.Score != was.Score || factorState(now, distress.FactorTaxDelinquent) != distress.No ||
				factorState(now, distress.FactorVacant) != distress.No {
				t.Errorf("%s (current, occupied): score %d -> %d, breakdown %+v", now.Address, was.Score, now.Score, now.Breakdown)
			}
		default:
			if now.Score != was.Score || factorState(now, distress.FactorTaxDelinquent) != distress.Unknown {
				t.Errorf("%s was not in the list: score %d -> %d", now.Address, was.Score, now.Score)
			}
		}
	}
	filtered := leadsOf(t, "--job", job.ID, "--factor", "tax_delinquent")
	if len(filtered) != 2 || filtered[hot[0].ID].ID == "" || filtered[hot[1].ID].ID == "" {
		t.Errorf("--factor tax_delinquent: %v", filtered)
	}

	// property_records.processed: the records that became leads are marked; the new
	// property, imported without --leads, has no lead and is not.
	for _, l := range hot {
		for _, r := range records(t, l.ID) {
			if !r.Processed {
				t.Errorf("record %s (%s) of lead %s not processed", r.ID, r.Source, l.Address)
			}
		}
	}
	nowhere := newPropertyRecords(t, "77 NOWHERE LN")
	if len(nowhere) != 1 || nowhere[0].Processed || nowhere[0].Source != "county:test" {
		t.Fatalf("new property's records: %+v", nowhere)
	}

	// The same list again changes nothing; with --leads the new property gets its lead.
	out = mustRun(t, "import", file, "--source", "county:test", "--leads", "--json")
	sum = batch.ImportSummary{}
	_ = json.Unmarshal([]byte(out), &sum)
	if sum.Rows != 7 || sum.Unchanged != 4 || sum.Rejected != 3 || sum.LeadsCreated != 1 || sum.LeadsUpdated != 0 {
		t.Fatalf("second import: %+v", sum)
	}
	imported := leadsOf(t, "--job", sum.ID)
	if len(imported) != 1 {
		t.Fatalf("the import's own leads: %v", imported)
	}
	for _, l := range imported {
		if factorState(l, distress.FactorTaxDelinquent) != distress.Yes || factorState(l, distress.FactorVacant) != distress.No {
			t.Errorf("new lead: %+v", l)
		}
	}
	if !newPropertyRecords(t, "77 NOWHERE LN")[0].Processed {
		t.Error("the new property's record is not processed after its lead was made")
	}
	if got := sim.BilledCount(); got != billed {
		t.Fatalf("the second import called ATTOM: billed %d, was %d", got, billed)
	}
	if got := leadsOf(t, "--job", job.ID); got[hot[0].ID].Score != after[hot[0].ID].Score {
		t.Fatal("a re-import changed a score")
	}
}

func TestImportUsageErrors(t *testing.T) {
	dir := sandbox(t)
	file := filepath.Join(dir, "list.csv")
	_ = os.WriteFile(file, []byte("address,zip,tax_delinquent\n1 Main St,62701,Y\n"), 0o644)
	for _, args := range [][]string{
		{"import", file},                                          // no source
		{"import", file, "--source", "attom"},                     // not another source
		{"import", file, "--source", "county", "--map", "x"},      // not COLUMN=FIELD
		{"import", file, "--source", "county", "--map", "x=nope"}, // no such field
		{"leads", "--min-score", "101"},
		{"leads", "--factor", "haunted"},
	} {
		if _, errOut, code := runCLI(t, "", args...); code != 2 {
			t.Errorf("%v: exit %d, want 2: %s", args, code, errOut)
		}
	}
	// --map reads any column as a field.
	_ = os.WriteFile(file, []byte("situs,zip,arrears\n1 Main St,62701,yes\n"), 0o644)
	out := mustRun(t, "import", file, "--source", "county", "--map", "situs=address", "--map", "Arrears=tax_delinquent", "--leads", "--json")
	var sum batch.ImportSummary
	_ = json.Unmarshal([]byte(out), &sum)
	if sum.New != 1 || sum.LeadsCreated != 1 {
		t.Fatalf("--map import: %s", out)
	}
	var list []leadView
	_ = json.Unmarshal([]byte(mustRun(t, "leads", "--job", sum.ID, "--json")), &list)
	if len(list) != 1 || factorState(list[0], distress.FactorTaxDelinquent) != distress.Yes {
		t.Fatalf("--map lead: %+v", list)
	}
}

type recordAddr struct{ line1, zip string }

func leadRecord(t *testing.T, hash string) (recordAddr, error) {
	t.Helper()
	recs := records(t, hash)
	if len(recs) == 0 {
		return recordAddr{}, fmt.Errorf("no records for %s", hash)
	}
	line := recs[0].Address
	return recordAddr{line1: line, zip: recs[0].ZIPCode}, nil
}

func records(t *testing.T, hash string) []batch.PropertyRecord {
	t.Helper()
	st, err := sqlitestore.Open(os.Getenv("ATTOM_BATCH_DB"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.RecordsByHash(context.Background(), hash)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func newPropertyRecords(t *testing.T, line1 string) []batch.PropertyRecord {
	t.Helper()
	st, err := sqlitestore.Open(os.Getenv("ATTOM_BATCH_DB"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	all, err := st.StaleRecords(context.Background(), farFuture, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []batch.PropertyRecord
	for _, r := range all {
		if r.Address == line1 {
			out = append(out, r)
		}
	}
	return out
}

var farFuture = time.Now().Add(100 * 365 * 24 * time.Hour)
