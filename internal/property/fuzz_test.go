package property

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/attom"
)

// FuzzFromAttom: whatever ATTOM sends, conversion answers a property or an error, never a
// panic, and a property it returns has a consistent identity and encodes as JSON.
func FuzzFromAttom(f *testing.F) {
	names, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, n := range names {
		raw, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		var resp struct {
			Property []json.RawMessage `json:"property"`
		}
		if err := json.Unmarshal(raw, &resp); err == nil && len(resp.Property) > 0 {
			f.Add([]byte(resp.Property[0]), "expandedprofile")
		}
	}
	f.Add([]byte(`{"address":{"line1":"1 A ST","postal1":"12345"},"location":{"latitude":"NaN","longitude":"1"}}`), "avm")
	f.Fuzz(func(t *testing.T, body []byte, endpoint string) {
		var ap attom.Property
		if json.Unmarshal(body, &ap) != nil {
			return
		}
		p, err := FromAttom(endpoint, ap, fetched, false)
		if err != nil {
			return
		}
		checkIdentity(t, p)
		if _, err := json.Marshal(p); err != nil {
			t.Fatalf("converted property does not encode: %v", err)
		}
		Merge([]Property{p, p}, DefaultPrecedence())
	})
}

// FuzzFromRecord: any cell values give a property or a *FieldError, never a panic.
func FuzzFromRecord(f *testing.F) {
	f.Add("4529 Winona Ct", "80212", "$1,000", "03/15/2009", "Y", "ACME LLC")
	f.Add("", "", "NaN", "2009-13-45", "maybe", "")
	f.Fuzz(func(t *testing.T, street, zip, amount, date, flag, owner string) {
		p, err := FromRecord("county:x", map[string]string{
			"address": street, "zip": zip, "city": "DENVER", "state": "CO",
			"market_value": amount, "last_sale_date": date, "vacant": flag, "owner_name": owner,
		}, time.Unix(0, 0))
		if err != nil {
			if _, ok := err.(*FieldError); !ok {
				t.Fatalf("error %v is not a *FieldError", err)
			}
			return
		}
		if _, err := json.Marshal(p); err != nil {
			t.Fatalf("converted property does not encode: %v", err)
		}
	})
}
