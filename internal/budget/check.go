package budget

import (
	"fmt"
)

// CheckAmounts validates the arguments every Budget implementation receives, so the memory,
// SQLite and DynamoDB budgets refuse the same bad calls with the same messages: day must be a
// YYYY-MM-DD date (or a shorter Period's YYYY-MM-DDTHH:MM:SSZ), amounts must not be
// negative, and what is spent cannot exceed what was reserved (the difference is the refund;
// a bigger spend would slip past the cap).
func CheckAmounts(day string, reservedCents, spentCents int64) error {
	if _, err := ParseDay(day); err != nil {
		return fmt.Errorf("budget: day %q: want YYYY-MM-DD", day)
	}
	if reservedCents < 0 || spentCents < 0 {
		return fmt.Errorf("budget: %s: negative amount (reserved %d, spent %d)", day, reservedCents, spentCents)
	}
	if spentCents > reservedCents {
		return fmt.Errorf("budget: %s: spent %d cents exceeds reserved %d", day, spentCents, reservedCents)
	}
	return nil
}
