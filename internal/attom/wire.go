package attom

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// This file holds the wire format of ATTOM's property API v1 (and the v3 pre-foreclosure
// endpoint) as the real service sends it. encoding/json matches field names
// case-insensitively, so one tag reads both the detail spelling (`propclass`) and the
// profile spelling (`propClass`). Every field is optional: ATTOM omits what it does not know.

// Response is the envelope of every successful (or "SuccessWithoutResult") answer.
type Response struct {
	Status   Status     `json:"status"`
	Property []Property `json:"property"`
}

// UnauthorizedResponse is the odd 401 envelope: capital R and a string code.
type UnauthorizedResponse struct {
	Response struct {
		Status struct {
			Code string `json:"code"`
			Msg  string `json:"msg"`
		} `json:"status"`
	} `json:"Response"`
}

// Status is ATTOM's status block. Code 0 means success, 1 means "SuccessWithoutResult".
type Status struct {
	Version       string `json:"version"`
	Code          Num    `json:"code"`
	Msg           string `json:"msg"`
	Total         Num    `json:"total"`
	Page          Num    `json:"page"`
	PageSize      Num    `json:"pagesize"`
	TransactionID string `json:"transactionID"`
}

// Property is one property block; which sub-blocks are present depends on the endpoint.
type Property struct {
	Identifier     Identifier       `json:"identifier"`
	Lot            *Lot             `json:"lot,omitempty"`
	Address        Address          `json:"address"`
	Location       *Location        `json:"location,omitempty"`
	Summary        *Summary         `json:"summary,omitempty"`
	Building       *Building        `json:"building,omitempty"`
	Assessment     *Assessment      `json:"assessment,omitempty"`
	Owner          *Owner           `json:"owner,omitempty"`
	Mortgage       *Mortgage        `json:"mortgage,omitempty"`
	AVM            *AVM             `json:"avm,omitempty"`
	Sale           *Sale            `json:"sale,omitempty"`
	HomeEquity     *HomeEquity      `json:"homeEquity,omitempty"`
	Preforeclosure []Preforeclosure `json:"preforeclosure,omitempty"`
	Vintage        *Vintage         `json:"vintage,omitempty"`
}

// Identifier carries ATTOM's ids. Id and attomId are the same number in practice.
type Identifier struct {
	ID      Num    `json:"Id"`
	FIPS    string `json:"fips"`
	APN     string `json:"apn"`
	AttomID Num    `json:"attomId"`
}

// Address is ATTOM's standardized address: line1 street, line2 "CITY, ST ZIP".
type Address struct {
	Country     string `json:"country"`
	CountrySubd string `json:"countrySubd"`
	Line1       string `json:"line1"`
	Line2       string `json:"line2"`
	Locality    string `json:"locality"`
	MatchCode   string `json:"matchCode"`
	OneLine     string `json:"oneLine"`
	Postal1     string `json:"postal1"`
	Postal2     string `json:"postal2"`
	Postal3     string `json:"postal3"`
}

// Location is the geocode; ATTOM sends latitude and longitude as strings.
type Location struct {
	Accuracy  string `json:"accuracy"`
	Latitude  Num    `json:"latitude"`
	Longitude Num    `json:"longitude"`
}

// Lot sizes: lotSize1 in acres, lotSize2 in square feet.
type Lot struct {
	LotSize1 Num `json:"lotSize1"`
	LotSize2 Num `json:"lotSize2"`
}

// Summary holds the classification and the flags investors read first.
type Summary struct {
	AbsenteeInd   string `json:"absenteeInd"`
	PropClass     string `json:"propClass"`
	PropSubType   string `json:"propSubType"`
	PropType      string `json:"propType"`
	PropertyType  string `json:"propertyType"`
	PropLandUse   string `json:"propLandUse"`
	YearBuilt     Num    `json:"yearBuilt"`
	REOFlag       Flag   `json:"REOflag"`
	QuitClaimFlag Flag   `json:"quitClaimFlag"`
}

// Building carries size and rooms.
type Building struct {
	Size struct {
		LivingSize    Num `json:"livingSize"`
		UniversalSize Num `json:"universalSize"`
		BldgSize      Num `json:"bldgSize"`
	} `json:"size"`
	Rooms struct {
		BathsTotal Num `json:"bathsTotal"`
		Beds       Num `json:"beds"`
	} `json:"rooms"`
}

// Assessment is the county's view: assessed and market totals, tax, and (in the expanded
// profile) the owner and mortgage blocks.
type Assessment struct {
	Assessed struct {
		AssdTtlValue Num `json:"assdTtlValue"`
	} `json:"assessed"`
	Market struct {
		MktTtlValue Num `json:"mktTtlValue"`
	} `json:"market"`
	Tax struct {
		TaxAmt  Num `json:"taxAmt"`
		TaxYear Num `json:"taxYear"`
	} `json:"tax"`
	Owner    *Owner    `json:"owner,omitempty"`
	Mortgage *Mortgage `json:"mortgage,omitempty"`
}

