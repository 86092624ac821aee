package attomsim

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/leadflow/attom-batch/internal/attom"
)

const day = 24 * time.Hour

// home is the synthetic truth about one address; each endpoint shows a part of it.
type home struct {
	key      string
	notFound bool

	attomID                   int64
	fips, apn                 string
	line1, city, state        string
	zip5, zip4                string
	lat, lon                  float64
	kind                      int
	yearBuilt                 int
	living, beds              int
	baths                     float64
	lotSqft                   int
	market, assessed          float64
	taxAmt                    float64
	taxYear                   int
	owner1, owner2            attom.OwnerName
	corporate                 bool
	ownerType                 string
	absentee, outOfState      bool
	mailing                   string
	reo, quitClaim            bool
	sold                      time.Time
	saleDate, saleRecDate     string
	saleAmt                   float64
	saleType                  string
	mortgageAmt               float64
	mortgageDate, lender      string
	avmValue, avmHigh, avmLow float64
	scr                       float64
	avmDate                   string
	loanBalance, equity, ltv  float64
	filings                   []attom.Preforeclosure
	lastModified, publishedOn string
}

// seededRand gives the same random stream for the same seed and key, on every run.
func seededRand(seed int64, key string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(key))
	return rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
}

func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

func between(r *rand.Rand, lo, hi float64) float64 { return lo + r.Float64()*(hi-lo) }

func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

func dollars(v float64) float64 { return math.Round(v) }

func date(t time.Time) string { return t.Format("2006-01-02") }

// synthesize builds the home at key. line1/line2 are what the caller sent; an unreadable
// line 2 gets a plausible place. The random draws happen in a fixed order so that the same
// (seed, key) always gives the same home.
func synthesize(opts Options, key, line1, line2 string) *home {
	r := seededRand(opts.Seed, key)
	h := &home{key: key}
	h.notFound = chance(r, opts.NotFoundRate)
	distressed := chance(r, opts.DistressRate)
	h.placeAddress(r, line1, line2)
	h.describeBuilding(r)
	h.value(r)
	h.chooseOwner(r)
	h.recordSale(r, opts.ReferenceDate)
	h.financeAndValue(r, opts.ReferenceDate, distressed)
	if distressed {
		h.fileDistress(r, opts.ReferenceDate)
	}
	h.lastModified = date(opts.ReferenceDate.Add(-time.Duration(1+r.IntN(30)) * day))
	h.publishedOn = date(opts.ReferenceDate)
	return h
}

func (h *home) placeAddress(r *rand.Rand, line1, line2 string) {
	h.line1 = standardizeLine1(line1)
	if h.line1 == "" {
		h.line1 = fmt.Sprintf("%d %s %s", 100+r.IntN(9800), pick(r, streetNames), pick(r, streetSuffixes))
	}
	city, state, zip5, zip4, ok := parseLine2(line2)
	if !ok {
		p := pick(r, fallbackPlaces)
		city, state, zip5 = p.City, p.State, p.ZIP
	}
	if zip5 == "" {
		zip5 = fmt.Sprintf("%05d", 10000+r.IntN(89999))
	}
	if zip4 == "" {
		zip4 = fmt.Sprintf("%04d", 1+r.IntN(9998))
	}
	h.city, h.state, h.zip5, h.zip4 = city, state, zip5, zip4
	c := stateCentroids[state]
	_ = r.Int64N(900000000) // keeps the stream of the other fields as it was
	h.attomID = attomIDFor(h.line1, h.zip5)
	h.fips = fmt.Sprintf("%s%03d", c.FIPS, 1+2*r.IntN(100))
	h.apn = fmt.Sprintf("%03d-%03d-%02d", r.IntN(1000), r.IntN(1000), r.IntN(100))
	h.lat = c.Lat + between(r, -1, 1)
	h.lon = c.Lon + between(r, -1, 1)
}

