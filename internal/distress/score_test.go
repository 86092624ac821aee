package distress

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/property"
)

var now = time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC)

func yes() *bool { return ptr(true) }
func no() *bool  { return ptr(false) }

// setters put one factor's input in the given state (Yes, No or Unknown) on a property
// that otherwise knows nothing.
var setters = map[string]func(p *property.Property, state string){
	FactorPreForeclosure: func(p *property.Property, s string) { p.Distress.PreForeclosure = fact(s) },
	FactorAuctionScheduled: func(p *property.Property, s string) {
		switch s {
		case Yes:
			p.Distress.AuctionDate = "2025-07-01"
		case No:
			p.Distress.AuctionDate = "2025-05-01" // held already
		}
	},
	FactorBankOwned:       func(p *property.Property, s string) { p.Distress.BankOwned = fact(s) },
	FactorAbsenteeOwner:   func(p *property.Property, s string) { p.Owner.Absentee = fact(s) },
	FactorOutOfStateOwner: func(p *property.Property, s string) { p.Owner.OutOfState = fact(s) },
	FactorHighEquity: func(p *property.Property, s string) {
		switch s {
		case Yes:
			p.Valuation.AVMValue, p.Valuation.EstimatedEquity = ptr(400000.0), ptr(200000.0) // 50%
		case No:
			p.Valuation.AVMValue, p.Valuation.EstimatedEquity = ptr(400000.0), ptr(199000.0)
		}
	},
	FactorFreeAndClear: func(p *property.Property, s string) { p.Distress.FreeAndClear = fact(s) },
	FactorLongOwnership: func(p *property.Property, s string) {
		switch s {
		case Yes:
			p.Valuation.LastSaleDate = "2013-06-01" // 12 years
		case No:
			p.Valuation.LastSaleDate = "2020-06-01"
		}
	},
	FactorDeceasedOwner: func(p *property.Property, s string) { p.Owner.Deceased = fact(s) },
	FactorCorporateOrTrustOwner: func(p *property.Property, s string) {
		switch s {
		case Yes:
			p.Owner.Corporate, p.Owner.Trust = no(), yes()
		case No:
			p.Owner.Corporate, p.Owner.Trust = no(), no()
		default:
			p.Owner.Corporate = no() // one flag known false, the other unknown
		}
	},
	FactorRecentQuitClaim: func(p *property.Property, s string) {
		p.Distress.RecentQuitClaim = fact(s)
		if s == Yes {
			p.Valuation.LastSaleDate = "2024-09-15"
		}
	},
	FactorTaxDelinquent: func(p *property.Property, s string) { p.Distress.TaxDelinquent = fact(s) },
	FactorVacant:        func(p *property.Property, s string) { p.Distress.Vacant = fact(s) },
}

func fact(state string) *bool {
	switch state {
	case Yes:
		return yes()
	case No:
		return no()
	}
	return nil
}

func pointsOf(w Weights, factor string) float64 {
	return map[string]float64{
		FactorPreForeclosure: w.PreForeclosure, FactorAuctionScheduled: w.AuctionScheduled,
		FactorBankOwned: w.BankOwned, FactorAbsenteeOwner: w.AbsenteeOwner,
		FactorOutOfStateOwner: w.OutOfStateOwner, FactorHighEquity: w.HighEquity,
		FactorFreeAndClear: w.FreeAndClear, FactorLongOwnership: w.LongOwnership,
		FactorDeceasedOwner: w.DeceasedOwner, FactorCorporateOrTrustOwner: w.CorporateOrTrustOwner,
		FactorRecentQuitClaim: w.RecentQuitClaim, FactorTaxDelinquent: w.TaxDelinquent,
		FactorVacant: w.Vacant,
	}[factor]
}

