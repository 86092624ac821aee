//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/leadflow/attom-batch/events"
	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/distress"
	"github.com/leadflow/attom-batch/internal/leads"
)

// invokeImport runs the import function with raw as its event, as the import rule does on
// AWS (moto turns no S3 write into an event), and returns its answer and function error.
func (s *testSuite) invokeImport(t *testing.T, raw []byte) (batch.ImportSummary, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := lambda.NewFromConfig(s.cloud.AWSConfig()).Invoke(ctx, &lambda.InvokeInput{
		FunctionName: aws.String(s.cloud.FunctionARN("import")),
		Payload:      raw,
	})
	if err != nil {
		t.Fatalf("invoke import: %v", err)
	}
	if out.FunctionError != nil {
		return batch.ImportSummary{}, string(out.Payload)
	}
	var sum batch.ImportSummary
	if err := json.Unmarshal(out.Payload, &sum); err != nil {
		t.Fatalf("import answered %s: %v", out.Payload, err)
	}
	return sum, ""
}

func factorOf(l leads.Lead, name string) string {
	for _, f := range l.Breakdown {
		if f.Name == name {
			return f.State
		}
	}
	return ""
}

// title writes "100 QUARRY RD" as "100 Quarry Rd".
func title(s string) string {
	words := strings.Fields(strings.ToLower(s))
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}

// TestCountyListUnderImportsRaisesTheLeads: a job through the pipeline, then a county list
// dropped under imports/county/ that marks two of its properties tax delinquent and vacant
// (typed differently from the upload) and one current and occupied. The import function,
// invoked with the "Object Created" event, raises exactly the two leads, turns both factors
// from unknown to known, and calls ATTOM not once.
func TestCountyListUnderImportsRaisesTheLeads(t *testing.T) {
	ctx := context.Background()
	event := suite.upload(t, "incoming/it-import-base.csv", csvFile(addresses("Tamarack Court", 6)...), nil)
	id := jobID(t, event)
	exec := suite.runPipeline(t, uniqueName("import-base"), event)
	if exec.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: %s %s (path %v)", exec.ARN, exec.Error, exec.Cause, exec.Path)
	}
	before, err := suite.store.LeadsByBatch(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var picks []leads.Lead
	for _, l := range before {
		if factorOf(l, distress.FactorTaxDelinquent) != distress.Unknown || factorOf(l, distress.FactorVacant) != distress.Unknown {
			t.Fatalf("lead %s knows tax or vacancy before any import: %+v", l.Address, l.Breakdown)
		}
		if l.Score <= 60 {
			picks = append(picks, l)
		}
	}
	slices.SortFunc(picks, func(a, b leads.Lead) int { return strings.Compare(a.ID, b.ID) })
	if len(picks) < 3 {
		t.Fatalf("want 3 leads scoring 60 or less, have %d of %d", len(picks), len(before))
	}
	hot, cold := picks[:2], picks[2]
	ledger := len(suite.sim.Ledger())

	// The county's spelling: one address column in mixed case with the suffix spelled
	// out, the flags as words.
	var b strings.Builder
	b.WriteString("Situs Address,Tax Status,Vacancy\n")
	line := func(l leads.Lead, tax, vacant string) {
		street := strings.Replace(title(l.Line1), " Ct", " Court", 1)
		fmt.Fprintf(&b, "\"%s, %s, %s %s\",%s,%s\n", street, title(l.City), l.State, l.ZIP, tax, vacant)
	}
	for _, l := range hot {
		line(l, "DELINQUENT", "Vacant")
	}
	line(cold, "Current", "Occupied")
	body := []byte(b.String())
	put := suite.upload(t, "imports/county/it-delinquent.csv", body, nil)

	sum, ferr := suite.invokeImport(t, put)
	if ferr != "" {
		t.Fatalf("import function error: %s\n%s", ferr, body)
	}
	if sum.Source != "county" || sum.Rows != 3 || sum.Matched != 3 || sum.Rejected != 0 || sum.LeadsUpdated != 3 || sum.LeadsCreated != 0 {
		t.Fatalf("import summary %+v\n%s", sum, body)
	}
	if got := len(suite.sim.Ledger()); got != ledger {
		t.Fatalf("the import called ATTOM: ledger %d, was %d", got, ledger)
	}
	after, err := suite.store.LeadsByBatch(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("leads: %d before, %d after", len(before), len(after))
	}
	was := map[string]leads.Lead{}
	for _, l := range before {
		was[l.ID] = l
	}
	for _, now := range after {
		old := was[now.ID]
		switch {
		case now.ID == hot[0].ID || now.ID == hot[1].ID:
			if now.Score <= old.Score || factorOf(now, distress.FactorTaxDelinquent) != distress.Yes || factorOf(now, distress.FactorVacant) != distress.Yes {
				t.Errorf("%s: score %d -> %d, breakdown %+v", now.Address, old.Score, now.Score, now.Breakdown)
			}
			if !strings.Contains(now.Source, "county") {
				t.Errorf("%s: source %q lacks county", now.Address, now.Source)
			}
		case now.ID == cold.ID:
			if now.Score != old.Score || factorOf(now, distress.FactorTaxDelinquent) != distress.No || factorOf(now, distress.FactorVacant) != distress.No {
				t.Errorf("%s (current, occupied): score %d -> %d, breakdown %+v", now.Address, old.Score, now.Score, now.Breakdown)
			}
		default:
			if now.Score != old.Score || factorOf(now, distress.FactorTaxDelinquent) != distress.Unknown {
				t.Errorf("%s was not in the list: score %d -> %d", now.Address, old.Score, now.Score)
			}
		}
	}

	// The same delivery again changes nothing; a key outside imports/ is refused, clearly.
	again, ferr := suite.invokeImport(t, put)
	if ferr != "" || again.ID != sum.ID || again.Unchanged != 3 || again.Matched != 0 {
		t.Errorf("second delivery: %+v %s", again, ferr)
	}
	wrong := events.NewObjectCreated(bucket, "incoming/it-import-base.csv", "x", 1, time.Now())
	raw, _ := json.Marshal(wrong)
	if _, ferr := suite.invokeImport(t, raw); !strings.Contains(ferr, "InvalidImport") || !strings.Contains(ferr, "not under imports/") {
		t.Errorf("a key outside imports/: %q", ferr)
	}
	if got := len(suite.sim.Ledger()); got != ledger {
		t.Errorf("the imports called ATTOM: ledger %d, was %d", got, ledger)
	}
}
