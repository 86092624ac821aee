package address

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// scratchInputs exercise every path that writes to normalize's scratch memory: units from
// line 1 and line 2, routes, ordinals, rural routes, one-line input, non-ASCII text, and
// inputs too long for the stack arrays (more words than they hold, more bytes than scratch).
var scratchInputs = []Input{
	{Line1: "123 North Main Street", Line2: "Apt 4", City: "Springfield", State: "IL", ZIP: "62701"},
	{Line1: "4567 W 42nd St. #5", City: "New York", State: "New York", ZIP: "10036-1234"},
	{Line1: "89 Oak Avenue", City: "Austin", State: "TX", ZIP: "78701"},
	{Line1: "1200 County Road 12", City: "Bryan", State: "tx", ZIP: "77801"},
	{Line1: "12 First Street", Line2: "Bldg 3 Apt 4", City: "st. louis", State: "Mo."},
	{Line1: "12 W 42 St", Line2: "4B", ZIP: "10036"},
	{Line1: "RR 2 Box 152", City: "Town", State: "KS", ZIP: "66000"},
	{Line1: "5 I-95 N", City: "Miami", State: "FL"},
	{Line1: "N123W4567 Kennedy Space Center Blvd Bldg 3 Rear", City: "St. Louis", State: "Mo."},
	{Line1: "9 Ñandú Calle", City: "San Germán", State: "Puerto Rico", ZIP: "00683"},
	{Line1: "77 Main St Apt # AAA", City: "Springfield", State: "IL"},
	{OneLine: "123 Main St Apt 4, Springfield, IL 62701"},
	{OneLine: "9 Broadway, 10001"},
	{Line1: "1 " + strings.Repeat("Long ", 30) + "St", City: strings.Repeat("Big ", 20) + "City", ZIP: "62701"},
	{Line1: "1 " + strings.Repeat("Wordy", 60) + " Rd", City: strings.Repeat("Metropolis", 40), ZIP: "62701"},
	{Line1: "1 Main St", Line2: "Apt " + strings.Repeat("9", 300), ZIP: "62701"},
	{Line1: "PO Box 5", ZIP: "62701"},
	{Line1: "123 Main St", ZIP: "6270"},
}

// checkWithKey asserts that NormalizeWithKey returns what Normalize and Key return.
func checkWithKey(t *testing.T, in Input, want Address, wantErr error) {
	t.Helper()
	got, key, err := NormalizeWithKey(in)
	if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
		t.Fatalf("NormalizeWithKey(%+v) error %v, Normalize error %v", in, err, wantErr)
	}
	if got != want {
		t.Fatalf("NormalizeWithKey(%+v) = %+v, Normalize = %+v", in, got, want)
	}
	if err == nil && key != want.Key() {
		t.Fatalf("NormalizeWithKey(%+v) key %q, Key() = %q", in, key, want.Key())
	}
	if err != nil && key != "" {
		t.Fatalf("NormalizeWithKey(%+v) failed with %v but returned key %q", in, err, key)
	}
	sentinel := Address{Line1: "UNTOUCHED"}
	into := sentinel
	intoKey, intoErr := NormalizeInto(&into, in)
	if (intoErr == nil) != (err == nil) || intoKey != key {
		t.Fatalf("NormalizeInto(%+v) = %q, %v; NormalizeWithKey = %q, %v", in, intoKey, intoErr, key, err)
	}
	if err == nil && into != want || err != nil && into != sentinel {
		t.Fatalf("NormalizeInto(%+v) left %+v (error %v), want %+v", in, into, intoErr, want)
	}
	var arena Arena
	into = sentinel
	intoKey, intoErr = arena.NormalizeInto(&into, in)
	if (intoErr == nil) != (err == nil) || intoKey != key {
		t.Fatalf("Arena.NormalizeInto(%+v) = %q, %v; NormalizeWithKey = %q, %v", in, intoKey, intoErr, key, err)
	}
	if err == nil && into != want || err != nil && into != sentinel {
		t.Fatalf("Arena.NormalizeInto(%+v) left %+v (error %v), want %+v", in, into, intoErr, want)
	}
}

