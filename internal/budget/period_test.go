package budget

import (
	"testing"
	"time"
)

func TestAShortPeriodsDaysAlignToTheEpochAndSort(t *testing.T) {
	p := Period(7 * time.Second)
	at := time.Unix(1_000_003, 500) // 1,000,003 = 142,857*7 + 4
	start := p.Start(at)
	if start.Unix() != 999_999 || !p.NextReset(at).Equal(start.Add(7*time.Second)) {
		t.Fatalf("start %s reset %s", start, p.NextReset(at))
	}
	day := p.Day(at)
	if day != "1970-01-12T13:46:39Z" {
		t.Fatalf("key %q", day)
	}
	if parsed, err := ParseDay(day); err != nil || !parsed.Equal(start) {
		t.Fatalf("ParseDay(%q) = %s, %v", day, parsed, err)
	}
	if next := p.Day(p.NextReset(at)); next <= day {
		t.Fatalf("keys do not sort: %q then %q", day, next)
	}
	if err := CheckAmounts(day, 10, 5); err != nil {
		t.Fatal(err)
	}
	if err := CheckAmounts("2026-11-30", 10, 5); err != nil {
		t.Fatal(err)
	}
	if err := CheckAmounts("yesterday", 10, 5); err == nil {
		t.Fatal("a bad key was accepted")
	}
}
