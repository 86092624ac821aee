// Package property is the unified property model: one shape for a property whatever source
// described it (ATTOM's endpoints, a county file, a CSV), so that dedupe, merge, scoring and
// leads never look at a vendor's wire format.
package property

import (
	"time"

	"github.com/leadflow/attom-batch/internal/address"
)

// SchemaVersion is stored with every record so old raw payloads can be re-read after the
// model changes.
const SchemaVersion = 1

// Property is one property as the system knows it. Pointer fields are unknown when nil:
// unknown is never the same as false or zero.
type Property struct {
	// Key is the dedupe key (address.Address.Key of the canonical address); Hash is its
	// digest, the seed's property_hash, shared by every source's record of this property.
	Key     string          `json:"key"`
	Hash    string          `json:"property_hash"`
	Address address.Address `json:"address"`
	// Location is the geocode when a source gave one.
	Location        *Location       `json:"location,omitempty"`
	Characteristics Characteristics `json:"characteristics"`
	Valuation       Valuation       `json:"valuation"`
	Owner           Owner           `json:"owner"`
	Distress        Distress        `json:"distress"`
	Metadata        Metadata        `json:"metadata"`
}

// Location is latitude/longitude in degrees.
type Location struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Accuracy  string  `json:"accuracy,omitempty"`
}

// Characteristics describe the building and lot.
type Characteristics struct {
	Beds           *float64 `json:"beds,omitempty"`
	Baths          *float64 `json:"baths,omitempty"`
	LivingAreaSqft *float64 `json:"living_area_sqft,omitempty"`
	LotSqft        *float64 `json:"lot_sqft,omitempty"`
	LotAcres       *float64 `json:"lot_acres,omitempty"`
	YearBuilt      *int     `json:"year_built,omitempty"`
	PropertyType   string   `json:"property_type,omitempty"`  // e.g. "SFR", "CONDO"
	PropertyClass  string   `json:"property_class,omitempty"` // e.g. "Single Family Residence / Townhouse"
	LandUse        string   `json:"land_use,omitempty"`
	FIPS           string   `json:"fips,omitempty"`
	APN            string   `json:"apn,omitempty"`
}

// Valuation gathers every money figure; amounts are whole US dollars.
type Valuation struct {
	AVMValue        *float64 `json:"avm_value,omitempty"`
	AVMHigh         *float64 `json:"avm_high,omitempty"`
	AVMLow          *float64 `json:"avm_low,omitempty"`
	AVMConfidence   *float64 `json:"avm_confidence,omitempty"` // ATTOM's scr, 0-100
	AVMDate         string   `json:"avm_date,omitempty"`
	AssessedTotal   *float64 `json:"assessed_total,omitempty"`
	MarketTotal     *float64 `json:"market_total,omitempty"`
	TaxAmount       *float64 `json:"tax_amount,omitempty"`
	TaxYear         *int     `json:"tax_year,omitempty"`
	LastSaleAmount  *float64 `json:"last_sale_amount,omitempty"`
	LastSaleDate    string   `json:"last_sale_date,omitempty"` // YYYY-MM-DD
	MortgageBalance *float64 `json:"mortgage_balance,omitempty"`
	EstimatedEquity *float64 `json:"estimated_equity,omitempty"`
	LTV             *float64 `json:"ltv,omitempty"` // loan-to-value, percent 0-100+
}

// Owner is who holds title and where they get mail.
type Owner struct {
	Names          []string         `json:"names,omitempty"` // trimmed full names
	Corporate      *bool            `json:"corporate,omitempty"`
	Trust          *bool            `json:"trust,omitempty"`
	MailingAddress string           `json:"mailing_address,omitempty"`
	Mailing        *address.Address `json:"mailing,omitempty"`
	Absentee       *bool            `json:"absentee,omitempty"`
	OutOfState     *bool            `json:"out_of_state,omitempty"`
	Deceased       *bool            `json:"deceased,omitempty"`
}

// Distress holds the facts the distress score reads that are not owner or valuation facts.
type Distress struct {
	PreForeclosure   *bool  `json:"pre_foreclosure,omitempty"`
	ForeclosureStage string `json:"foreclosure_stage,omitempty"` // NOD, LIS, NTS
	FilingDate       string `json:"filing_date,omitempty"`
	AuctionDate      string `json:"auction_date,omitempty"`
	AuctionScheduled *bool  `json:"auction_scheduled,omitempty"`
	BankOwned        *bool  `json:"bank_owned,omitempty"`
	RecentQuitClaim  *bool  `json:"recent_quit_claim,omitempty"`
	TaxDelinquent    *bool  `json:"tax_delinquent,omitempty"`
	Vacant           *bool  `json:"vacant,omitempty"`
	FreeAndClear     *bool  `json:"free_and_clear,omitempty"`
}

// Metadata says where the record came from.
type Metadata struct {
	Sources   []string          `json:"sources"`              // "attom", "county:cook", ...
	SourceIDs map[string]string `json:"source_ids,omitempty"` // source -> id (attomId for ATTOM)
	FetchedAt time.Time         `json:"fetched_at"`
	// RawRef points at the raw payload (a blob key or a property_records id).
	RawRef string `json:"raw_ref,omitempty"`
	// Simulated is true when the data came from the ATTOM simulator; every display says so.
	Simulated     bool `json:"simulated,omitempty"`
	SchemaVersion int  `json:"schema_version"`
	// Provenance maps a field path ("valuation.avm_value") to the source that supplied it
	// after a merge.
	Provenance map[string]string `json:"provenance,omitempty"`
}
