package batch

import (
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/property"
)

func TestRecordIDsKeepPropertiesApartEvenWhenASourceIDRepeats(t *testing.T) {
	prop := func(hash string) property.Property {
		return property.Property{Key: "k-" + hash, Hash: hash, Metadata: property.Metadata{
			Sources: []string{"attom"}, SourceIDs: map[string]string{"attom": "42"}}}
	}
	now := time.Now()
	a, err := recordFor(prop("aaaa"), "", now)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := recordFor(prop("bbbb"), "", now)
	again, _ := recordFor(prop("aaaa"), "", now.Add(time.Hour))
	if a.ID == b.ID {
		t.Fatal("two properties with one source id share a record id: one would overwrite the other")
	}
	if a.ID != again.ID {
		t.Fatal("the same source's record of the same property must keep its id (an upsert, not a new row)")
	}
	if _, err := recordFor(property.Property{}, "", now); err == nil {
		t.Fatal("a property without a hash must be refused")
	}
}
