package property

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/leadflow/attom-batch/internal/address"
	"github.com/leadflow/attom-batch/internal/attom"
)

// SourceATTOM is the Metadata.Sources name of every ATTOM record; the endpoint that answered
// is kept per field in Metadata.Provenance as "attom:<endpoint>".
const SourceATTOM = "attom"

// ATTOM endpoint names, internal/attom's, repeated here so merge rules read locally.
const (
	EndpointExpandedProfile = attom.EndpointExpandedProfile
	EndpointAVM             = attom.EndpointAVM
	EndpointHomeEquity      = attom.EndpointHomeEquity
	EndpointPreforeclosure  = attom.EndpointPreforeclosure
)

// ATTOMOrigin is the provenance string of an ATTOM endpoint: "attom:avm".
func ATTOMOrigin(endpoint string) string { return SourceATTOM + ":" + endpoint }

// Options tune conversions. The batch wiring sets QuitClaimRecentYears from the distress
// weights so conversion and scoring agree on what "recent" means.
type Options struct {
	// QuitClaimRecentYears: a quit-claim transfer counts as recent when the last sale is at
	// most this many years before the fetch.
	QuitClaimRecentYears float64
}

// DefaultOptions match distress.DefaultWeights.
func DefaultOptions() Options { return Options{QuitClaimRecentYears: 2} }

// FromAttom converts one ATTOM endpoint's property block with DefaultOptions.
func FromAttom(endpoint string, p attom.Property, fetchedAt time.Time, simulated bool) (Property, error) {
	return DefaultOptions().FromAttom(endpoint, p, fetchedAt, simulated)
}

// FromAttom converts one ATTOM endpoint's property block into the unified model, so that
// nothing past this point reads ATTOM's wire format. Absent ATTOM values stay unknown
// (nil). Unreadable ATTOM dates count as absent, as unreadable ATTOM numbers do in
// attom.Num. The only errors are an unknown endpoint and an address that cannot be read.
func (o Options) FromAttom(endpoint string, ap attom.Property, fetchedAt time.Time, simulated bool) (Property, error) {
	origin := ATTOMOrigin(endpoint)
	switch endpoint {
	case EndpointExpandedProfile, EndpointAVM, EndpointHomeEquity, EndpointPreforeclosure:
	default:
		return Property{}, &FieldError{Source: origin, Field: "endpoint", Value: endpoint, Reason: "is not a known ATTOM endpoint"}
	}
	var p Property
	addr, err := attomAddress(ap.Address)
	if err != nil {
		return Property{}, &FieldError{Source: origin, Field: "address", Value: ap.Address.OneLine, Reason: err.Error()}
	}
	setAddress(&p, addr)
	p.Location = attomLocation(ap.Location)
	p.Characteristics = attomCharacteristics(ap)
	p.Valuation = attomValuation(ap)
	p.Owner = attomOwner(ap)
	p.Distress = attomDistress(endpoint, ap, fetchedAt)
	p.Distress.RecentQuitClaim = o.recentQuitClaim(ap.Summary, p.Valuation.LastSaleDate, fetchedAt)

	derive(&p)
	stampProvenance(&p, origin)
	p.Metadata.Sources = []string{SourceATTOM}
	if id := attomID(ap.Identifier); id != "" {
		p.Metadata.SourceIDs = map[string]string{SourceATTOM: id}
	}
	p.Metadata.FetchedAt = fetchedAt.UTC()
	p.Metadata.Simulated = simulated
	p.Metadata.SchemaVersion = SchemaVersion
	return p, nil
}

// attomAddress reads ATTOM's standardized parts through the project normalizer so the
// result's Key equals the Key of the input row that asked for it.
func attomAddress(a attom.Address) (address.Address, error) {
	zip := strings.TrimSpace(a.Postal1)
	if p2 := strings.TrimSpace(a.Postal2); zip != "" && p2 != "" {
		zip += "-" + p2
	}
	in := address.Input{Line1: a.Line1, City: a.Locality, State: a.CountrySubd, ZIP: zip}
	if strings.TrimSpace(a.Line1) == "" {
		if strings.TrimSpace(a.OneLine) == "" {
			return address.Address{}, fmt.Errorf("has neither line1 nor oneLine")
		}
		in = address.Input{OneLine: a.OneLine}
	}
	return normalizeAddress(in)
}

