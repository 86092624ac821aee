package sqlitestore

import (
	"context"
	"fmt"

	"github.com/leadflow/attom-batch/internal/leads"
)

var leadsTable = table{name: "leads", columns: []column{
	{"id", text}, {"property_key", textNull}, {"property_hash", textNull}, {"address", text},
	{"line1", textNull}, {"unit", textNull}, {"city", textNull}, {"state", textNull}, {"zip", textNull},
	{"owner_names", document}, {"mailing_address", textNull}, {"score", integer},
	{"breakdown", document}, {"value", number}, {"equity", number}, {"status", text},
	{"source", textNull}, {"batch_id", textNull}, {"simulated", boolean}, {"input", document},
	{"created_at", timestamp}, {"updated_at", timestamp},
}}

// SaveLead implements batch.LeadStore. The insert is conditional on the id, so of two
// concurrent saves of one property exactly one creates it; an update keeps created_at and
// the status a sales person may have changed.
func (s *Store) SaveLead(ctx context.Context, lead leads.Lead) (bool, error) {
	args, err := leadsTable.toRow(lead)
	if err != nil {
		return false, fmt.Errorf("sqlitestore: save lead %s: %w", lead.ID, err)
	}
	res, err := s.exec(ctx, `INSERT INTO leads (`+leadsTable.names()+`) VALUES (`+
		leadsTable.placeholders()+`) ON CONFLICT (id) DO NOTHING`, args...)
	if err != nil {
		return false, fmt.Errorf("sqlitestore: save lead %s: %w", lead.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return n == 1, err
	}
	set, setArgs := leadsTable.setKeeping(args, "created_at", "status")
	_, err = s.exec(ctx, `UPDATE leads SET `+set+` WHERE id = ?`, append(setArgs, lead.ID)...)
	if err != nil {
		return false, fmt.Errorf("sqlitestore: update lead %s: %w", lead.ID, err)
	}
	return false, nil
}

// GetLead implements batch.LeadStore.
func (s *Store) GetLead(ctx context.Context, id string) (leads.Lead, error) {
	var lead leads.Lead
	st, err := s.prepared(ctx, `SELECT `+leadsTable.names()+` FROM leads WHERE id = ?`)
	if err != nil {
		return leads.Lead{}, fmt.Errorf("sqlitestore: get lead %s: %w", id, err)
	}
	if err := leadsTable.scanInto(st.QueryRowContext(ctx, id), &lead); err != nil {
		if isNoRows(err) {
			return leads.Lead{}, notFound("lead", id)
		}
		return leads.Lead{}, fmt.Errorf("sqlitestore: get lead %s: %w", id, err)
	}
	return lead, nil
}

// LeadsByBatch implements batch.LeadStore.
func (s *Store) LeadsByBatch(ctx context.Context, batchID string) ([]leads.Lead, error) {
	return s.leadsWhere(ctx, batchID, `WHERE batch_id = ? ORDER BY id`, batchID)
}

// TopLeads implements batch.LeadStore with the leads_batch index and a LIMIT.
func (s *Store) TopLeads(ctx context.Context, batchID string, n int) ([]leads.Lead, error) {
	return s.leadsWhere(ctx, batchID, `WHERE batch_id = ? ORDER BY score DESC, id LIMIT ?`, batchID, max(n, 0))
}

func (s *Store) leadsWhere(ctx context.Context, batchID, where string, args ...any) ([]leads.Lead, error) {
	var out []leads.Lead
	err := s.query(ctx, leadsTable, where, args, func(row scanner) error {
		var lead leads.Lead
		if err := leadsTable.scanInto(row, &lead); err != nil {
			return err
		}
		out = append(out, lead)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: leads of batch %s: %w", batchID, err)
	}
	return out, nil
}
