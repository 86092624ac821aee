package property

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// winonaRecords are five records of 4529 Winona Ct: four ATTOM endpoints and a county file.
func winonaRecords(t testing.TB, countyAt time.Time) []Property {
	t.Helper()
	var recs []Property
	for _, c := range []struct{ endpoint, fixture string }{
		{EndpointExpandedProfile, "expandedprofile.json"},
		{EndpointAVM, "avm_detail.json"},
		{EndpointHomeEquity, "homeequity.json"},
		{EndpointPreforeclosure, "preforeclosure.json"},
	} {
		p, err := FromAttom(c.endpoint, loadAttom(t, c.fixture), fetched, false)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, p)
	}
	county, err := FromRecord("county:denver", countyRow(), countyAt)
	if err != nil {
		t.Fatal(err)
	}
	recs = append(recs, county)
	for _, r := range recs[1:] {
		if r.Hash != recs[0].Hash {
			t.Fatalf("records of one property have different hashes: %q vs %q", r.Key, recs[0].Key)
		}
	}
	return recs
}

func TestMergePrecedence(t *testing.T) {
	older := fetched.AddDate(0, 0, -9)
	newer := fetched.AddDate(0, 0, 5)
	tests := []struct {
		name     string
		countyAt time.Time
		want     map[string]any
		origins  map[string]string
	}{
		{
			name: "ATTOM fetched after the county file", countyAt: older,
			want: map[string]any{
				"valuation.avm_value": 612000.0, "valuation.market_total": 520000.0,
				"valuation.assessed_total": 35350.0, "valuation.mortgage_balance": 0.0,
				"valuation.estimated_equity": 612000.0, "valuation.ltv": 0.0,
				"distress.free_and_clear": true, "distress.pre_foreclosure": true,
				"distress.foreclosure_stage": "NTS", "distress.tax_delinquent": true,
				"distress.bank_owned": false, "distress.vacant": nil,
				"owner.names":        []any{"JANE Q DOE", "JOHN DOE TRUSTEE"},
				"owner.out_of_state": true, "valuation.last_sale_date": "2024-09-15",
				"characteristics.baths": 2.0,
				"metadata.sources":      []any{"attom", "county:denver"},
				"metadata.source_ids":   map[string]any{"attom": "184713191", "county:denver": "0524412017000"},
			},
			origins: map[string]string{
				"valuation.avm_value":        "attom:avm",
				"valuation.market_total":     "county:denver",
				"valuation.mortgage_balance": "attom:homeequity",
				"valuation.estimated_equity": "attom:homeequity",
				"distress.free_and_clear":    DerivedOrigin,
				"distress.pre_foreclosure":   "attom:preforeclosure",
				"distress.tax_delinquent":    "county:denver",
				"distress.bank_owned":        "attom:expandedprofile",
				"owner.names":                "attom:expandedprofile",
				"owner.mailing_address":      "attom:expandedprofile",
				"valuation.last_sale_date":   "attom:expandedprofile",
				"characteristics.year_built": "attom:expandedprofile",
				"address":                    "attom:expandedprofile",
			},
		},
		{
			name: "county file fetched after ATTOM wins owner, sale and characteristics", countyAt: newer,
			want: map[string]any{
				"owner.names":              []any{"DOE JANE Q"},
				"owner.mailing_address":    "500 W MAIN ST, BOISE, ID 83702",
				"owner.out_of_state":       true,
				"valuation.last_sale_date": "2009-03-15", "characteristics.baths": 2.5,
				"owner.absentee":         true, // the county file does not say: ATTOM's value stays
				"valuation.avm_value":    612000.0,
				"valuation.market_total": 520000.0,
			},
			origins: map[string]string{
				"owner.names":           "county:denver",
				"owner.absentee":        "attom:expandedprofile",
				"characteristics.baths": "county:denver",
				"address":               "attom:expandedprofile",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := Merge(winonaRecords(t, tc.countyAt), DefaultPrecedence())
			checkPaths(t, m, tc.want)
			checkIdentity(t, m)
			for path, w := range tc.origins {
				if got := m.Metadata.Provenance[path]; got != w {
					t.Errorf("provenance[%s] = %q, want %q", path, got, w)
				}
			}
		})
	}
}

