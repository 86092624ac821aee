package property

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/address"
	"github.com/leadflow/attom-batch/internal/attom"
)

var fetched = time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC)

// loadAttom reads the first property of an ATTOM response fixture.
func loadAttom(t testing.TB, name string) attom.Property {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var resp attom.Response
	if err := json.Unmarshal(raw, &resp); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(resp.Property) == 0 {
		t.Fatalf("%s: no property", name)
	}
	return resp.Property[0]
}

// jsonPath reads a dotted path ("valuation.avm_value") from p's JSON form, the form stores
// and exports see. A field the JSON omits (unknown) reads as nil.
func jsonPath(t *testing.T, p Property, path string) any {
	t.Helper()
	raw, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	for _, part := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[part]
	}
	return v
}

func checkPaths(t *testing.T, p Property, want map[string]any) {
	t.Helper()
	for path, w := range want {
		if got := jsonPath(t, p, path); !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %#v, want %#v", path, got, w)
		}
	}
}

func TestFromAttomFixtures(t *testing.T) {
	tests := []struct {
		name      string
		fixture   string
		endpoint  string
		fetchedAt time.Time
		want      map[string]any
	}{
		{
			name: "expanded profile, camelCase, owner and mortgage inside assessment", fixture: "expandedprofile.json",
			endpoint: EndpointExpandedProfile, fetchedAt: fetched,
			want: map[string]any{
				"address.line1": "4529 WINONA CT", "address.city": "DENVER", "address.state": "CO",
				"address.zip5": "80212", "address.zip4": "2512",
				"location.latitude": 39.778669, "location.longitude": -105.047091,
				"characteristics.beds": 3.0, "characteristics.baths": 2.0,
				"characteristics.living_area_sqft": 1622.0, "characteristics.lot_acres": 0.1433,
				"characteristics.lot_sqft": 6243.0, "characteristics.year_built": 1900.0,
				"characteristics.property_type": "SFR", "characteristics.fips": "08031",
				"characteristics.apn":      "0524412017000",
				"valuation.assessed_total": 35350.0, "valuation.market_total": 494000.0,
				"valuation.tax_amount": 2752.02, "valuation.tax_year": 2024.0,
				"valuation.last_sale_amount": 0.0, "valuation.last_sale_date": "2024-09-15",
				"valuation.mortgage_balance": 300000.0, "valuation.estimated_equity": 194000.0,
				"valuation.ltv": 60.73, "valuation.avm_value": nil,
				"owner.names":     []any{"JANE Q DOE", "JOHN DOE TRUSTEE"},
				"owner.corporate": false, "owner.trust": true, "owner.deceased": false,
				"owner.absentee":        true,
				"owner.mailing_address": "PO BOX 1234, PHOENIX, AZ 85001-1234",
				"owner.mailing":         nil, // a PO box stays raw
				"owner.out_of_state":    true,
				"distress.bank_owned":   false, "distress.recent_quit_claim": true,
				"distress.pre_foreclosure": nil, "distress.free_and_clear": false,
				"metadata.sources":            []any{"attom"},
				"metadata.source_ids.attom":   "184713191",
				"metadata.simulated":          true,
				"metadata.schema_version":     1.0,
				"metadata.provenance.address": "attom:expandedprofile",
			},
		},
		{
			name: "AVM detail, lower-case leaf names and string numbers", fixture: "avm_detail.json",
			endpoint: EndpointAVM, fetchedAt: fetched,
			want: map[string]any{
				"address.line1": "4529 WINONA CT", "address.state": "CO", "address.zip4": "2512",
				"valuation.avm_value": 612000.0, "valuation.avm_high": 680000.0, "valuation.avm_low": 550000.0,
				"valuation.avm_confidence": 88.0, "valuation.avm_date": "2025-05-20",
				"characteristics.year_built": 1900.0, "characteristics.property_type": "SFR",
				"characteristics.property_class": "Single Family Residence / Townhouse",
				"distress.bank_owned":            nil, "distress.recent_quit_claim": nil,
				"valuation.estimated_equity": nil, "owner.names": nil, "owner.absentee": nil,
				"metadata.source_ids.attom": "184713191",
			},
		},
		{
			name: "home equity: a zero balance is free and clear", fixture: "homeequity.json",
			endpoint: EndpointHomeEquity, fetchedAt: fetched,
			want: map[string]any{
				"valuation.mortgage_balance": 0.0, "valuation.estimated_equity": 612000.0,
				"valuation.ltv": 0.0, "distress.free_and_clear": true, "owner.out_of_state": nil,
			},
		},
		{
			name: "corporate REO owner, blank second owner, null loan amount", fixture: "expandedprofile_corporate.json",
			endpoint: EndpointExpandedProfile, fetchedAt: fetched,
			want: map[string]any{
				"address.zip5": "78703", "address.zip4": nil,
				"owner.names":     []any{"FEDERAL NATIONAL MORTGAGE ASSOCIATION"},
				"owner.corporate": true, "owner.trust": false, "owner.deceased": false,
				"owner.absentee": false, "owner.out_of_state": false,
				"distress.bank_owned": true, "distress.recent_quit_claim": false,
				"valuation.mortgage_balance": nil, "distress.free_and_clear": nil,
				"characteristics.year_built": nil, "valuation.last_sale_amount": 185000.0,
				"valuation.last_sale_date": "2010-08-02",
			},
		},
		{
			name: "estate owner, names from parts, old quit claim, paid off", fixture: "expandedprofile_estate.json",
			endpoint: EndpointExpandedProfile, fetchedAt: fetched,
			want: map[string]any{
				"owner.names":    []any{"MARY SMITH", "ESTATE OF ROBERT SMITH"},
				"owner.deceased": true, "owner.corporate": false, "owner.trust": false,
				"owner.absentee": false, "owner.out_of_state": false,
				"valuation.mortgage_balance": 0.0, "distress.free_and_clear": true,
				"valuation.estimated_equity": 210000.0, "valuation.ltv": 0.0,
				"distress.recent_quit_claim": false,
			},
		},
		{
			name: "missing blocks stay unknown", fixture: "expandedprofile_sparse.json",
			endpoint: EndpointExpandedProfile, fetchedAt: fetched,
			want: map[string]any{
				"address.line1": "12 ELM ST", "address.city": "SPRINGFIELD",
				"owner.names": nil, "owner.corporate": nil, "owner.trust": nil, "owner.deceased": nil,
				"owner.absentee": nil, "owner.out_of_state": nil,
				"distress.bank_owned": nil, "distress.recent_quit_claim": nil,
				"distress.pre_foreclosure": nil, "distress.free_and_clear": nil,
				"valuation.market_total": nil, "location": nil,
				"metadata.source_ids.attom": "77700042", "metadata.simulated": nil,
			},
		},
		{
			name: "pre-foreclosure: newest open filing, future auction", fixture: "preforeclosure.json",
			endpoint: EndpointPreforeclosure, fetchedAt: fetched,
			want: map[string]any{
				"distress.pre_foreclosure": true, "distress.foreclosure_stage": "NTS",
				"distress.filing_date": "2025-04-10", "distress.auction_date": "2025-07-15",
				"distress.auction_scheduled": true,
			},
		},
		{
			name: "pre-foreclosure: auction already held", fixture: "preforeclosure.json",
			endpoint: EndpointPreforeclosure, fetchedAt: time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC),
			want: map[string]any{
				"distress.pre_foreclosure": true, "distress.auction_scheduled": false,
			},
		},
		{
			name: "pre-foreclosure endpoint with no filing says no", fixture: "preforeclosure_none.json",
			endpoint: EndpointPreforeclosure, fetchedAt: fetched,
			want: map[string]any{
				"distress.pre_foreclosure": false, "distress.auction_scheduled": false,
				"distress.foreclosure_stage": nil,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			simulated := tc.fixture == "expandedprofile.json"
			p, err := FromAttom(tc.endpoint, loadAttom(t, tc.fixture), tc.fetchedAt, simulated)
			if err != nil {
				t.Fatal(err)
			}
			checkPaths(t, p, tc.want)
			checkIdentity(t, p)
			if got := p.Metadata.Provenance["address"]; got != ATTOMOrigin(tc.endpoint) {
				t.Errorf("provenance[address] = %q, want %q", got, ATTOMOrigin(tc.endpoint))
			}
			if !p.Metadata.FetchedAt.Equal(tc.fetchedAt) {
				t.Errorf("FetchedAt = %v", p.Metadata.FetchedAt)
			}
		})
	}
}

