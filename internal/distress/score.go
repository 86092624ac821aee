package distress

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/leadflow/attom-batch/internal/property"
)

// Factor names, in breakdown order (the order of DESIGN.md section 7). The names are stored
// on every lead, so they never change.
const (
	FactorPreForeclosure        = "pre_foreclosure"
	FactorAuctionScheduled      = "auction_scheduled"
	FactorBankOwned             = "bank_owned"
	FactorAbsenteeOwner         = "absentee_owner"
	FactorOutOfStateOwner       = "out_of_state_owner"
	FactorHighEquity            = "high_equity"
	FactorFreeAndClear          = "free_and_clear"
	FactorLongOwnership         = "long_ownership"
	FactorDeceasedOwner         = "deceased_owner"
	FactorCorporateOrTrustOwner = "corporate_or_trust_owner"
	FactorRecentQuitClaim       = "recent_quit_claim"
	FactorTaxDelinquent         = "tax_delinquent"
	FactorVacant                = "vacant"
)

// Score rates how likely the owner is to sell at a discount: the points of every factor that
// holds, times the equity multiplier when equity is high or the property is free and clear,
// rounded and capped at MaxScore. A factor whose input is unknown earns nothing and is listed
// as unknown, so a low score with many unknowns reads differently from a low score with many
// noes. now decides time-dependent factors (auction still ahead, years owned, quit claim
// still recent), so a stored property can be re-scored later. w is assumed valid
// (Weights.Validate).
func Score(p property.Property, w Weights, now time.Time) Result {
	factors := []Factor{
		preForeclosureFactor(p, w),
		auctionFactor(p, w, now),
		flagFactor(FactorBankOwned, p.Distress.BankOwned, w.BankOwned, ""),
		flagFactor(FactorAbsenteeOwner, p.Owner.Absentee, w.AbsenteeOwner, ""),
		outOfStateFactor(p, w),
		highEquityFactor(p, w),
		flagFactor(FactorFreeAndClear, p.Distress.FreeAndClear, w.FreeAndClear, ""),
		ownershipFactor(p, w, now),
		flagFactor(FactorDeceasedOwner, p.Owner.Deceased, w.DeceasedOwner, ""),
		corporateOrTrustFactor(p, w),
		quitClaimFactor(p, w, now),
		flagFactor(FactorTaxDelinquent, p.Distress.TaxDelinquent, w.TaxDelinquent, ""),
		flagFactor(FactorVacant, p.Distress.Vacant, w.Vacant, ""),
	}
	total := 0.0
	multiplier := 1.0
	for _, f := range factors {
		total += f.Points
		if (f.Name == FactorHighEquity || f.Name == FactorFreeAndClear) && f.State == Yes {
			multiplier = w.EquityMultiplier
		}
	}
	score := math.Round(total * multiplier)
	return Result{Score: int(math.Min(score, MaxScore)), Multiplier: multiplier, Factors: factors}
}

// flagFactor turns a known/unknown fact into a factor.
func flagFactor(name string, fact *bool, points float64, detail string) Factor {
	switch {
	case fact == nil:
		return Factor{Name: name, State: Unknown, Detail: detail}
	case *fact:
		return Factor{Name: name, State: Yes, Points: points, Detail: detail}
	default:
		return Factor{Name: name, State: No, Detail: detail}
	}
}

func preForeclosureFactor(p property.Property, w Weights) Factor {
	d := p.Distress
	detail := ""
	if d.PreForeclosure != nil && *d.PreForeclosure && d.ForeclosureStage != "" {
		detail = d.ForeclosureStage
		if d.FilingDate != "" {
			detail += " recorded " + d.FilingDate
		}
	}
	return flagFactor(FactorPreForeclosure, d.PreForeclosure, w.PreForeclosure, detail)
}

