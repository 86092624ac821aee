package attomsim

import (
	"github.com/leadflow/attom-batch/internal/attom"
)

// propertyFor renders the blocks an endpoint returns, the way ATTOM groups them: the
// expanded profile nests owner and mortgage in the assessment; the detail endpoints carry
// their own block. ok is false when the endpoint has nothing to say (no filings).
func (h *home) propertyFor(endpoint string) (attom.Property, bool) {
	p := attom.Property{
		Identifier: attom.Identifier{ID: attom.NewNum(float64(h.attomID)), FIPS: h.fips, APN: h.apn, AttomID: attom.NewNum(float64(h.attomID))},
		Address:    h.addressBlock(),
		Vintage:    &attom.Vintage{LastModified: h.lastModified, PubDate: h.publishedOn},
	}
	switch endpoint {
	case attom.EndpointExpandedProfile:
		p.Location, p.Summary, p.Lot, p.Building = h.locationBlock(), h.summaryBlock(), h.lotBlock(), h.buildingBlock()
		p.Assessment = h.assessmentBlock()
		p.Assessment.Owner, p.Assessment.Mortgage = h.ownerBlock(), h.mortgageBlock()
		p.Sale = h.saleBlock()
	case attom.EndpointAVM:
		p.Location, p.Summary, p.Lot, p.Building = h.locationBlock(), h.summaryBlock(), h.lotBlock(), h.buildingBlock()
		p.AVM = h.avmBlock()
	case attom.EndpointHomeEquity:
		p.Location, p.Summary = h.locationBlock(), h.summaryBlock()
		p.AVM = h.avmBlock()
		p.HomeEquity = &attom.HomeEquity{
			TotalEstimatedLoanBalance: attom.NewNum(h.loanBalance),
			EstimatedAvailableEquity:  attom.NewNum(h.equity),
			LTV:                       attom.NewNum(h.ltv),
		}
		if h.loanBalance == 0 {
			p.HomeEquity.EstimatedAvailableEquity = attom.NewNum(h.avmValue)
		}
	case attom.EndpointPreforeclosure:
		if len(h.filings) == 0 {
			return p, false
		}
		p.Preforeclosure = h.filings
	}
	return p, true
}

func (h *home) addressBlock() attom.Address {
	return attom.Address{
		Country: "US", CountrySubd: h.state, Line1: h.line1, Line2: h.city + ", " + h.state + " " + h.zip5,
		Locality: h.city, MatchCode: "ExaStr", OneLine: h.oneLine(), Postal1: h.zip5, Postal2: h.zip4, Postal3: "C001",
	}
}

func (h *home) locationBlock() *attom.Location {
	return &attom.Location{Accuracy: "Rooftop", Latitude: attom.NewNum(round6(h.lat)), Longitude: attom.NewNum(round6(h.lon))}
}

func round6(v float64) float64 {
	const scale = 1e6
	return float64(int64(v*scale)) / scale
}

func (h *home) summaryBlock() *attom.Summary {
	k := propertyKinds[h.kind]
	absentee := "OWNER OCCUPIED"
	if h.absentee {
		absentee = "ABSENTEE OWNER"
	}
	return &attom.Summary{
		AbsenteeInd: absentee, PropClass: k.Class, PropSubType: "RESIDENTIAL", PropType: k.Type,
		PropertyType: k.PropertyType, PropLandUse: k.LandUse, YearBuilt: attom.NewNum(float64(h.yearBuilt)),
		REOFlag: attom.Flag{Value: h.reo, Valid: true}, QuitClaimFlag: attom.Flag{Value: h.quitClaim, Valid: true},
	}
}

func (h *home) lotBlock() *attom.Lot {
	if h.lotSqft == 0 {
		return &attom.Lot{}
	}
	return &attom.Lot{LotSize1: attom.NewNum(float64(int(float64(h.lotSqft)/43560*10000)) / 10000), LotSize2: attom.NewNum(float64(h.lotSqft))}
}

func (h *home) buildingBlock() *attom.Building {
	b := &attom.Building{}
	b.Size.LivingSize = attom.NewNum(float64(h.living))
	b.Size.UniversalSize = attom.NewNum(float64(h.living))
	b.Size.BldgSize = attom.NewNum(float64(h.living + h.living/5))
	b.Rooms.Beds = attom.NewNum(float64(h.beds))
	b.Rooms.BathsTotal = attom.NewNum(h.baths)
	return b
}

func (h *home) assessmentBlock() *attom.Assessment {
	a := &attom.Assessment{}
	a.Assessed.AssdTtlValue = attom.NewNum(h.assessed)
	a.Market.MktTtlValue = attom.NewNum(h.market)
	a.Tax.TaxAmt = attom.NewNum(h.taxAmt)
	a.Tax.TaxYear = attom.NewNum(float64(h.taxYear))
	return a
}

func (h *home) ownerBlock() *attom.Owner {
	corp, status := "N", "O"
	if h.corporate {
		corp = "Y"
	}
	if h.absentee {
		status = "A"
	}
	return &attom.Owner{
		CorporateIndicator: corp, Type: h.ownerType, Owner1: h.owner1, Owner2: h.owner2,
		AbsenteeOwnerStatus: status, MailingAddressOneLine: h.mailing,
	}
}

func (h *home) mortgageBlock() *attom.Mortgage {
	m := &attom.Mortgage{}
	if h.mortgageAmt == 0 {
		return m
	}
	m.FirstConcurrent.Amount = attom.NewNum(h.mortgageAmt)
	m.FirstConcurrent.LenderLastName = h.lender
	m.FirstConcurrent.Date = h.mortgageDate
	return m
}

func (h *home) saleBlock() *attom.Sale {
	s := &attom.Sale{SaleTransDate: h.saleDate}
	s.Amount.SaleAmt = attom.NewNum(h.saleAmt)
	s.Amount.SaleRecDate = h.saleRecDate
	s.Amount.SaleTransType = h.saleType
	return s
}

func (h *home) avmBlock() *attom.AVM {
	a := &attom.AVM{EventDate: h.avmDate}
	a.Amount.Value = attom.NewNum(h.avmValue)
	a.Amount.High = attom.NewNum(h.avmHigh)
	a.Amount.Low = attom.NewNum(h.avmLow)
	a.Amount.Scr = attom.NewNum(h.scr)
	return a
}
