package property

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/leadflow/attom-batch/internal/address"
)

// Column names FromRecord reads (compared case-insensitively, spaces and dashes read as
// underscores). Columns it does not know are ignored; the raw row stays with the caller.
const (
	ColAddress         = "address"
	ColUnit            = "unit"
	ColCity            = "city"
	ColState           = "state"
	ColZIP             = "zip"
	ColSourceID        = "source_id"
	ColAPN             = "apn"
	ColFIPS            = "fips"
	ColOwnerName       = "owner_name"
	ColOwnerName2      = "owner_name2"
	ColMailingAddress  = "mailing_address"
	ColAbsentee        = "absentee"
	ColAssessedValue   = "assessed_value"
	ColMarketValue     = "market_value"
	ColTaxAmount       = "tax_amount"
	ColTaxYear         = "tax_year"
	ColYearBuilt       = "year_built"
	ColBeds            = "beds"
	ColBaths           = "baths"
	ColSqft            = "sqft"
	ColLotSqft         = "lot_sqft"
	ColPropertyType    = "property_type"
	ColLastSaleDate    = "last_sale_date"
	ColLastSaleAmount  = "last_sale_amount"
	ColMortgageBalance = "mortgage_balance"
	ColTaxDelinquent   = "tax_delinquent"
	ColVacant          = "vacant"
	ColPreForeclosure  = "pre_foreclosure"
	ColBankOwned       = "bank_owned"
	ColDeceased        = "deceased"
)

// RecordColumns lists every column FromRecord reads, in the order of the constants above:
// what an import's --map may name.
func RecordColumns() []string {
	return []string{ColAddress, ColUnit, ColCity, ColState, ColZIP, ColSourceID, ColAPN, ColFIPS,
		ColOwnerName, ColOwnerName2, ColMailingAddress, ColAbsentee, ColAssessedValue,
		ColMarketValue, ColTaxAmount, ColTaxYear, ColYearBuilt, ColBeds, ColBaths, ColSqft,
		ColLotSqft, ColPropertyType, ColLastSaleDate, ColLastSaleAmount, ColMortgageBalance,
		ColTaxDelinquent, ColVacant, ColPreForeclosure, ColBankOwned, ColDeceased}
}

// FromRecord converts a flat record from any source (a county export, a purchased list, a
// CSV row) into the unified model. This is how processProperty accepts sources other than
// ATTOM. source names the origin ("county:cook"); it is used for Metadata.Sources and every
// field's provenance. An unreadable number, date or flag is a *FieldError naming the column.
func FromRecord(source string, fields map[string]string, fetchedAt time.Time) (Property, error) {
	cols, err := canonicalColumns(source, fields)
	if err != nil {
		return Property{}, err
	}
	r := recordReader{source: source, fields: cols}
	var p Property
	addr, err := r.address()
	if err != nil {
		return Property{}, err
	}
	setAddress(&p, addr)

	c := &p.Characteristics
	r.amount(ColBeds, &c.Beds)
	r.amount(ColBaths, &c.Baths)
	r.amount(ColSqft, &c.LivingAreaSqft)
	r.amount(ColLotSqft, &c.LotSqft)
	r.year(ColYearBuilt, &c.YearBuilt)
	c.PropertyType = r.text(ColPropertyType)
	c.APN = r.text(ColAPN)
	c.FIPS = r.text(ColFIPS)

	v := &p.Valuation
	r.amount(ColAssessedValue, &v.AssessedTotal)
	r.amount(ColMarketValue, &v.MarketTotal)
	r.amount(ColTaxAmount, &v.TaxAmount)
	r.year(ColTaxYear, &v.TaxYear)
	r.amount(ColLastSaleAmount, &v.LastSaleAmount)
	r.date(ColLastSaleDate, &v.LastSaleDate)
	r.amount(ColMortgageBalance, &v.MortgageBalance)

	o := &p.Owner
	o.Names = cleanNames(r.text(ColOwnerName), r.text(ColOwnerName2))
	classifyOwner(o, "")
	setMailing(o, r.text(ColMailingAddress))
	r.flag(ColAbsentee, &o.Absentee)
	if deceased := r.flagValue(ColDeceased); deceased != nil {
		o.Deceased = deceased
	}

	d := &p.Distress
	r.flag(ColTaxDelinquent, &d.TaxDelinquent)
	r.flag(ColVacant, &d.Vacant)
	r.flag(ColPreForeclosure, &d.PreForeclosure)
	r.flag(ColBankOwned, &d.BankOwned)
	if r.err != nil {
		return Property{}, r.err
	}

	derive(&p)
	stampProvenance(&p, source)
	p.Metadata.Sources = []string{source}
	if id := firstNonEmpty(r.text(ColSourceID), c.APN); id != "" {
		p.Metadata.SourceIDs = map[string]string{source: id}
	}
	p.Metadata.FetchedAt = fetchedAt.UTC()
	p.Metadata.SchemaVersion = SchemaVersion
	return p, nil
}