func factorNamed(t *testing.T, r Result, name string) Factor {
	t.Helper()
	for _, f := range r.Factors {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("no factor %s in %+v", name, r.Factors)
	return Factor{}
}

func TestEveryFactorYesNoUnknown(t *testing.T) {
	w := DefaultWeights()
	for name, set := range setters {
		for _, state := range []string{Yes, No, Unknown} {
			t.Run(name+"/"+state, func(t *testing.T) {
				var p property.Property
				set(&p, state)
				r := Score(p, w, now)
				f := factorNamed(t, r, name)
				if f.State != state {
					t.Fatalf("state = %q, want %q (detail %q)", f.State, state, f.Detail)
				}
				wantPoints := 0.0
				if state == Yes {
					wantPoints = pointsOf(w, name)
				}
				if f.Points != wantPoints {
					t.Errorf("points = %v, want %v", f.Points, wantPoints)
				}
				equity := name == FactorHighEquity || name == FactorFreeAndClear
				wantMult := 1.0
				if equity && state == Yes {
					wantMult = w.EquityMultiplier
				}
				if r.Multiplier != wantMult {
					t.Errorf("multiplier = %v, want %v", r.Multiplier, wantMult)
				}
				if name == FactorFreeAndClear && state == Yes {
					// Free and clear is 100% equity: high equity holds as well.
					wantPoints += w.HighEquity
				}
				if want := int(math.Round(wantPoints * wantMult)); r.Score != want {
					t.Errorf("score = %d, want %d", r.Score, want)
				}
			})
		}
	}
	if len(setters) != len(Score(property.Property{}, w, now).Factors) {
		t.Errorf("the table covers %d factors, Score reports %d", len(setters), len(Score(property.Property{}, w, now).Factors))
	}
}

func TestUnknownPropertyScoresZeroInStableOrder(t *testing.T) {
	r := Score(property.Property{}, DefaultWeights(), now)
	want := []string{
		FactorPreForeclosure, FactorAuctionScheduled, FactorBankOwned, FactorAbsenteeOwner,
		FactorOutOfStateOwner, FactorHighEquity, FactorFreeAndClear, FactorLongOwnership,
		FactorDeceasedOwner, FactorCorporateOrTrustOwner, FactorRecentQuitClaim,
		FactorTaxDelinquent, FactorVacant,
	}
	if r.Score != 0 || r.Multiplier != 1 {
		t.Errorf("score %d x%v, want 0 x1", r.Score, r.Multiplier)
	}
	for i, f := range r.Factors {
		if f.Name != want[i] || f.State != Unknown {
			t.Errorf("factor %d = %s/%s, want %s/unknown", i, f.Name, f.State, want[i])
		}
	}
}

func TestScoreExamples(t *testing.T) {
	w := DefaultWeights()
	tests := []struct {
		name      string
		build     func(p *property.Property)
		wantScore int
		wantMult  float64
	}{
		{
			name: "absentee out-of-state owner with 60% equity: (10+10+15) x 1.2 = 42",
			build: func(p *property.Property) {
				p.Owner.Absentee, p.Owner.OutOfState = yes(), yes()
				p.Valuation.MarketTotal, p.Valuation.EstimatedEquity = ptr(300000.0), ptr(180000.0)
			},
			wantScore: 42, wantMult: 1.2,
		},
		{
			name: "same owner with 30% equity: 10+10 = 20, no multiplier",
			build: func(p *property.Property) {
				p.Owner.Absentee, p.Owner.OutOfState = yes(), yes()
				p.Valuation.MarketTotal, p.Valuation.EstimatedEquity = ptr(300000.0), ptr(90000.0)
			},
			wantScore: 20, wantMult: 1,
		},
		{
			name: "very long ownership tier replaces the long tier: 15",
			build: func(p *property.Property) {
				p.Valuation.LastSaleDate = "2001-11-30"
			},
			wantScore: 15, wantMult: 1,
		},
		{
			name: "old quit claim re-checked at scoring time: 0",
			build: func(p *property.Property) {
				p.Distress.RecentQuitClaim = yes()
				p.Valuation.LastSaleDate = "2022-01-01"
			},
			wantScore: 0, wantMult: 1,
		},
		{
			name: "everything at once is capped at 100",
			build: func(p *property.Property) {
				for _, set := range setters {
					set(p, Yes)
				}
				p.Valuation.LastSaleDate = "2024-09-15" // the quit claim wins the shared date
			},
			wantScore: 100, wantMult: 1.2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p property.Property
			tc.build(&p)
			r := Score(p, w, now)
			if r.Score != tc.wantScore || r.Multiplier != tc.wantMult {
				t.Errorf("score %d x%v, want %d x%v; factors %+v", r.Score, r.Multiplier, tc.wantScore, tc.wantMult, r.Factors)
			}
		})
	}
}