// attomLocation keeps a geocode only when both coordinates are real numbers in range.
func attomLocation(l *attom.Location) *Location {
	if l == nil {
		return nil
	}
	lat := numPtr(l.Latitude.Value, l.Latitude.Valid)
	lon := numPtr(l.Longitude.Value, l.Longitude.Valid)
	if lat == nil || lon == nil || math.Abs(*lat) > 90 || math.Abs(*lon) > 180 {
		return nil
	}
	return &Location{Latitude: *lat, Longitude: *lon, Accuracy: strings.TrimSpace(l.Accuracy)}
}

func attomID(id attom.Identifier) string {
	n := id.AttomID
	if !n.Valid {
		n = id.ID
	}
	if !n.Valid {
		return ""
	}
	return strconv.FormatInt(n.Int(), 10)
}

func attomCharacteristics(ap attom.Property) Characteristics {
	c := Characteristics{FIPS: strings.TrimSpace(ap.Identifier.FIPS), APN: strings.TrimSpace(ap.Identifier.APN)}
	if s := ap.Summary; s != nil {
		c.YearBuilt = intPtr(s.YearBuilt.Value, s.YearBuilt.Valid && s.YearBuilt.Value > 0)
		c.PropertyType = firstNonEmpty(s.PropType, s.PropertyType)
		c.PropertyClass = strings.TrimSpace(s.PropClass)
		c.LandUse = strings.TrimSpace(s.PropLandUse)
	}
	if b := ap.Building; b != nil {
		c.Beds = numPtr(b.Rooms.Beds.Value, b.Rooms.Beds.Valid)
		c.Baths = numPtr(b.Rooms.BathsTotal.Value, b.Rooms.BathsTotal.Valid)
		for _, size := range []attom.Num{b.Size.LivingSize, b.Size.UniversalSize, b.Size.BldgSize} {
			if size.Valid && size.Value > 0 {
				c.LivingAreaSqft = numPtr(size.Value, true)
				break
			}
		}
	}
	if l := ap.Lot; l != nil {
		c.LotAcres = numPtr(l.LotSize1.Value, l.LotSize1.Valid)
		c.LotSqft = numPtr(l.LotSize2.Value, l.LotSize2.Valid)
	}
	return c
}

func attomValuation(ap attom.Property) Valuation {
	var v Valuation
	if a := ap.AVM; a != nil {
		v.AVMValue = numPtr(a.Amount.Value.Value, a.Amount.Value.Valid)
		v.AVMHigh = numPtr(a.Amount.High.Value, a.Amount.High.Valid)
		v.AVMLow = numPtr(a.Amount.Low.Value, a.Amount.Low.Valid)
		v.AVMConfidence = numPtr(a.Amount.Scr.Value, a.Amount.Scr.Valid)
		v.AVMDate = lenientDate(a.EventDate)
	}
	if a := ap.Assessment; a != nil {
		v.AssessedTotal = numPtr(a.Assessed.AssdTtlValue.Value, a.Assessed.AssdTtlValue.Valid)
		v.MarketTotal = numPtr(a.Market.MktTtlValue.Value, a.Market.MktTtlValue.Valid)
		v.TaxAmount = numPtr(a.Tax.TaxAmt.Value, a.Tax.TaxAmt.Valid)
		v.TaxYear = intPtr(a.Tax.TaxYear.Value, a.Tax.TaxYear.Valid && a.Tax.TaxYear.Value > 0)
	}
	if s := ap.Sale; s != nil {
		v.LastSaleAmount = numPtr(s.Amount.SaleAmt.Value, s.Amount.SaleAmt.Valid)
		v.LastSaleDate = lenientDate(firstNonEmpty(s.SaleTransDate, s.Amount.SaleRecDate))
	}
	if m := attomMortgage(ap); m != nil {
		// The profile reports the first loan's original amount: the best balance it has.
		v.MortgageBalance = numPtr(m.FirstConcurrent.Amount.Value, m.FirstConcurrent.Amount.Valid)
	}
	if he := ap.HomeEquity; he != nil {
		if he.TotalEstimatedLoanBalance.Valid {
			v.MortgageBalance = numPtr(he.TotalEstimatedLoanBalance.Value, true)
		}
		v.EstimatedEquity = numPtr(he.EstimatedAvailableEquity.Value, he.EstimatedAvailableEquity.Valid)
		v.LTV = numPtr(he.LTV.Value, he.LTV.Valid)
	}
	return v
}