// canonicalColumns lower-cases header names and reads spaces and dashes as underscores, so
// "Owner Name", "owner-name" and "OWNER_NAME" are one column. Two headers that mean the same
// column are an error: which one to believe is the file owner's call, not ours.
func canonicalColumns(source string, fields map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(fields))
	seen := make(map[string]string, len(fields))
	for k, v := range fields {
		c := canonicalColumn(k)
		if prev, dup := seen[c]; dup {
			a, b := prev, k
			if b < a {
				a, b = b, a
			}
			return nil, &FieldError{Source: source, Field: c, Reason: fmt.Sprintf("columns %q and %q are the same column", a, b)}
		}
		seen[c] = k
		out[c] = v
	}
	return out, nil
}

func canonicalColumn(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	return strings.NewReplacer(" ", "_", "-", "_").Replace(name)
}

// recordReader reads typed columns and keeps the first error, so FromRecord reads as a list
// of assignments.
type recordReader struct {
	source string
	fields map[string]string
	err    error
}

func (r *recordReader) text(col string) string { return strings.TrimSpace(r.fields[col]) }

func (r *recordReader) fail(col, reason string) {
	if r.err == nil {
		r.err = &FieldError{Source: r.source, Field: col, Value: r.text(col), Reason: reason}
	}
}

func (r *recordReader) amount(col string, dst **float64) {
	v, err := parseAmount(r.text(col))
	if err != nil {
		r.fail(col, err.Error())
		return
	}
	*dst = v
}

func (r *recordReader) year(col string, dst **int) {
	v, err := parseAmount(r.text(col))
	switch {
	case err != nil:
		r.fail(col, err.Error())
	case v == nil:
	case *v < 1600 || *v > 2200 || *v != float64(int(*v)):
		r.fail(col, "is not a year")
	default:
		*dst = ptr(int(*v))
	}
}

func (r *recordReader) date(col string, dst *string) {
	d, err := isoDate(r.text(col))
	if err != nil {
		r.fail(col, err.Error())
		return
	}
	*dst = d
}

func (r *recordReader) flag(col string, dst **bool) {
	if v := r.flagValue(col); v != nil {
		*dst = v
	}
}

func (r *recordReader) flagValue(col string) *bool {
	v, err := parseFlag(r.text(col))
	if err != nil {
		r.fail(col, err.Error())
		return nil
	}
	return v
}

// address reads the address columns: street, unit, city, state, ZIP, or a one-line address
// in the address column when city, state and ZIP are all empty.
func (r *recordReader) address() (address.Address, error) {
	street := r.text(ColAddress)
	if street == "" {
		return address.Address{}, &FieldError{Source: r.source, Field: ColAddress, Reason: "is empty"}
	}
	in := address.Input{Line1: street, Line2: r.text(ColUnit), City: r.text(ColCity), State: r.text(ColState), ZIP: r.text(ColZIP)}
	if in.City == "" && in.State == "" && in.ZIP == "" {
		in = address.Input{OneLine: street}
	}
	a, err := normalizeAddress(in)
	if err != nil {
		field, reason := ColAddress, err.Error()
		var fe *address.FieldError
		if errors.As(err, &fe) && fe.Field != "" {
			field, reason = fe.Field, fe.Reason
		}
		return address.Address{}, &FieldError{Source: r.source, Field: field, Value: r.text(field), Reason: reason}
	}
	return a, nil
}