// checkIdentity: Key and Hash come from the address, as every source must compute them.
func checkIdentity(t *testing.T, p Property) {
	t.Helper()
	if p.Key != p.Address.Key() || p.Hash != address.Hash(p.Key) {
		t.Errorf("Key/Hash = %q/%q, want %q/%q", p.Key, p.Hash, p.Address.Key(), address.Hash(p.Address.Key()))
	}
}

func TestFromAttomProvenance(t *testing.T) {
	p, err := FromAttom(EndpointExpandedProfile, loadAttom(t, "expandedprofile.json"), fetched, false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"valuation.market_total":     "attom:expandedprofile",
		"valuation.mortgage_balance": "attom:expandedprofile",
		"owner.names":                "attom:expandedprofile",
		"valuation.estimated_equity": DerivedOrigin,
		"valuation.ltv":              DerivedOrigin,
		"owner.out_of_state":         DerivedOrigin,
		"distress.free_and_clear":    DerivedOrigin,
	}
	for path, w := range want {
		if got := p.Metadata.Provenance[path]; got != w {
			t.Errorf("provenance[%s] = %q, want %q", path, got, w)
		}
	}
	if _, ok := p.Metadata.Provenance["valuation.avm_value"]; ok {
		t.Error("provenance names a field the record does not know")
	}

	he, err := FromAttom(EndpointHomeEquity, loadAttom(t, "homeequity.json"), fetched, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := he.Metadata.Provenance["valuation.estimated_equity"]; got != "attom:homeequity" {
		t.Errorf("reported equity provenance = %q, want attom:homeequity", got)
	}
}

func TestFromAttomSameAddressSameKey(t *testing.T) {
	var keys []string
	for _, c := range []struct{ endpoint, fixture string }{
		{EndpointExpandedProfile, "expandedprofile.json"},
		{EndpointAVM, "avm_detail.json"},
		{EndpointHomeEquity, "homeequity.json"},
	} {
		p, err := FromAttom(c.endpoint, loadAttom(t, c.fixture), fetched, false)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, p.Key)
	}
	if keys[0] != keys[1] || keys[1] != keys[2] {
		t.Errorf("endpoints of one property gave different keys: %q", keys)
	}
	// The input row that asked for it, spelt the way a person writes it, has the same key.
	in, err := address.Normalize(address.Input{Line1: "4529 Winona Court", City: "denver", State: "co", ZIP: "80212"})
	if err != nil {
		t.Fatal(err)
	}
	if in.Key() != keys[0] {
		t.Errorf("input key %q, ATTOM key %q", in.Key(), keys[0])
	}
}