// attomMortgage and attomOwnerBlock read the block at the top level or, as the expanded
// profile sends it, inside assessment.
func attomMortgage(ap attom.Property) *attom.Mortgage {
	if ap.Mortgage != nil {
		return ap.Mortgage
	}
	if ap.Assessment != nil {
		return ap.Assessment.Mortgage
	}
	return nil
}

func attomOwnerBlock(ap attom.Property) *attom.Owner {
	if ap.Owner != nil {
		return ap.Owner
	}
	if ap.Assessment != nil {
		return ap.Assessment.Owner
	}
	return nil
}

func attomOwner(ap attom.Property) Owner {
	var o Owner
	var absenteeInd string
	if ap.Summary != nil {
		absenteeInd = ap.Summary.AbsenteeInd
	}
	ob := attomOwnerBlock(ap)
	if ob == nil {
		o.Absentee = absenteeFrom(absenteeInd)
		return o
	}
	o.Names = cleanNames(ownerFullName(ob.Owner1), ownerFullName(ob.Owner2))
	classifyOwner(&o, ob.CorporateIndicator)
	o.Absentee = absenteeFrom(absenteeInd, ob.AbsenteeOwnerStatus)
	setMailing(&o, ob.MailingAddressOneLine)
	return o
}

func ownerFullName(n attom.OwnerName) string {
	if strings.TrimSpace(n.FullName) != "" {
		return n.FullName
	}
	return strings.TrimSpace(n.FirstNameAndMI) + " " + strings.TrimSpace(n.LastName)
}

func attomDistress(endpoint string, ap attom.Property, fetchedAt time.Time) Distress {
	var d Distress
	if s := ap.Summary; s != nil && s.REOFlag.Valid {
		d.BankOwned = ptr(s.REOFlag.Value)
	}
	if endpoint == EndpointPreforeclosure || len(ap.Preforeclosure) > 0 {
		setForeclosure(&d, ap.Preforeclosure, fetchedAt)
	}
	return d
}

// closedFilingStatuses end a foreclosure: such a filing no longer makes the owner distressed.
var closedFilingStatuses = map[string]bool{
	"CANCELLED": true, "CANCELED": true, "RESCINDED": true, "RELEASED": true,
	"DISMISSED": true, "CLOSED": true, "TERMINATED": true,
}

// setForeclosure reads the pre-foreclosure filings. The endpoint answering with no open
// filing means "no", not unknown. Stage and filing date come from the newest open filing;
// the auction date is the latest one any open filing names.
func setForeclosure(d *Distress, filings []attom.Preforeclosure, fetchedAt time.Time) {
	open := make([]attom.Preforeclosure, 0, len(filings))
	for _, f := range filings {
		if !closedFilingStatuses[strings.ToUpper(strings.TrimSpace(f.Status))] {
			open = append(open, f)
		}
	}
	d.PreForeclosure = ptr(len(open) > 0)
	d.AuctionScheduled = ptr(false)
	sort.SliceStable(open, func(i, j int) bool {
		return lenientDate(open[i].RecordingDate) > lenientDate(open[j].RecordingDate)
	})
	if len(open) > 0 {
		d.ForeclosureStage = strings.ToUpper(strings.TrimSpace(open[0].DocumentType))
		d.FilingDate = lenientDate(open[0].RecordingDate)
	}
	for _, f := range open {
		if a := lenientDate(f.AuctionDate); a > d.AuctionDate {
			d.AuctionDate = a
		}
	}
	if d.AuctionDate != "" {
		auction, _ := parseDate(d.AuctionDate)
		d.AuctionScheduled = ptr(auction.After(fetchedAt))
	}
}

// recentQuitClaim: the last transfer was a quit-claim deed and it happened within
// QuitClaimRecentYears of the fetch. A quit-claim with no readable sale date is unknown.
func (o Options) recentQuitClaim(s *attom.Summary, lastSaleDate string, fetchedAt time.Time) *bool {
	if s == nil || !s.QuitClaimFlag.Valid {
		return nil
	}
	if !s.QuitClaimFlag.Value {
		return ptr(false)
	}
	sold, err := parseDate(lastSaleDate)
	if lastSaleDate == "" || err != nil {
		return nil
	}
	limit := fetchedAt.Add(-time.Duration(o.QuitClaimRecentYears * 365.2425 * 24 * float64(time.Hour)))
	return ptr(!sold.Before(limit))
}

// lenientDate returns YYYY-MM-DD, or "" for an empty or unreadable date.
func lenientDate(s string) string {
	d, err := isoDate(s)
	if err != nil {
		return ""
	}
	return d
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}
