package property

// The field table lists every mergeable field of Property once: its path (the key used in
// Metadata.Provenance), the precedence group it belongs to, how to tell whether a record
// knows it, and how to copy it. Conversion uses it to stamp provenance and Merge uses it to
// pick each field's winner, so the two can never disagree about which fields exist.

// Field groups name sets of fields that share one source priority in Precedence.
const (
	GroupAddress         = "address"
	GroupLocation        = "location"
	GroupCharacteristics = "characteristics"
	GroupAVM             = "valuation.avm"
	GroupAssessment      = "valuation.assessment"
	GroupSale            = "valuation.sale"
	GroupMortgage        = "valuation.mortgage"
	GroupOwner           = "owner"
	GroupForeclosure     = "distress.foreclosure"
	GroupFlags           = "distress.flags"
)

// DerivedOrigin is the provenance of a value computed from other fields (equity from value
// and loan balance, out-of-state from the two addresses). Merge never picks a derived value
// from a record: it recomputes it from the merged inputs.
const DerivedOrigin = "derived"

type field struct {
	path  string
	group string
	known func(p *Property) bool
	copy  func(dst, src *Property)
	// derivedOnly fields are always recomputed after a merge, never chosen.
	derivedOnly bool
}

func ptrField[T any](path, group string, sel func(p *Property) **T) field {
	return field{
		path:  path,
		group: group,
		known: func(p *Property) bool { return *sel(p) != nil },
		copy: func(dst, src *Property) {
			v := **sel(src)
			*sel(dst) = &v
		},
	}
}

func stringField(path, group string, sel func(p *Property) *string) field {
	return field{
		path:  path,
		group: group,
		known: func(p *Property) bool { return *sel(p) != "" },
		copy:  func(dst, src *Property) { *sel(dst) = *sel(src) },
	}
}

func derivedField[T any](path, group string, sel func(p *Property) **T) field {
	f := ptrField(path, group, sel)
	f.derivedOnly = true
	return f
}

