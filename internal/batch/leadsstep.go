package batch

import (
	"context"
	"errors"

	"github.com/leadflow/attom-batch/internal/distress"
	"github.com/leadflow/attom-batch/internal/leads"
	"github.com/leadflow/attom-batch/internal/property"
)

// Leads turns the job's properties into leads: one per property, merged across sources and
// scored. Saving again updates the lead, so a re-run never duplicates one. The leads are
// exported as CSV next to the results, with the input's columns first.
func (t *Tasks) Leads(ctx context.Context, in Step) (Step, error) {
	job, err := t.getJob(ctx, in.JobID)
	if err != nil {
		return in, err
	}
	columns, err := t.inputColumns(ctx, job)
	if err != nil {
		return in, err
	}
	export := newLeadExport(ctx, t.Blobs, leadsExportKey(job.ID), columns)
	created, err := t.leadsFromResults(ctx, job, export)
	if err != nil {
		export.abort(err)
		return in, err
	}
	if err := export.close(); err != nil {
		return in, &StoreUnavailable{Op: "write leads export", Err: err}
	}
	_, err = t.Jobs.UpdateJob(ctx, job.ID, func(j *Job) error {
		now := t.now()
		j.LeadsCreated = created
		j.UpdatedAt = &now
		return nil
	})
	if err != nil {
		return in, &StoreUnavailable{Op: "record leads", Err: err}
	}
	return in, nil
}

func (t *Tasks) leadsFromResults(ctx context.Context, job Job, export *leadExport) (int, error) {
	seen := map[uint64]struct{}{}
	created := 0
	err := t.eachResult(ctx, job.ID, func(r ResultLine) error {
		if r.Lookup.Outcome != LookupFound {
			return nil
		}
		p, err := PropertyFromLookup(r.Lookup, t.now())
		if err != nil || !firstSeen(seen, p.Hash) {
			return nil // counted as an error record by Process
		}
		merged, err := t.MergedProperty(ctx, p.Hash)
		if err != nil {
			return err
		}
		lead, isNew, err := t.SavePropertyAsLead(ctx, merged, job.ID, r.Address.Input)
		if err != nil {
			return err
		}
		if isNew {
			created++
		}
		return export.write(lead)
	})
	return created, err
}

// ConvertPropertyToLead is the seed's convertPropertyToLead: score the property and shape
// the lead, without saving it.
func (t *Tasks) ConvertPropertyToLead(p property.Property, batchID string, input map[string]string) leads.Lead {
	score := distress.Score(p, t.Settings.Weights, t.now())
	return leads.ConvertPropertyToLead(p, score, batchID, input, t.now())
}

// SavePropertyAsLead is the seed's savePropertyAsLead: convert and save, updating the
// property's existing lead if there is one (one lead per property). It reports whether the
// lead is new.
func (t *Tasks) SavePropertyAsLead(ctx context.Context, p property.Property, batchID string, input map[string]string) (leads.Lead, bool, error) {
	fresh := t.ConvertPropertyToLead(p, batchID, input)
	existing, err := t.Stores.Leads.GetLead(ctx, fresh.ID)
	switch {
	case err == nil:
		fresh = leads.Update(existing, fresh)
	case !errors.Is(err, ErrNotFound):
		return fresh, false, &StoreUnavailable{Op: "read lead", Err: err}
	}
	created, err := t.Stores.Leads.SaveLead(ctx, fresh)
	if err != nil {
		return fresh, false, &StoreUnavailable{Op: "save lead", Err: err}
	}
	return fresh, created, nil
}