// Owner as ATTOM reports it. Names carry trailing spaces.
type Owner struct {
	CorporateIndicator    string    `json:"corporateIndicator"`
	Type                  string    `json:"type"`
	Owner1                OwnerName `json:"owner1"`
	Owner2                OwnerName `json:"owner2"`
	AbsenteeOwnerStatus   string    `json:"absenteeOwnerStatus"`
	MailingAddressOneLine string    `json:"mailingAddressOneLine"`
}

// OwnerName is one owner's name parts.
type OwnerName struct {
	FullName       string `json:"fullName"`
	LastName       string `json:"lastName"`
	FirstNameAndMI string `json:"firstNameAndMi"`
}

// Mortgage holds the first concurrent loan.
type Mortgage struct {
	FirstConcurrent struct {
		Amount         Num    `json:"amount"`
		LenderLastName string `json:"lenderLastName"`
		Date           string `json:"date"`
	} `json:"FirstConcurrent"`
}

// AVM is ATTOM's automated valuation (attomavm/detail). scr is the confidence score 0-100.
type AVM struct {
	EventDate string `json:"eventDate"`
	Amount    struct {
		Value Num `json:"value"`
		High  Num `json:"high"`
		Low   Num `json:"low"`
		Scr   Num `json:"scr"`
	} `json:"amount"`
}

// Sale is the last recorded transfer.
type Sale struct {
	SaleTransDate string `json:"saleTransDate"`
	Amount        struct {
		SaleAmt       Num    `json:"saleAmt"`
		SaleRecDate   string `json:"saleRecDate"`
		SaleTransType string `json:"saleTransType"`
	} `json:"amount"`
}

// HomeEquity is the valuation/homeequity block.
type HomeEquity struct {
	TotalEstimatedLoanBalance Num `json:"totalEstimatedLoanBalance"`
	EstimatedAvailableEquity  Num `json:"estimatedAvailableEquity"`
	LTV                       Num `json:"LTV"`
}

// Preforeclosure is one filing from /property/v3/preforeclosuredetails.
type Preforeclosure struct {
	DocumentType  string `json:"documentType"` // NOD, LIS (lis pendens), NTS (notice of trustee sale)
	RecordingDate string `json:"recordingDate"`
	AuctionDate   string `json:"auctionDate"`
	DefaultAmount Num    `json:"defaultAmount"`
	Status        string `json:"status"`
}

// Vintage says when ATTOM last changed the record.
type Vintage struct {
	LastModified string `json:"lastModified"`
	PubDate      string `json:"pubDate"`
}

// Num reads a JSON number, a numeric string, an empty string or null. ATTOM mixes all four.
// The zero value means "absent"; Valid tells absent from zero.
type Num struct {
	Value float64
	Valid bool
}

// NewNum returns a present number.
func NewNum(v float64) Num { return Num{Value: v, Valid: true} }

// UnmarshalJSON accepts numbers and numeric strings; anything else non-numeric is absent.
func (n *Num) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*n = Num{}
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return nil
	}
	if b[0] == '"' {
		s, err := unquote(b)
		if err != nil {
			return err
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			*n = Num{Value: v, Valid: true}
		}
		return nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	*n = Num{Value: v, Valid: true}
	return nil
}

// unquote reads a JSON string; numeric strings have no escapes, so the common case skips
// the full decoder.
func unquote(b []byte) (string, error) {
	if len(b) >= 2 && b[len(b)-1] == '"' && bytes.IndexByte(b[1:len(b)-1], '\\') < 0 {
		return string(b[1 : len(b)-1]), nil
	}
	var s string
	err := json.Unmarshal(b, &s)
	return s, err
}

// MarshalJSON writes a number, or null when absent.
func (n Num) MarshalJSON() ([]byte, error) {
	if !n.Valid {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, n.Value, 'f', -1, 64), nil
}

// Int returns the value as an int64 (0 when absent).
func (n Num) Int() int64 { return int64(n.Value) }

// Flag reads ATTOM's booleans, which come as true/false, "Y"/"N", "True"/"False" or absent.
// Unknown (absent) is kept apart from false.
type Flag struct {
	Value bool
	Valid bool
}

// UnmarshalJSON accepts JSON booleans and the usual string spellings.
func (f *Flag) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*f = Flag{}
	switch string(bytes.ToUpper(bytes.Trim(b, `"`))) {
	case "TRUE", "Y", "YES", "1":
		*f = Flag{Value: true, Valid: true}
	case "FALSE", "N", "NO", "0":
		*f = Flag{Value: false, Valid: true}
	}
	return nil
}

// MarshalJSON writes true, false or null.
func (f Flag) MarshalJSON() ([]byte, error) {
	if !f.Valid {
		return []byte("null"), nil
	}
	return strconv.AppendBool(nil, f.Value), nil
}
