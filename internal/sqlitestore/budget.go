package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/leadflow/attom-batch/internal/budget"
)

// Budget is the daily cap kept in the budget_days table. Every call is one statement, so
// the cap holds across goroutines and across processes sharing the file.
type Budget struct {
	store    *Store
	capCents int64
}

var _ budget.Budget = (*Budget)(nil)

// Budget returns the budget port capped at capCents per UTC day. The cap is the caller's
// setting: it is written to the day's row on each reservation, so a changed setting applies
// from the next reservation on.
func (s *Store) Budget(capCents int64) *Budget { return &Budget{store: s, capCents: capCents} }

// Reserve implements budget.Budget with one conditional UPDATE, which either adds cents to
// reserved or, past the cap, changes nothing.
func (b *Budget) Reserve(ctx context.Context, day string, cents int64) error {
	if err := budget.CheckAmounts(day, cents, 0); err != nil {
		return err
	}
	res, err := b.store.db.ExecContext(ctx, `INSERT INTO budget_days (day, cap, reserved, spent)
SELECT ?1, ?2, ?3, 0 WHERE ?3 <= ?2
ON CONFLICT (day) DO UPDATE SET reserved = reserved + ?3, cap = ?2
WHERE reserved + spent + ?3 <= ?2`, day, b.capCents, cents)
	if err != nil {
		return fmt.Errorf("sqlitestore: reserve %d cents on %s: %w", cents, day, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	u, err := b.Usage(ctx, day)
	if err != nil {
		return err
	}
	return &budget.Exhausted{Day: day, CapCents: b.capCents, UsedCents: u.ReservedCents + u.SpentCents, AskCents: cents}
}

// Settle implements budget.Budget; it refuses to settle more than is reserved.
func (b *Budget) Settle(ctx context.Context, day string, reservedCents, spentCents int64) error {
	if err := budget.CheckAmounts(day, reservedCents, spentCents); err != nil {
		return err
	}
	if reservedCents == 0 {
		return nil
	}
	res, err := b.store.db.ExecContext(ctx, `UPDATE budget_days
SET reserved = reserved - ?, spent = spent + ? WHERE day = ? AND reserved >= ?`,
		reservedCents, spentCents, day, reservedCents)
	if err != nil {
		return fmt.Errorf("sqlitestore: settle %s: %w", day, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("sqlitestore: settle %s: fewer than %d cents reserved", day, reservedCents)
	}
	return nil
}

// Usage implements budget.Budget; a day with no row reads as nothing used.
func (b *Budget) Usage(ctx context.Context, day string) (budget.Usage, error) {
	if err := budget.CheckAmounts(day, 0, 0); err != nil {
		return budget.Usage{}, err
	}
	u := budget.Usage{Day: day, CapCents: b.capCents}
	err := b.store.db.QueryRowContext(ctx, `SELECT reserved, spent FROM budget_days WHERE day = ?`, day).
		Scan(&u.ReservedCents, &u.SpentCents)
	if err != nil && err != sql.ErrNoRows {
		return budget.Usage{}, fmt.Errorf("sqlitestore: usage of %s: %w", day, err)
	}
	return u, nil
}
