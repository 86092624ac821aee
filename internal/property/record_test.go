package property

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func countyRow() map[string]string {
	return map[string]string{
		"Address": "4529 Winona Ct", "City": "Denver", "State": "CO", "ZIP": "80212",
		"Owner Name": "  DOE JANE Q  ", "mailing-address": "500 W MAIN ST, BOISE, ID 83702",
		"assessed_value": "$35,350", "market_value": "520,000", "year_built": "1900",
		"beds": "3", "baths": "2.5", "sqft": "1,622", "last_sale_date": "03/15/2009",
		"last_sale_amount": "210000", "tax_delinquent": "Y", "vacant": "", "mortgage_balance": "120000",
		"apn": "0524412017000", "notes": "ignored column",
	}
}

func TestFromRecord(t *testing.T) {
	at := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	p, err := FromRecord("county:denver", countyRow(), at)
	if err != nil {
		t.Fatal(err)
	}
	checkPaths(t, p, map[string]any{
		"address.line1": "4529 WINONA CT", "address.city": "DENVER", "address.state": "CO", "address.zip5": "80212",
		"owner.names": []any{"DOE JANE Q"}, "owner.corporate": false, "owner.trust": false,
		"owner.mailing_address": "500 W MAIN ST, BOISE, ID 83702", "owner.out_of_state": true,
		"owner.absentee":           nil,
		"valuation.assessed_total": 35350.0, "valuation.market_total": 520000.0,
		"valuation.last_sale_date": "2009-03-15", "valuation.last_sale_amount": 210000.0,
		"valuation.mortgage_balance": 120000.0, "valuation.estimated_equity": 400000.0,
		"characteristics.baths": 2.5, "characteristics.living_area_sqft": 1622.0,
		"characteristics.year_built": 1900.0,
		"distress.tax_delinquent":    true, "distress.vacant": nil, "distress.free_and_clear": false,
		"metadata.sources": []any{"county:denver"},
	})
	checkIdentity(t, p)
	if p.Metadata.SourceIDs["county:denver"] != "0524412017000" {
		t.Errorf("SourceIDs = %v, want the APN", p.Metadata.SourceIDs)
	}
	if got := p.Metadata.Provenance["valuation.market_total"]; got != "county:denver" {
		t.Errorf("provenance = %q", got)
	}
}

func TestFromRecordErrorsNameTheField(t *testing.T) {
	tests := []struct {
		column, value, wantField string
	}{
		{"assessed_value", "12x", "assessed_value"},
		{"market_value", "NaN", "market_value"},
		{"last_sale_date", "2009-13-45", "last_sale_date"},
		{"year_built", "19.5", "year_built"},
		{"tax_delinquent", "maybe", "tax_delinquent"},
		{"Beds", "three", "beds"},
		{"address", "   ", "address"},
	}
	t.Run("duplicate header", func(t *testing.T) {
		row := countyRow()
		row["CITY"] = "Boulder"
		_, err := FromRecord("county:denver", row, time.Now())
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "city" {
			t.Fatalf("err = %v, want a FieldError on city", err)
		}
	})
	for _, tc := range tests {
		t.Run(tc.column, func(t *testing.T) {
			row := countyRow()
			for k := range row {
				if canonicalColumn(k) == canonicalColumn(tc.column) {
					delete(row, k)
				}
			}
			row[tc.column] = tc.value
			_, err := FromRecord("county:denver", row, time.Now())
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.wantField {
				t.Fatalf("err = %v, want a FieldError on %s", err, tc.wantField)
			}
			if !strings.Contains(err.Error(), tc.wantField) || !strings.Contains(err.Error(), "county:denver") {
				t.Errorf("message %q does not name source and field", err)
			}
		})
	}
}

func TestOwnershipYears(t *testing.T) {
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		date string
		want *float64
	}{
		{"2015-06-01", ptr(10.0)},
		{"2024-12-01", ptr(0.5)},
		{"", nil},
		{"garbage", nil},
		{"2030-01-01", nil},
	}
	for _, tc := range tests {
		var p Property
		p.Valuation.LastSaleDate = tc.date
		got := OwnershipYears(p, now)
		if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
			t.Errorf("%q: got %v, want %v", tc.date, deref(got), deref(tc.want))
		}
	}
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

func TestEquityPercent(t *testing.T) {
	tests := []struct {
		name string
		v    Valuation
		d    Distress
		want *float64
	}{
		{"equity over AVM", Valuation{AVMValue: ptr(400000.0), MarketTotal: ptr(1.0), EstimatedEquity: ptr(100000.0)}, Distress{}, ptr(25.0)},
		{"equity over market total", Valuation{MarketTotal: ptr(200000.0), EstimatedEquity: ptr(150000.0)}, Distress{}, ptr(75.0)},
		{"from LTV", Valuation{LTV: ptr(40.0)}, Distress{}, ptr(60.0)},
		{"free and clear", Valuation{}, Distress{FreeAndClear: ptr(true)}, ptr(100.0)},
		{"unknown", Valuation{AVMValue: ptr(1.0)}, Distress{FreeAndClear: ptr(false)}, nil},
	}
	for _, tc := range tests {
		got := Property{Valuation: tc.v, Distress: tc.d}.EquityPercent()
		if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, deref(got), deref(tc.want))
		}
	}
}
