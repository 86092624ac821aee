package distress

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// MaxScore caps every score: published investor scores are on a 0-100 scale.
const MaxScore = 100

// Weights are the points each factor earns and the thresholds that decide it. They live in
// configuration (the JSON tags are the configuration keys) because each investor weighs
// signals differently; DefaultWeights documents the project's choice.
type Weights struct {
	PreForeclosure        float64 `json:"pre_foreclosure"`
	AuctionScheduled      float64 `json:"auction_scheduled"`
	BankOwned             float64 `json:"bank_owned"`
	AbsenteeOwner         float64 `json:"absentee_owner"`
	OutOfStateOwner       float64 `json:"out_of_state_owner"`
	HighEquity            float64 `json:"high_equity"`
	FreeAndClear          float64 `json:"free_and_clear"`
	LongOwnership         float64 `json:"long_ownership"`      // owned LongOwnershipYears or more
	VeryLongOwnership     float64 `json:"very_long_ownership"` // owned VeryLongOwnershipYears or more (replaces LongOwnership)
	DeceasedOwner         float64 `json:"deceased_owner"`
	CorporateOrTrustOwner float64 `json:"corporate_or_trust_owner"`
	RecentQuitClaim       float64 `json:"recent_quit_claim"`
	TaxDelinquent         float64 `json:"tax_delinquent"`
	Vacant                float64 `json:"vacant"`

	// HighEquityPercent: equity at or above this percent of value is high equity.
	HighEquityPercent float64 `json:"high_equity_percent"`
	// LongOwnershipYears and VeryLongOwnershipYears are the two ownership tiers.
	LongOwnershipYears     float64 `json:"long_ownership_years"`
	VeryLongOwnershipYears float64 `json:"very_long_ownership_years"`
	// QuitClaimRecentYears: a quit claim older than this no longer counts.
	QuitClaimRecentYears float64 `json:"quit_claim_recent_years"`
	// EquityMultiplier multiplies the point total when equity is high or the property is
	// free and clear: equity is what lets a distressed owner sell at a discount.
	EquityMultiplier float64 `json:"equity_multiplier"`
}

// DefaultWeights is the documented default (docs/distress-score.md).
func DefaultWeights() Weights {
	return Weights{
		PreForeclosure:        25,
		AuctionScheduled:      20,
		BankOwned:             15,
		AbsenteeOwner:         10,
		OutOfStateOwner:       10,
		HighEquity:            15,
		FreeAndClear:          10,
		LongOwnership:         10,
		VeryLongOwnership:     15,
		DeceasedOwner:         15,
		CorporateOrTrustOwner: 5,
		RecentQuitClaim:       10,
		TaxDelinquent:         15,
		Vacant:                15,

		HighEquityPercent:      50,
		LongOwnershipYears:     10,
		VeryLongOwnershipYears: 15,
		QuitClaimRecentYears:   2,
		EquityMultiplier:       1.2,
	}
}

// ParseWeights reads a JSON weights object over DefaultWeights, so a configuration file
// names only the keys it changes. Unknown keys are errors (a misspelt key would otherwise
// be silently ignored) and the result is validated.
func ParseWeights(data []byte) (Weights, error) {
	w := DefaultWeights()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return Weights{}, fmt.Errorf("distress weights: %w", err)
	}
	if err := w.Validate(); err != nil {
		return Weights{}, err
	}
	return w, nil
}

// Validate reports every weight that cannot produce a meaningful score, naming each by its
// configuration key.
func (w Weights) Validate() error {
	var errs []error
	bad := func(key string, v float64, reason string) {
		errs = append(errs, fmt.Errorf("distress weights: %s = %v: %s", key, v, reason))
	}
	for _, p := range w.points() {
		if math.IsNaN(p.v) || p.v < 0 || p.v > MaxScore {
			bad(p.key, p.v, fmt.Sprintf("points must be between 0 and %d", MaxScore))
		}
	}
	if !(w.HighEquityPercent > 0 && w.HighEquityPercent <= 100) {
		bad("high_equity_percent", w.HighEquityPercent, "must be above 0 and at most 100")
	}
	if !(w.LongOwnershipYears > 0 && w.LongOwnershipYears <= 100) {
		bad("long_ownership_years", w.LongOwnershipYears, "must be above 0 and at most 100")
	}
	if !(w.VeryLongOwnershipYears > w.LongOwnershipYears && w.VeryLongOwnershipYears <= 100) {
		bad("very_long_ownership_years", w.VeryLongOwnershipYears, "must be above long_ownership_years and at most 100")
	}
	if !(w.QuitClaimRecentYears > 0 && w.QuitClaimRecentYears <= 50) {
		bad("quit_claim_recent_years", w.QuitClaimRecentYears, "must be above 0 and at most 50")
	}
	if !(w.EquityMultiplier >= 1 && w.EquityMultiplier <= 5) {
		bad("equity_multiplier", w.EquityMultiplier, "must be between 1 and 5")
	}
	return errors.Join(errs...)
}

type namedPoints struct {
	key string
	v   float64
}

func (w Weights) points() []namedPoints {
	return []namedPoints{
		{"pre_foreclosure", w.PreForeclosure},
		{"auction_scheduled", w.AuctionScheduled},
		{"bank_owned", w.BankOwned},
		{"absentee_owner", w.AbsenteeOwner},
		{"out_of_state_owner", w.OutOfStateOwner},
		{"high_equity", w.HighEquity},
		{"free_and_clear", w.FreeAndClear},
		{"long_ownership", w.LongOwnership},
		{"very_long_ownership", w.VeryLongOwnership},
		{"deceased_owner", w.DeceasedOwner},
		{"corporate_or_trust_owner", w.CorporateOrTrustOwner},
		{"recent_quit_claim", w.RecentQuitClaim},
		{"tax_delinquent", w.TaxDelinquent},
		{"vacant", w.Vacant},
	}
}