func (h *home) describeBuilding(r *rand.Rand) {
	x := r.Float64()
	for i, k := range propertyKinds {
		if x < k.Share || i == len(propertyKinds)-1 {
			h.kind = i
			break
		}
		x -= k.Share
	}
	h.yearBuilt = 1905 + r.IntN(118)
	h.living = 900 + r.IntN(2900)
	if propertyKinds[h.kind].Type == "CONDOMINIUM" {
		h.living = 600 + r.IntN(1300)
	} else {
		h.lotSqft = 2500 + r.IntN(20000)
	}
	h.beds = max(1, min(6, h.living/600+r.IntN(2)))
	h.baths = float64(1+r.IntN(max(1, h.beds))) + 0.5*float64(r.IntN(2))
}

var pricierStates = map[string]float64{"CA": 2.2, "HI": 2.4, "MA": 1.8, "WA": 1.7, "NY": 1.6, "NJ": 1.5, "CO": 1.5, "DC": 2.0, "OR": 1.4}

func (h *home) value(r *rand.Rand) {
	factor := pricierStates[h.state]
	if factor == 0 {
		factor = 1
	}
	perSqft := between(r, 95, 240) * factor
	h.market = dollars(float64(h.living)*perSqft/100) * 100
	h.assessed = dollars(h.market * between(r, 0.3, 1.0))
	h.taxAmt = dollars(h.market * between(r, 0.006, 0.022))
}

// owner categories and how common they are among addresses in a lead list.
const (
	shareREO     = 0.015
	shareEstate  = 0.04
	shareTrust   = 0.09
	shareCompany = 0.10
)

func (h *home) chooseOwner(r *rand.Rand) {
	first, last := pick(r, firstNames), pick(r, lastNames)
	x := r.Float64()
	absenteeShare := 0.25
	switch {
	case x < shareREO:
		h.reo, h.corporate, h.ownerType = true, true, "COMPANY"
		h.owner1 = attom.OwnerName{FullName: pick(r, banks) + " "}
		absenteeShare = 1
	case x < shareREO+shareEstate:
		h.ownerType = "INDIVIDUAL"
		h.owner1 = attom.OwnerName{FullName: "ESTATE OF " + first + " " + last + " ", LastName: last + " ", FirstNameAndMI: first + " "}
		absenteeShare = 0.5
	case x < shareREO+shareEstate+shareTrust:
		h.ownerType = "INDIVIDUAL"
		h.owner1 = attom.OwnerName{FullName: last + " FAMILY TRUST ", LastName: last + " "}
		absenteeShare = 0.3
	case x < shareREO+shareEstate+shareTrust+shareCompany:
		h.corporate, h.ownerType = true, "COMPANY"
		h.owner1 = attom.OwnerName{FullName: pick(r, companyWords) + " " + pick(r, companyKinds) + " "}
		absenteeShare = 0.9
	default:
		h.ownerType = "INDIVIDUAL"
		mi := string(rune('A' + r.IntN(26)))
		h.owner1 = attom.OwnerName{FullName: first + " " + mi + " " + last + " ", LastName: last + " ", FirstNameAndMI: first + " " + mi + " "}
		if chance(r, 0.4) {
			f2 := pick(r, firstNames)
			h.owner2 = attom.OwnerName{FullName: f2 + " " + last + " ", LastName: last + " ", FirstNameAndMI: f2 + " "}
		}
	}
	h.absentee = chance(r, absenteeShare)
	h.mailing = h.mailingAddress(r)
}

func (h *home) oneLine() string {
	return fmt.Sprintf("%s, %s, %s %s", h.line1, h.city, h.state, h.zip5)
}

func (h *home) mailingAddress(r *rand.Rand) string {
	if !h.absentee {
		return h.oneLine()
	}
	street := fmt.Sprintf("%d %s %s", 100+r.IntN(9800), pick(r, streetNames), pick(r, streetSuffixes))
	p := pick(r, fallbackPlaces)
	if chance(r, 0.35) && p.State != h.state {
		h.outOfState = true
		return fmt.Sprintf("%s, %s, %s %s", street, p.City, p.State, p.ZIP)
	}
	return fmt.Sprintf("%s, %s, %s %s", street, h.city, h.state, h.zip5)
}