func TestFromAttomErrors(t *testing.T) {
	good := loadAttom(t, "expandedprofile_sparse.json")
	noAddress := good
	noAddress.Address = attom.Address{}
	poBox := good
	poBox.Address.Line1 = "PO BOX 12"
	tests := []struct {
		name      string
		endpoint  string
		p         attom.Property
		wantField string
	}{
		{"unknown endpoint", "salehistory", good, "endpoint"},
		{"no address", EndpointAVM, noAddress, "address"},
		{"normalizer rejects the address", EndpointAVM, poBox, "address"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromAttom(tc.endpoint, tc.p, fetched, false)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.wantField {
				t.Fatalf("err = %v, want a FieldError on %s", err, tc.wantField)
			}
		})
	}
}

func TestQuitClaimWindowFromOptions(t *testing.T) {
	ap := loadAttom(t, "expandedprofile.json") // quit claim 2024-09-15, fetched 2025-06-10
	tests := []struct {
		years float64
		want  bool
	}{{2, true}, {0.5, false}, {1, true}}
	for _, tc := range tests {
		p, err := Options{QuitClaimRecentYears: tc.years}.FromAttom(EndpointExpandedProfile, ap, fetched, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Distress.RecentQuitClaim; got == nil || *got != tc.want {
			t.Errorf("window %v years: RecentQuitClaim = %v, want %v", tc.years, got, tc.want)
		}
	}
}

func TestOwnerClassification(t *testing.T) {
	tests := []struct {
		names                      []string
		indicator                  string
		corporate, trust, deceased *bool
	}{
		{[]string{"ACME HOLDINGS, L.L.C."}, "", ptr(true), ptr(false), ptr(false)},
		{[]string{"FIRST NATIONAL BANK"}, "", ptr(true), ptr(false), ptr(false)},
		{[]string{"SMITH FAMILY LIVING TRUST"}, "", ptr(false), ptr(true), ptr(false)},
		{[]string{"JONES MARY TR"}, "", ptr(false), ptr(true), ptr(false)},
		{[]string{"TRAN MINH"}, "", ptr(false), ptr(false), ptr(false)}, // TR only as a word
		{[]string{"HEIRS OF JOHN DOE"}, "", ptr(false), ptr(false), ptr(true)},
		{[]string{"DOE JOHN (DECEASED)"}, "", ptr(false), ptr(false), ptr(true)},
		{[]string{"PLAIN PERSON"}, "Y", ptr(true), ptr(false), ptr(false)},
		{nil, "N", ptr(false), nil, nil},
		{nil, "", nil, nil, nil},
	}
	for _, tc := range tests {
		var o Owner
		o.Names = tc.names
		classifyOwner(&o, tc.indicator)
		if !reflect.DeepEqual(o.Corporate, tc.corporate) || !reflect.DeepEqual(o.Trust, tc.trust) || !reflect.DeepEqual(o.Deceased, tc.deceased) {
			t.Errorf("%q/%q: corporate=%v trust=%v deceased=%v", tc.names, tc.indicator, show(o.Corporate), show(o.Trust), show(o.Deceased))
		}
	}
}

func show(b *bool) string {
	if b == nil {
		return "unknown"
	}
	if *b {
		return "yes"
	}
	return "no"
}
