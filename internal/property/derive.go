package property

import (
	"math"
	"regexp"
	"strings"
	"time"
)

// Value is the best estimate of what the property is worth: the AVM value when known, else
// the assessor's market total. Leads and the distress score use the same figure.
func (p Property) Value() *float64 {
	if p.Valuation.AVMValue != nil {
		return p.Valuation.AVMValue
	}
	return p.Valuation.MarketTotal
}

// EquityPercent is equity as a percent of value: from the estimated equity and Value when
// both are known, else 100 - LTV, else 100 when free and clear; nil when nothing says.
func (p Property) EquityPercent() *float64 {
	v := p.Value()
	if eq := p.Valuation.EstimatedEquity; eq != nil && v != nil && *v > 0 {
		return ptr(round2(*eq / *v * 100))
	}
	if ltv := p.Valuation.LTV; ltv != nil {
		return ptr(round2(100 - *ltv))
	}
	if fc := p.Distress.FreeAndClear; fc != nil && *fc {
		return ptr(100.0)
	}
	return nil
}

// OwnershipYears says how long the current owner has held title, from the last sale date,
// because long ownership is a distress signal. It is nil when the sale date is unknown,
// unreadable or after now.
func OwnershipYears(p Property, now time.Time) *float64 {
	if p.Valuation.LastSaleDate == "" {
		return nil
	}
	sold, err := parseDate(p.Valuation.LastSaleDate)
	if err != nil || sold.After(now) {
		return nil
	}
	years := now.Sub(sold).Hours() / 24 / 365.2425
	return ptr(round2(years))
}

// derive fills the fields computed from others and marks them DerivedOrigin in provenance.
// Reported equity and LTV (ATTOM's home equity endpoint) are kept; free-and-clear and
// out-of-state are always recomputed so they match the merged inputs.
func derive(p *Property) {
	if p.Metadata.Provenance == nil {
		p.Metadata.Provenance = map[string]string{}
	}
	mark := func(path string) { p.Metadata.Provenance[path] = DerivedOrigin }
	unmark := func(path string) { delete(p.Metadata.Provenance, path) }

	value, balance := p.Value(), p.Valuation.MortgageBalance
	if p.Valuation.EstimatedEquity == nil && value != nil && balance != nil {
		p.Valuation.EstimatedEquity = ptr(math.Round(*value - *balance))
		mark("valuation.estimated_equity")
	}
	if p.Valuation.LTV == nil && value != nil && balance != nil && *value > 0 {
		p.Valuation.LTV = ptr(round2(*balance / *value * 100))
		mark("valuation.ltv")
	}

	p.Distress.FreeAndClear = nil
	unmark("distress.free_and_clear")
	if balance != nil {
		p.Distress.FreeAndClear = ptr(*balance == 0)
		mark("distress.free_and_clear")
	}

	p.Owner.OutOfState = nil
	unmark("owner.out_of_state")
	if ms := mailingState(p.Owner); ms != "" && p.Address.State != "" {
		p.Owner.OutOfState = ptr(ms != p.Address.State)
		mark("owner.out_of_state")
	}
}

// oneLineState finds the state in a one-line address ending "..., ST 12345[-6789]" or
// "..., ST". It reads mailing addresses the normalizer refuses (PO boxes, foreign forms).
var oneLineState = regexp.MustCompile(`(?i),\s*([A-Z]{2})(?:\s+\d{5}(?:-?\d{4})?)?\s*$`)

func mailingState(o Owner) string {
	if o.Mailing != nil && o.Mailing.State != "" {
		return o.Mailing.State
	}
	m := oneLineState.FindStringSubmatch(strings.TrimSpace(o.MailingAddress))
	if m == nil {
		return ""
	}
	return strings.ToUpper(m[1])
}

func ptr[T any](v T) *T { return &v }

func round2(v float64) float64 { return math.Round(v*100) / 100 }
