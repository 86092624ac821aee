package leads

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/address"
	"github.com/leadflow/attom-batch/internal/distress"
	"github.com/leadflow/attom-batch/internal/property"
)

var (
	day1 = time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC)
	day2 = day1.AddDate(0, 1, 0)
)

func f(v float64) *float64 { return &v }

func sampleProperty() property.Property {
	var p property.Property
	p.Address = address.Address{Line1: "4529 WINONA CT", City: "DENVER", State: "CO", ZIP5: "80212", ZIP4: "2512"}
	p.Key = p.Address.Key()
	p.Hash = address.Hash(p.Key)
	p.Owner.Names = []string{"JANE Q DOE", "JOHN DOE TRUSTEE"}
	p.Owner.MailingAddress = "PO BOX 1234, PHOENIX, AZ 85001-1234"
	p.Valuation.MarketTotal = f(494000)
	p.Valuation.AVMValue = f(612000)
	p.Valuation.EstimatedEquity = f(312000)
	p.Metadata.Sources = []string{"county:denver", "attom"}
	p.Metadata.Simulated = true
	return p
}

func TestConvertPropertyToLead(t *testing.T) {
	p := sampleProperty()
	score := distress.Result{Score: 42, Multiplier: 1.2, Factors: []distress.Factor{
		{Name: distress.FactorAbsenteeOwner, State: distress.Yes, Points: 10},
		{Name: distress.FactorVacant, State: distress.Unknown},
	}}
	input := map[string]string{"Street": "4529 Winona Ct", "Zip": "80212"}
	l := ConvertPropertyToLead(p, score, "job-1", input, day1)

	want := Lead{
		ID: p.Hash, PropertyKey: p.Key, PropertyHash: p.Hash,
		Address: "4529 WINONA CT, DENVER, CO 80212-2512", Line1: "4529 WINONA CT",
		City: "DENVER", State: "CO", ZIP: "80212",
		OwnerNames:     []string{"JANE Q DOE", "JOHN DOE TRUSTEE"},
		MailingAddress: "PO BOX 1234, PHOENIX, AZ 85001-1234",
		Score:          42, Breakdown: score.Factors,
		Value: f(612000), Equity: f(312000),
		Status: StatusNew, Source: "attom+county:denver", BatchID: "job-1", Simulated: true,
		Input: input, CreatedAt: day1, UpdatedAt: day1,
	}
	if !reflect.DeepEqual(l, want) {
		t.Errorf("lead\n%+v\nwant\n%+v", l, want)
	}

	// The lead owns its copies: changing the property or input later does not change it.
	p.Owner.Names[0] = "CHANGED"
	input["Zip"] = "00000"
	*p.Valuation.AVMValue = 1
	if l.OwnerNames[0] != "JANE Q DOE" || l.Input["Zip"] != "80212" || *l.Value != 612000 {
		t.Error("lead shares memory with its inputs")
	}
}

func TestConvertValueFallsBackToMarketTotal(t *testing.T) {
	p := sampleProperty()
	p.Valuation.AVMValue = nil
	m := address.Address{Line1: "PO BOX 1234", City: "PHOENIX", State: "AZ", ZIP5: "85001"}
	p.Owner.Mailing = &m
	l := ConvertPropertyToLead(p, distress.Result{}, "b", nil, day1)
	if l.Value == nil || *l.Value != 494000 {
		t.Errorf("value = %v, want the market total", l.Value)
	}
	if l.MailingAddress != "PO BOX 1234, PHOENIX, AZ 85001" {
		t.Errorf("mailing = %q, want the normalized form", l.MailingAddress)
	}
}

func TestUpdate(t *testing.T) {
	first := ConvertPropertyToLead(sampleProperty(), distress.Result{Score: 30}, "job-1",
		map[string]string{"Street": "4529 Winona Ct"}, day1)

	fresher := sampleProperty()
	fresher.Valuation.AVMValue = f(650000)
	fresher.Metadata.Simulated = false
	freshScore := distress.Result{Score: 55, Factors: []distress.Factor{{Name: distress.FactorPreForeclosure, State: distress.Yes, Points: 25}}}
	fresh := ConvertPropertyToLead(fresher, freshScore, "job-2", map[string]string{"addr": "4529 WINONA COURT"}, day2)

	tests := []struct {
		name       string
		status     string
		wantStatus string
	}{
		{"untouched lead stays new", StatusNew, StatusNew},
		{"worked status is kept", "contacted", "contacted"},
		{"empty status takes the fresh one", "", StatusNew},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			existing := first
			existing.Status = tc.status
			got := Update(existing, fresh)
			if got.Status != tc.wantStatus {
				t.Errorf("status = %q, want %q", got.Status, tc.wantStatus)
			}
			if got.ID != first.ID || !got.CreatedAt.Equal(day1) || !got.UpdatedAt.Equal(day2) {
				t.Errorf("identity/time: id %s created %v updated %v", got.ID, got.CreatedAt, got.UpdatedAt)
			}
			if got.Score != 55 || !reflect.DeepEqual(got.Breakdown, freshScore.Factors) || *got.Value != 650000 || got.Simulated {
				t.Errorf("fresh facts not taken: %+v", got)
			}
			if !reflect.DeepEqual(got.Input, first.Input) || got.BatchID != "job-1" {
				t.Errorf("original input lost: %v from %s", got.Input, got.BatchID)
			}
		})
	}

	// A lead created without an input row takes the fresh one.
	bare := first
	bare.Input = nil
	if got := Update(bare, fresh); got.Input["addr"] != "4529 WINONA COURT" || got.BatchID != "job-2" {
		t.Errorf("input = %v batch %s", got.Input, got.BatchID)
	}
	// An out-of-order update never moves UpdatedAt back.
	if got := Update(fresh, first); !got.UpdatedAt.Equal(day2) {
		t.Errorf("UpdatedAt went back to %v", got.UpdatedAt)
	}
}

func TestSafeCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"=HYPERLINK(\"http://evil\",\"x\")", "'=HYPERLINK(\"http://evil\",\"x\")"},
		{"+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1:A2)", "'@SUM(A1:A2)"},
		{"\tTAB", "'\tTAB"},
		{"\rCR", "'\rCR"},
		{"-", "'-"},
		{"-1250", "-1250"},
		{"-1,250.50", "-1,250.50"},
		{"-0.5", "-0.5"},
		{"-1e3", "'-1e3"},
		{"123 MAIN ST", "123 MAIN ST"},
		{"", ""},
		{"a=b", "a=b"},
	}
	for _, tc := range tests {
		if got := SafeCell(tc.in); got != tc.want {
			t.Errorf("SafeCell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestWriteCSV(t *testing.T) {
	p := sampleProperty()
	p.Owner.Names = []string{"=CMD()", "DOE JANE"}
	p.Valuation.EstimatedEquity = f(-15000) // under water: a plain negative number
	score := distress.Result{Score: 42, Factors: []distress.Factor{
		{Name: distress.FactorAbsenteeOwner, State: distress.Yes, Points: 10},
		{Name: distress.FactorHighEquity, State: distress.No},
		{Name: distress.FactorVacant, State: distress.Unknown},
		{Name: distress.FactorTaxDelinquent, State: distress.Unknown},
	}}
	input := map[string]string{"Street": "@4529 Winona Ct", "Zip": "80212", "score": "A+"}
	l := ConvertPropertyToLead(p, score, "job-1", input, day1)
	other := ConvertPropertyToLead(sampleProperty(), distress.Result{}, "job-1", nil, day1)

	var buf bytes.Buffer
	if err := WriteCSV(&buf, []Lead{l, other}, []string{"Street", "Zip", "score"}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := []string{"Street", "Zip", "score", "lead_id", "normalized_address", "lead_score",
		"owner_names", "mailing_address", "value", "equity", "status", "simulated", "breakdown"}
	if !reflect.DeepEqual(rows[0], wantHeader) {
		t.Fatalf("header %q\nwant %q", rows[0], wantHeader)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows, want header + 2", len(rows))
	}
	row := map[string]string{}
	for i, h := range rows[0] {
		row[h] = rows[1][i]
	}
	want := map[string]string{
		"Street": "'@4529 Winona Ct", "Zip": "80212", "score": "A+",
		"lead_score": "42", "owner_names": "'=CMD(); DOE JANE",
		"value": "612000", "equity": "-15000", "status": "new", "simulated": "true",
		"breakdown": "absentee_owner +10; unknown: vacant, tax_delinquent",
	}
	for k, v := range want {
		if row[k] != v {
			t.Errorf("%s = %q, want %q", k, row[k], v)
		}
	}
	if got := rows[2][0]; got != "" {
		t.Errorf("lead without input row has Street %q", got)
	}
	if !strings.Contains(rows[2][4], "WINONA") {
		t.Errorf("second row address %q", rows[2][4])
	}
}

func TestEmptyExportHasHeader(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCSV(&buf, nil, []string{"address"}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 1 || rows[0][0] != "address" || rows[0][1] != "lead_id" {
		t.Fatalf("rows %q, err %v", rows, err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestWriteCSVReportsWriteErrors(t *testing.T) {
	l := ConvertPropertyToLead(sampleProperty(), distress.Result{}, "b", nil, day1)
	if err := WriteCSV(failingWriter{}, []Lead{l}, nil); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("err = %v, want the writer's error", err)
	}
}

func BenchmarkWriteCSV(b *testing.B) {
	l := ConvertPropertyToLead(sampleProperty(), distress.Result{Score: 40, Factors: []distress.Factor{
		{Name: distress.FactorAbsenteeOwner, State: distress.Yes, Points: 10},
	}}, "job", map[string]string{"a": "1", "b": "=2"}, day1)
	leads := make([]Lead, 1000)
	for i := range leads {
		leads[i] = l
	}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := WriteCSV(&buf, leads, []string{"a", "b"}); err != nil {
			b.Fatal(err)
		}
	}
}
