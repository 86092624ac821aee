package csvin

import (
	"fmt"
	"strings"
)

// role is what an input column means for the address.
type role int

const (
	roleNone role = iota
	roleStreet
	roleStreet2
	roleCity
	roleState
	roleZIP
	roleOneLine
)

// headerAliases maps normalized header names (lower case, '_' for spaces and dashes) to roles.
var headerAliases = map[string]role{
	"address": roleStreet, "street": roleStreet, "address1": roleStreet, "address_1": roleStreet,
	"address_line_1": roleStreet, "addressline1": roleStreet, "property_address": roleStreet,
	"street_address": roleStreet, "site_address": roleStreet, "situs_address": roleStreet,
	"street_line_1": roleStreet, "line1": roleStreet, "property_street": roleStreet,

	"address2": roleStreet2, "address_2": roleStreet2, "address_line_2": roleStreet2,
	"addressline2": roleStreet2, "unit": roleStreet2, "apt": roleStreet2, "suite": roleStreet2,
	"unit_number": roleStreet2, "line2": roleStreet2, "street_line_2": roleStreet2,

	"city": roleCity, "town": roleCity, "property_city": roleCity, "site_city": roleCity,
	"locality": roleCity,

	"state": roleState, "st": roleState, "state_code": roleState, "property_state": roleState,
	"site_state": roleState,

	"zip": roleZIP, "zip_code": roleZIP, "zipcode": roleZIP, "postal_code": roleZIP,
	"postalcode": roleZIP, "zip5": roleZIP, "postal": roleZIP, "property_zip": roleZIP,
	"site_zip": roleZIP, "zip_5": roleZIP,

	"full_address": roleOneLine, "one_line": roleOneLine, "oneline": roleOneLine,
	"one_line_address": roleOneLine, "complete_address": roleOneLine,
	"formatted_address": roleOneLine, "single_line_address": roleOneLine,
}

// lookedFor is the error text that tells a person which headers would have worked.
const lookedFor = "looked for a street column (address, street, address1, address_1, " +
	"property_address, street_address) with city + state or zip (zip, zip_code, zipcode, " +
	"postal_code, zip5), or a one-line address column (full_address, one_line, or address " +
	"with no city, state or zip column)"

// columns says which column index holds each part of the address; -1 when absent.
type columns struct {
	street, street2, city, state, zip, oneLine int
}

// detectColumns maps a header row to address columns, first matching column winning.
func detectColumns(header []string) (columns, error) {
	c := columns{street: -1, street2: -1, city: -1, state: -1, zip: -1, oneLine: -1}
	for i, name := range header {
		slot := c.slot(headerAliases[NormalizeHeader(name)])
		if slot != nil && *slot < 0 {
			*slot = i
		}
	}
	switch {
	case c.oneLine >= 0:
		c.street, c.street2 = -1, -1 // one column holds it all; city/state/zip fill gaps
	case c.street >= 0 && c.city < 0 && c.state < 0 && c.zip < 0:
		c.oneLine, c.street = c.street, -1
	case c.street >= 0 && (c.zip >= 0 || c.city >= 0 && c.state >= 0):
	default:
		shown := header
		if len(shown) > 12 {
			shown = shown[:12]
		}
		return c, fmt.Errorf("no address columns in header %q: %s", shown, lookedFor)
	}
	return c, nil
}

func (c *columns) slot(r role) *int {
	switch r {
	case roleStreet:
		return &c.street
	case roleStreet2:
		return &c.street2
	case roleCity:
		return &c.city
	case roleState:
		return &c.state
	case roleZIP:
		return &c.zip
	case roleOneLine:
		return &c.oneLine
	}
	return nil
}

// NormalizeHeader turns " Zip Code ", "ZIP-CODE" and "zip.code" into "zip_code": the one
// reading of a column name, for the address columns here and the import's other fields.
func NormalizeHeader(name string) string {
	name = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(name, "\ufeff")))
	var b strings.Builder
	underscore := false
	for _, r := range name {
		switch {
		case r == ' ' || r == '-' || r == '.' || r == '_' || r == '/':
			underscore = b.Len() > 0
		default:
			if underscore {
				b.WriteByte('_')
				underscore = false
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}
