package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/leadflow/attom-batch/internal/batch"
)

var leasesTable = table{name: "leases", columns: []column{
	{"name", text}, {"owner", text}, {"holder", text}, {"since", timestamp},
	{"expires", timestamp}, {"data", textNull},
}}

// AcquireLease implements batch.LeaseStore: the read and the write run in one BEGIN
// IMMEDIATE transaction, so of several processes acquiring one name exactly one wins.
func (s *Store) AcquireLease(ctx context.Context, l batch.Lease, now time.Time) (*batch.Lease, error) {
	if l.Name == "" || l.Owner == "" {
		return nil, fmt.Errorf("sqlitestore: acquire lease %q for %q: name and owner are required", l.Name, l.Owner)
	}
	var previous *batch.Lease
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := getLease(ctx, tx, l.Name)
		switch {
		case errors.Is(err, batch.ErrNotFound):
		case err != nil:
			return err
		case cur.Owner == l.Owner: // a renewal keeps the tenure's start
			l.Since, previous = cur.Since, &cur
		case cur.Expires.After(now):
			return &batch.LeaseHeld{Lease: cur}
		default: // expired: taken over
			previous = &cur
		}
		args, err := leasesTable.toRow(l)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO leases (`+leasesTable.names()+
			`) VALUES (`+leasesTable.placeholders()+`)`, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: acquire lease %q for %q: %w", l.Name, l.Owner, err)
	}
	return previous, nil
}

// RenewLease implements batch.LeaseStore: the read and the write run in one transaction.
func (s *Store) RenewLease(ctx context.Context, l batch.Lease) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := getLease(ctx, tx, l.Name)
		if err != nil {
			return err
		}
		if cur.Owner != l.Owner {
			return &batch.LeaseHeld{Lease: cur}
		}
		_, err = tx.ExecContext(ctx, `UPDATE leases SET holder = ?, expires = ?, data = ? WHERE name = ?`,
			l.Holder, formatTime(l.Expires), nullText(l.Data), l.Name)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: renew lease %q for %q: %w", l.Name, l.Owner, err)
	}
	return nil
}

// ReleaseLease implements batch.LeaseStore: one DELETE conditioned on the owner.
func (s *Store) ReleaseLease(ctx context.Context, name, owner string) error {
	if _, err := s.exec(ctx, `DELETE FROM leases WHERE name = ? AND owner = ?`, name, owner); err != nil {
		return fmt.Errorf("sqlitestore: release lease %q of %q: %w", name, owner, err)
	}
	return nil
}

// GetLease implements batch.LeaseStore.
func (s *Store) GetLease(ctx context.Context, name string) (batch.Lease, error) {
	return getLease(ctx, s.db, name)
}

func getLease(ctx context.Context, q querier, name string) (batch.Lease, error) {
	return getRow[batch.Lease](ctx, q, leasesTable, "lease", name)
}

// nullText stores an empty string as NULL, as the row mapping does for optional text.
func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}