func TestScoreRoundsHalfUp(t *testing.T) {
	w := DefaultWeights()
	w.AbsenteeOwner = 10.5
	var p property.Property
	p.Owner.Absentee = yes()
	if r := Score(p, w, now); r.Score != 11 {
		t.Errorf("score = %d, want 11", r.Score)
	}
}

func TestScoreDetailsExplain(t *testing.T) {
	var p property.Property
	p.Distress.PreForeclosure, p.Distress.ForeclosureStage, p.Distress.FilingDate = yes(), "NOD", "2025-02-03"
	p.Valuation.LastSaleDate = "2013-06-01"
	r := Score(p, DefaultWeights(), now)
	if d := factorNamed(t, r, FactorPreForeclosure).Detail; d != "NOD recorded 2025-02-03" {
		t.Errorf("pre-foreclosure detail %q", d)
	}
	if d := factorNamed(t, r, FactorLongOwnership).Detail; !strings.Contains(d, "owned 12.03 years") || !strings.Contains(d, "10+ tier") {
		t.Errorf("ownership detail %q", d)
	}
}

func BenchmarkScore(b *testing.B) {
	var p property.Property
	for _, set := range setters {
		set(&p, Yes)
	}
	w := DefaultWeights()
	b.ReportAllocs()
	for b.Loop() {
		Score(p, w, now)
	}
}

// TestDocumentedExample keeps docs/distress-score.md's worked example true.
func TestDocumentedExample(t *testing.T) {
	build := func(loan float64) property.Property {
		var p property.Property
		p.Address.State = "CO"
		p.Owner.Absentee, p.Owner.OutOfState = yes(), yes()
		p.Owner.Corporate, p.Owner.Trust, p.Owner.Deceased = no(), no(), no()
		p.Distress.PreForeclosure, p.Distress.AuctionScheduled = no(), no()
		p.Distress.BankOwned, p.Distress.RecentQuitClaim, p.Distress.FreeAndClear = no(), no(), no()
		p.Valuation.AVMValue = ptr(612000.0)
		p.Valuation.MortgageBalance = ptr(loan)
		p.Valuation.EstimatedEquity = ptr(612000 - loan)
		p.Valuation.LastSaleDate = "2009-03-15"
		return p
	}
	r := Score(build(120000), DefaultWeights(), now)
	if r.Score != 60 || r.Multiplier != 1.2 {
		t.Errorf("example scores %d x%v, the doc says 60 x1.2", r.Score, r.Multiplier)
	}
	states := map[string]string{}
	for _, f := range r.Factors {
		states[f.Name] = f.State
	}
	if states[FactorTaxDelinquent] != Unknown || states[FactorVacant] != Unknown || states[FactorLongOwnership] != Yes {
		t.Errorf("states %v", states)
	}
	if d := factorNamed(t, r, FactorHighEquity).Detail; !strings.Contains(d, "80.39%") {
		t.Errorf("equity detail %q", d)
	}
	if r := Score(build(400000), DefaultWeights(), now); r.Score != 35 || r.Multiplier != 1 {
		t.Errorf("low-equity example scores %d x%v, the doc says 35 x1", r.Score, r.Multiplier)
	}
}