func (h *home) recordSale(r *rand.Rand, ref time.Time) {
	years := 0.3 + r.ExpFloat64()*9
	if strings.HasPrefix(h.owner1.FullName, "ESTATE OF") {
		years += 12
	}
	h.quitClaim = !h.reo && chance(r, 0.04)
	h.saleType = "Resale"
	switch {
	case h.reo:
		years, h.saleType = between(r, 0.1, 1.5), "Foreclosure"
	case h.quitClaim:
		years, h.saleType = between(r, 0.1, 2), "Quit Claim"
	}
	years = min(years, 45)
	sold := ref.Add(-time.Duration(years * 365.25 * float64(day)))
	h.sold = sold
	h.saleDate = date(sold)
	h.saleRecDate = date(sold.Add(time.Duration(3+r.IntN(20)) * day))
	h.saleAmt = dollars(h.market/math.Pow(1.045, years)/500) * 500
	if h.quitClaim {
		h.saleAmt = 0
	}
}

func (h *home) financeAndValue(r *rand.Rand, ref time.Time, distressed bool) {
	h.taxYear = ref.Year() - 1
	h.avmValue = dollars(h.market * between(r, 0.95, 1.25))
	h.scr = float64(55 + r.IntN(44))
	spread := (100 - h.scr) / 100 * 0.6
	h.avmHigh = dollars(h.avmValue * (1 + spread))
	h.avmLow = dollars(h.avmValue * (1 - spread))
	h.avmDate = date(ref.Add(-time.Duration(r.IntN(45)) * day))

	years := ref.Sub(h.sold).Hours() / 24 / 365.25
	freeAndClear := 0.25
	if years > 20 {
		freeAndClear = 0.65
	}
	if !distressed && (h.reo || chance(r, freeAndClear)) {
		return
	}
	base := h.saleAmt
	if base == 0 {
		base = h.market * 0.6
	}
	h.mortgageAmt = dollars(base * between(r, 0.7, 0.95))
	h.mortgageDate = h.saleDate
	h.lender = pick(r, lenders)
	h.loanBalance = dollars(h.mortgageAmt * math.Max(0.05, 1-years/30))
	if distressed {
		h.loanBalance = dollars(h.avmValue * between(r, 0.8, 1.1))
	}
	h.equity = h.avmValue - h.loanBalance
	h.ltv = math.Round(h.loanBalance / h.avmValue * 100)
}

// fileDistress records a notice of default (or lis pendens in judicial states) and, for a
// share of them, a scheduled trustee sale.
func (h *home) fileDistress(r *rand.Rand, ref time.Time) {
	doc := "NOD"
	if stateCentroids[h.state].Judicial {
		doc = "LIS"
	}
	filed := ref.Add(-time.Duration(15+r.IntN(345)) * day)
	amount := dollars(between(r, 4000, 60000))
	h.filings = append(h.filings, attom.Preforeclosure{
		DocumentType: doc, RecordingDate: date(filed), DefaultAmount: attom.NewNum(amount), Status: "Active",
	})
	if chance(r, 0.4) {
		auction := ref.Add(time.Duration(7+r.IntN(68)) * day)
		h.filings = append(h.filings, attom.Preforeclosure{
			DocumentType: "NTS", RecordingDate: date(auction.Add(-30 * day)), AuctionDate: date(auction),
			DefaultAmount: attom.NewNum(amount), Status: "Active",
		})
	}
}

// attomIDFor derives a home's id from its standardized address: the same home always has
// the same id, and two homes practically never share one (ids span 9e15 values, still exact
// in the float64 JSON numbers carry).
func attomIDFor(line1, zip5 string) int64 {
	h := fnv.New64a()
	h.Write([]byte(line1 + "|" + zip5))
	const span = 9_000_000_000_000_000
	return 1_000_000_000 + int64(h.Sum64()%span)
}