func TestMergeRecomputesDerivedValues(t *testing.T) {
	recs := winonaRecords(t, fetched)
	profile, avm := recs[0], recs[1]
	if *profile.Valuation.EstimatedEquity != 194000 { // market 494000 - loan 300000
		t.Fatalf("profile equity = %v", *profile.Valuation.EstimatedEquity)
	}
	m := Merge([]Property{profile, avm}, DefaultPrecedence())
	// The merged equity uses the merged value (AVM 612000), not the profile's own figure.
	checkPaths(t, m, map[string]any{
		"valuation.estimated_equity": 312000.0, "valuation.ltv": 49.02, "distress.free_and_clear": false,
	})
	if got := m.Metadata.Provenance["valuation.estimated_equity"]; got != DerivedOrigin {
		t.Errorf("provenance = %q, want derived", got)
	}
}

func TestMergeNeverReplacesKnownWithUnknown(t *testing.T) {
	old := Property{Metadata: Metadata{Sources: []string{"county:x"}, FetchedAt: fetched.AddDate(-1, 0, 0)}}
	old.Address.Line1 = "1 A ST"
	old.Valuation.MarketTotal = ptr(100.0)
	old.Distress.Vacant = ptr(false)
	fresh := Property{Metadata: Metadata{Sources: []string{"county:x"}, FetchedAt: fetched}}
	fresh.Address.Line1 = "1 A ST"
	fresh.Distress.Vacant = ptr(true)
	m := Merge([]Property{fresh, old}, DefaultPrecedence())
	checkPaths(t, m, map[string]any{"valuation.market_total": 100.0, "distress.vacant": true})
}

func TestMergeIsOrderIndependent(t *testing.T) {
	recs := winonaRecords(t, fetched) // county fetched at the same instant: ties on time
	// A second county record with the same time and different values forces the content
	// tie-break.
	twin, err := FromRecord("county:denver", map[string]string{
		"address": "4529 WINONA CT", "city": "DENVER", "state": "CO", "zip": "80212",
		"market_value": "999999", "owner_name": "SOMEONE ELSE",
	}, fetched)
	if err != nil {
		t.Fatal(err)
	}
	recs = append(recs, twin)
	want := encode(t, Merge(recs, DefaultPrecedence()))
	permute(recs, 0, func(order []Property) {
		if got := encode(t, Merge(order, DefaultPrecedence())); got != want {
			t.Fatalf("merge depends on input order:\n%s\nvs\n%s", got, want)
		}
	})
}

func permute(a []Property, k int, visit func([]Property)) {
	if k == len(a) {
		visit(a)
		return
	}
	for i := k; i < len(a); i++ {
		a[k], a[i] = a[i], a[k]
		permute(a, k+1, visit)
		a[k], a[i] = a[i], a[k]
	}
}

func encode(t *testing.T, p Property) string {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMergeSingleRecordKeepsIt(t *testing.T) {
	p, err := FromAttom(EndpointExpandedProfile, loadAttom(t, "expandedprofile.json"), fetched, true)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := encode(t, Merge([]Property{p}, DefaultPrecedence())), encode(t, p); got != want {
		t.Errorf("merge of one record changed it:\n%s\nvs\n%s", got, want)
	}
	if !reflect.DeepEqual(Merge(nil, DefaultPrecedence()), Property{}) {
		t.Error("merge of nothing is not the zero property")
	}
}

func TestMergeCustomPrecedenceAndSimulated(t *testing.T) {
	recs := winonaRecords(t, fetched.AddDate(0, 1, 0)) // county newer
	recs[0].Metadata.Simulated = true
	rules := DefaultPrecedence()
	rules.Groups[GroupOwner] = [][]string{{SourceATTOM}, {"county"}}
	m := Merge(recs, rules)
	if got := m.Metadata.Provenance["owner.names"]; got != "attom:expandedprofile" {
		t.Errorf("owner.names from %q, want ATTOM by the custom rule", got)
	}
	if !m.Metadata.Simulated {
		t.Error("a merge with simulated data is not labelled simulated")
	}
	if !m.Metadata.FetchedAt.Equal(fetched.AddDate(0, 1, 0)) {
		t.Errorf("FetchedAt = %v, want the newest", m.Metadata.FetchedAt)
	}
}

func BenchmarkMergeFiveRecords(b *testing.B) {
	recs := winonaRecords(b, fetched)
	rules := DefaultPrecedence()
	b.ReportAllocs()
	for b.Loop() {
		Merge(recs, rules)
	}
}

func BenchmarkFromAttomProfile(b *testing.B) {
	ap := loadAttom(b, "expandedprofile.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := FromAttom(EndpointExpandedProfile, ap, fetched, false); err != nil {
			b.Fatal(err)
		}
	}
}