func TestNormalizeWithKeyAgreesWithNormalize(t *testing.T) {
	for _, in := range scratchInputs {
		a, err := Normalize(in)
		checkWithKey(t, in, a, err)
	}
}

// TestResultsOutliveLaterCalls keeps every result while normalizing the other inputs many
// times, then compares it with a copy taken when it was returned: a field that pointed into
// memory a later call reuses (the scratch on the stack) would have changed.
func TestResultsOutliveLaterCalls(t *testing.T) {
	type kept struct {
		a, copied Address
		key       string
		keyCopy   string
	}
	var all []kept
	var arena Arena
	for round := 0; round < 100; round++ {
		for _, in := range scratchInputs {
			a, key, err := NormalizeWithKey(in)
			if round%2 == 1 { // odd rounds share one arena across many blocks
				a = Address{}
				key, err = arena.NormalizeInto(&a, in)
			}
			var fe *FieldError
			if err != nil && !errors.As(err, &fe) {
				t.Fatalf("%+v: %v", in, err)
			}
			all = append(all, kept{a: a, copied: cloneAddress(a), key: key, keyCopy: strings.Clone(key)})
		}
	}
	for i, k := range all {
		if k.a != k.copied || k.key != k.keyCopy {
			t.Fatalf("result %d changed after later calls: %+v (key %q), was %+v (key %q)", i, k.a, k.key, k.copied, k.keyCopy)
		}
	}
}

func cloneAddress(a Address) Address {
	c := strings.Clone
	return Address{Number: c(a.Number), PreDir: c(a.PreDir), Street: c(a.Street), Suffix: c(a.Suffix),
		PostDir: c(a.PostDir), UnitType: c(a.UnitType), UnitNumber: c(a.UnitNumber), Line1: c(a.Line1),
		Unit: c(a.Unit), City: c(a.City), State: c(a.State), ZIP5: c(a.ZIP5), ZIP4: c(a.ZIP4)}
}

// TestNormalizeScratchStaysOnTheStack guards the one-allocation design: NormalizeWithKey of
// a typical address allocates only the string that holds its text.
func TestNormalizeScratchStaysOnTheStack(t *testing.T) {
	for _, in := range scratchInputs[:4] {
		allocs := testing.AllocsPerRun(100, func() {
			if _, _, err := NormalizeWithKey(in); err != nil {
				t.Fatal(err)
			}
		})
		if allocs > 1 {
			t.Errorf("NormalizeWithKey(%+v) makes %.0f allocations, want 1", in, allocs)
		}
	}
}

// TestArenaAllocatesPerBlock guards the point of Arena: many typical addresses share an
// allocation.
func TestArenaAllocatesPerBlock(t *testing.T) {
	var arena Arena
	var a Address
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := arena.NormalizeInto(&a, scratchInputs[0]); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0.1 {
		t.Errorf("Arena.NormalizeInto makes %.2f allocations per address, want at most 0.1", allocs)
	}
}

// render sets the fields of *dst one by one: a field added to Address and not set there would
// keep whatever the destination held before.
func TestNormalizeIntoOverwritesEveryField(t *testing.T) {
	var stale Address
	fields := reflect.ValueOf(&stale).Elem()
	for i := range fields.NumField() {
		fields.Field(i).SetString("STALE")
	}
	in := Input{Line1: "1 Main St", City: "Springfield", State: "IL", ZIP: "62701"}
	want, err := Normalize(in)
	if err != nil {
		t.Fatal(err)
	}
	var arena Arena
	for name, into := range map[string]func(*Address, Input) (string, error){
		"NormalizeInto": NormalizeInto, "Arena.NormalizeInto": arena.NormalizeInto,
	} {
		got := stale
		if _, err := into(&got, in); err != nil || got != want {
			t.Errorf("%s over a stale Address: %+v, %v; want %+v", name, got, err, want)
		}
	}
}