// auctionFactor re-reads the auction date against now: an auction that was ahead when ATTOM
// answered may have been held since.
func auctionFactor(p property.Property, w Weights, now time.Time) Factor {
	d := p.Distress
	if auction, err := time.Parse(time.DateOnly, d.AuctionDate); err == nil {
		today := now.UTC().Truncate(24 * time.Hour)
		ahead := !auction.Before(today)
		detail := "auction " + d.AuctionDate
		if !ahead {
			detail += " has passed"
		}
		return flagFactor(FactorAuctionScheduled, &ahead, w.AuctionScheduled, detail)
	}
	return flagFactor(FactorAuctionScheduled, d.AuctionScheduled, w.AuctionScheduled, "")
}

func outOfStateFactor(p property.Property, w Weights) Factor {
	detail := ""
	if p.Owner.OutOfState != nil && *p.Owner.OutOfState {
		detail = "mailing address " + mailingOf(p.Owner)
	}
	return flagFactor(FactorOutOfStateOwner, p.Owner.OutOfState, w.OutOfStateOwner, detail)
}

func mailingOf(o property.Owner) string {
	if o.Mailing != nil {
		return o.Mailing.OneLine()
	}
	return o.MailingAddress
}

func highEquityFactor(p property.Property, w Weights) Factor {
	pct := p.EquityPercent()
	if pct == nil {
		return Factor{Name: FactorHighEquity, State: Unknown}
	}
	high := *pct >= w.HighEquityPercent
	detail := fmt.Sprintf("equity %s%% (threshold %s%%)", num(*pct), num(w.HighEquityPercent))
	return flagFactor(FactorHighEquity, &high, w.HighEquity, detail)
}

// ownershipFactor has two tiers; the longer one replaces the shorter one's points.
func ownershipFactor(p property.Property, w Weights, now time.Time) Factor {
	years := property.OwnershipYears(p, now)
	if years == nil {
		return Factor{Name: FactorLongOwnership, State: Unknown}
	}
	detail := fmt.Sprintf("owned %s years since %s", num(*years), p.Valuation.LastSaleDate)
	switch {
	case *years >= w.VeryLongOwnershipYears:
		return Factor{Name: FactorLongOwnership, State: Yes, Points: w.VeryLongOwnership, Detail: detail + fmt.Sprintf(" (%s+ tier)", num(w.VeryLongOwnershipYears))}
	case *years >= w.LongOwnershipYears:
		return Factor{Name: FactorLongOwnership, State: Yes, Points: w.LongOwnership, Detail: detail + fmt.Sprintf(" (%s+ tier)", num(w.LongOwnershipYears))}
	default:
		return Factor{Name: FactorLongOwnership, State: No, Detail: detail}
	}
}

// corporateOrTrustFactor holds when either flag is yes, fails when both are no, and is
// unknown otherwise.
func corporateOrTrustFactor(p property.Property, w Weights) Factor {
	c, t := p.Owner.Corporate, p.Owner.Trust
	var fact *bool
	detail := ""
	switch {
	case c != nil && *c:
		fact, detail = ptr(true), "corporate owner"
	case t != nil && *t:
		fact, detail = ptr(true), "trust owner"
	case c != nil && t != nil:
		fact = ptr(false)
	}
	return flagFactor(FactorCorporateOrTrustOwner, fact, w.CorporateOrTrustOwner, detail)
}

// quitClaimFactor re-checks a recent quit claim against now and QuitClaimRecentYears, so a
// property scored long after it was fetched does not keep an old transfer as recent.
func quitClaimFactor(p property.Property, w Weights, now time.Time) Factor {
	qc := p.Distress.RecentQuitClaim
	if qc == nil || !*qc || p.Valuation.LastSaleDate == "" {
		return flagFactor(FactorRecentQuitClaim, qc, w.RecentQuitClaim, "")
	}
	years := property.OwnershipYears(p, now)
	if years != nil && *years > w.QuitClaimRecentYears {
		return Factor{Name: FactorRecentQuitClaim, State: No,
			Detail: fmt.Sprintf("quit claim %s is older than %s years", p.Valuation.LastSaleDate, num(w.QuitClaimRecentYears))}
	}
	return flagFactor(FactorRecentQuitClaim, qc, w.RecentQuitClaim, "quit claim "+p.Valuation.LastSaleDate)
}

// num prints a number without trailing zeros: 62.5, 10, 0.25.
func num(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) }

func ptr[T any](v T) *T { return &v }
