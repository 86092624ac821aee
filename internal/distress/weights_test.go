package distress

import (
	"math"
	"strings"
	"testing"
)

func TestDefaultWeightsAreValid(t *testing.T) {
	if err := DefaultWeights().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestWeightsValidate(t *testing.T) {
	tests := []struct {
		name    string
		change  func(w *Weights)
		wantKey string
	}{
		{"negative points", func(w *Weights) { w.Vacant = -1 }, "vacant"},
		{"points above the cap", func(w *Weights) { w.PreForeclosure = 101 }, "pre_foreclosure"},
		{"NaN points", func(w *Weights) { w.TaxDelinquent = math.NaN() }, "tax_delinquent"},
		{"zero equity threshold", func(w *Weights) { w.HighEquityPercent = 0 }, "high_equity_percent"},
		{"equity threshold above 100", func(w *Weights) { w.HighEquityPercent = 120 }, "high_equity_percent"},
		{"zero ownership years", func(w *Weights) { w.LongOwnershipYears = 0 }, "long_ownership_years"},
		{"tiers out of order", func(w *Weights) { w.VeryLongOwnershipYears = 10 }, "very_long_ownership_years"},
		{"zero quit-claim window", func(w *Weights) { w.QuitClaimRecentYears = 0 }, "quit_claim_recent_years"},
		{"multiplier below 1", func(w *Weights) { w.EquityMultiplier = 0.9 }, "equity_multiplier"},
		{"multiplier NaN", func(w *Weights) { w.EquityMultiplier = math.NaN() }, "equity_multiplier"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := DefaultWeights()
			tc.change(&w)
			err := w.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.wantKey+" =") {
				t.Fatalf("err = %v, want one naming %s", err, tc.wantKey)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	w := DefaultWeights()
	w.Vacant, w.EquityMultiplier = -1, 0
	err := w.Validate()
	if err == nil || !strings.Contains(err.Error(), "vacant") || !strings.Contains(err.Error(), "equity_multiplier") {
		t.Fatalf("err = %v, want both problems", err)
	}
}

func TestParseWeights(t *testing.T) {
	w, err := ParseWeights([]byte(`{"vacant": 30, "equity_multiplier": 1.5}`))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultWeights()
	want.Vacant, want.EquityMultiplier = 30, 1.5
	if w != want {
		t.Errorf("got %+v, want defaults with two overrides %+v", w, want)
	}
	for _, bad := range []string{`{"vacnat": 30}`, `{"vacant": -3}`, `{"vacant": "high"}`, `[`} {
		if _, err := ParseWeights([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
