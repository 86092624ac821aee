package attom

import (
	"fmt"
	"net/url"
	"strings"
)

// Endpoint names a batch can choose; each one is a separately billed ATTOM call.
const (
	// EndpointExpandedProfile gives owner, absentee status, mortgage, assessment, last sale
	// and the REO and quit-claim flags: the core of a lead.
	EndpointExpandedProfile = "expandedprofile"
	// EndpointAVM gives ATTOM's automated valuation with its confidence score.
	EndpointAVM = "avm"
	// EndpointHomeEquity gives the estimated loan balance, available equity and LTV.
	EndpointHomeEquity = "homeequity"
	// EndpointPreforeclosure gives NOD / lis pendens filings and auction dates (v3 API).
	EndpointPreforeclosure = "preforeclosure"
)

// endpointPaths maps an endpoint name to its path below the gateway host.
var endpointPaths = map[string]string{
	EndpointExpandedProfile: "/propertyapi/v1.0.0/property/expandedprofile",
	EndpointAVM:             "/propertyapi/v1.0.0/attomavm/detail",
	EndpointHomeEquity:      "/propertyapi/v1.0.0/valuation/homeequity",
	EndpointPreforeclosure:  "/property/v3/preforeclosuredetails",
}

// Endpoints lists every known endpoint in a stable order, for help texts and validation.
func Endpoints() []string {
	return []string{EndpointExpandedProfile, EndpointAVM, EndpointHomeEquity, EndpointPreforeclosure}
}

// EndpointPath returns the URL path of an endpoint so that the simulator serves exactly the
// paths the client calls.
func EndpointPath(endpoint string) (string, bool) {
	p, ok := endpointPaths[endpoint]
	return p, ok
}

// EndpointForPath is the inverse of EndpointPath.
func EndpointForPath(path string) (string, bool) {
	for name, p := range endpointPaths {
		if p == path {
			return name, true
		}
	}
	return "", false
}

// IsDetailEndpoint reports whether the endpoint spells leaf fields in lower case
// (`propclass`), as ATTOM's detail endpoints do; the profile endpoint uses camelCase.
func IsDetailEndpoint(endpoint string) bool {
	return endpoint != EndpointExpandedProfile
}

// ParseEndpoints reads a comma-separated list such as "expandedprofile,avm" (a batch
// setting). Names are case-insensitive, blanks are ignored and duplicates dropped; an
// unknown name is an error that lists the known ones.
func ParseEndpoints(list string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, part := range strings.Split(list, ",") {
		name := strings.ToLower(strings.TrimSpace(part))
		if name == "" {
			continue
		}
		if _, ok := endpointPaths[name]; !ok {
			return nil, fmt.Errorf("attom: unknown endpoint %q (known: %s)", name, strings.Join(Endpoints(), ", "))
		}
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("attom: no endpoint in %q (known: %s)", list, strings.Join(Endpoints(), ", "))
	}
	return out, nil
}

// Query names one property: Line1 + Line2 ("CITY, ST ZIP"), or a one-line address, or an
// ATTOM id. The first non-empty form in the order AttomID, Line1/Line2, OneLine is sent.
type Query struct {
	Line1   string
	Line2   string
	OneLine string
	AttomID string
}

// values renders the query as ATTOM's parameters, or an error when nothing identifies a
// property.
func (q Query) values() (url.Values, error) {
	v := url.Values{}
	switch {
	case strings.TrimSpace(q.AttomID) != "":
		v.Set("attomid", strings.TrimSpace(q.AttomID))
	case strings.TrimSpace(q.Line1) != "" && strings.TrimSpace(q.Line2) != "":
		v.Set("address1", strings.TrimSpace(q.Line1))
		v.Set("address2", strings.TrimSpace(q.Line2))
	case strings.TrimSpace(q.OneLine) != "":
		v.Set("address", strings.TrimSpace(q.OneLine))
	default:
		return nil, fmt.Errorf("query needs attomid, address1 + address2, or a one-line address")
	}
	return v, nil
}

// String describes the query for errors and logs (addresses are not secrets).
func (q Query) String() string {
	v, err := q.values()
	if err != nil {
		return "(empty query)"
	}
	return v.Encode()
}