// fields is the table. Order is the order of Property's declaration, which keeps
// provenance listings readable.
var fields = []field{
	{
		path:  "address",
		group: GroupAddress,
		known: func(p *Property) bool { return p.Address.Line1 != "" },
		copy: func(dst, src *Property) {
			dst.Address, dst.Key, dst.Hash = src.Address, src.Key, src.Hash
		},
	},
	ptrField("location", GroupLocation, func(p *Property) **Location { return &p.Location }),

	ptrField("characteristics.beds", GroupCharacteristics, func(p *Property) **float64 { return &p.Characteristics.Beds }),
	ptrField("characteristics.baths", GroupCharacteristics, func(p *Property) **float64 { return &p.Characteristics.Baths }),
	ptrField("characteristics.living_area_sqft", GroupCharacteristics, func(p *Property) **float64 { return &p.Characteristics.LivingAreaSqft }),
	ptrField("characteristics.lot_sqft", GroupCharacteristics, func(p *Property) **float64 { return &p.Characteristics.LotSqft }),
	ptrField("characteristics.lot_acres", GroupCharacteristics, func(p *Property) **float64 { return &p.Characteristics.LotAcres }),
	ptrField("characteristics.year_built", GroupCharacteristics, func(p *Property) **int { return &p.Characteristics.YearBuilt }),
	stringField("characteristics.property_type", GroupCharacteristics, func(p *Property) *string { return &p.Characteristics.PropertyType }),
	stringField("characteristics.property_class", GroupCharacteristics, func(p *Property) *string { return &p.Characteristics.PropertyClass }),
	stringField("characteristics.land_use", GroupCharacteristics, func(p *Property) *string { return &p.Characteristics.LandUse }),
	stringField("characteristics.fips", GroupCharacteristics, func(p *Property) *string { return &p.Characteristics.FIPS }),
	stringField("characteristics.apn", GroupCharacteristics, func(p *Property) *string { return &p.Characteristics.APN }),

	ptrField("valuation.avm_value", GroupAVM, func(p *Property) **float64 { return &p.Valuation.AVMValue }),
	ptrField("valuation.avm_high", GroupAVM, func(p *Property) **float64 { return &p.Valuation.AVMHigh }),
	ptrField("valuation.avm_low", GroupAVM, func(p *Property) **float64 { return &p.Valuation.AVMLow }),
	ptrField("valuation.avm_confidence", GroupAVM, func(p *Property) **float64 { return &p.Valuation.AVMConfidence }),
	stringField("valuation.avm_date", GroupAVM, func(p *Property) *string { return &p.Valuation.AVMDate }),
	ptrField("valuation.assessed_total", GroupAssessment, func(p *Property) **float64 { return &p.Valuation.AssessedTotal }),
	ptrField("valuation.market_total", GroupAssessment, func(p *Property) **float64 { return &p.Valuation.MarketTotal }),
	ptrField("valuation.tax_amount", GroupAssessment, func(p *Property) **float64 { return &p.Valuation.TaxAmount }),
	ptrField("valuation.tax_year", GroupAssessment, func(p *Property) **int { return &p.Valuation.TaxYear }),
	ptrField("valuation.last_sale_amount", GroupSale, func(p *Property) **float64 { return &p.Valuation.LastSaleAmount }),
	stringField("valuation.last_sale_date", GroupSale, func(p *Property) *string { return &p.Valuation.LastSaleDate }),
	ptrField("valuation.mortgage_balance", GroupMortgage, func(p *Property) **float64 { return &p.Valuation.MortgageBalance }),
	ptrField("valuation.estimated_equity", GroupMortgage, func(p *Property) **float64 { return &p.Valuation.EstimatedEquity }),
	ptrField("valuation.ltv", GroupMortgage, func(p *Property) **float64 { return &p.Valuation.LTV }),

	{
		path:  "owner.names",
		group: GroupOwner,
		known: func(p *Property) bool { return len(p.Owner.Names) > 0 },
		copy: func(dst, src *Property) {
			dst.Owner.Names = append([]string(nil), src.Owner.Names...)
		},
	},
	ptrField("owner.corporate", GroupOwner, func(p *Property) **bool { return &p.Owner.Corporate }),
	ptrField("owner.trust", GroupOwner, func(p *Property) **bool { return &p.Owner.Trust }),
	{
		path:  "owner.mailing_address",
		group: GroupOwner,
		known: func(p *Property) bool { return p.Owner.MailingAddress != "" || p.Owner.Mailing != nil },
		copy: func(dst, src *Property) {
			dst.Owner.MailingAddress = src.Owner.MailingAddress
			dst.Owner.Mailing = nil
			if src.Owner.Mailing != nil {
				m := *src.Owner.Mailing
				dst.Owner.Mailing = &m
			}
		},
	},
	ptrField("owner.absentee", GroupOwner, func(p *Property) **bool { return &p.Owner.Absentee }),
	derivedField("owner.out_of_state", GroupOwner, func(p *Property) **bool { return &p.Owner.OutOfState }),
	ptrField("owner.deceased", GroupOwner, func(p *Property) **bool { return &p.Owner.Deceased }),

	ptrField("distress.pre_foreclosure", GroupForeclosure, func(p *Property) **bool { return &p.Distress.PreForeclosure }),
	stringField("distress.foreclosure_stage", GroupForeclosure, func(p *Property) *string { return &p.Distress.ForeclosureStage }),
	stringField("distress.filing_date", GroupForeclosure, func(p *Property) *string { return &p.Distress.FilingDate }),
	stringField("distress.auction_date", GroupForeclosure, func(p *Property) *string { return &p.Distress.AuctionDate }),
	ptrField("distress.auction_scheduled", GroupForeclosure, func(p *Property) **bool { return &p.Distress.AuctionScheduled }),
	ptrField("distress.bank_owned", GroupFlags, func(p *Property) **bool { return &p.Distress.BankOwned }),
	ptrField("distress.recent_quit_claim", GroupFlags, func(p *Property) **bool { return &p.Distress.RecentQuitClaim }),
	ptrField("distress.tax_delinquent", GroupFlags, func(p *Property) **bool { return &p.Distress.TaxDelinquent }),
	ptrField("distress.vacant", GroupFlags, func(p *Property) **bool { return &p.Distress.Vacant }),
	derivedField("distress.free_and_clear", GroupMortgage, func(p *Property) **bool { return &p.Distress.FreeAndClear }),
}

// stampProvenance records origin for every field p knows, and DerivedOrigin for the
// derived ones, unless a derived value was stamped already.
func stampProvenance(p *Property, origin string) {
	if p.Metadata.Provenance == nil {
		p.Metadata.Provenance = map[string]string{}
	}
	for _, f := range fields {
		if !f.known(p) {
			continue
		}
		if f.derivedOnly {
			p.Metadata.Provenance[f.path] = DerivedOrigin
			continue
		}
		if _, ok := p.Metadata.Provenance[f.path]; !ok {
			p.Metadata.Provenance[f.path] = origin
		}
	}
}
