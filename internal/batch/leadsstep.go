package batch

import (
	"context"
	"errors"
	"maps"

	"github.com/leadflow/attom-batch/internal/distress"
	"github.com/leadflow/attom-batch/internal/leads"
	"github.com/leadflow/attom-batch/internal/property"
)

// Leads finishes the job's leads. Each chunk's leads were saved (one per property, merged
// across sources and scored; saving again updates the lead) as the chunk finished, during
// the lookups or in Process; Leads assembles the export from the chunks' parts, best first,
// with the input's columns first, and sets the job's lead counts from the chunks' tallies:
// absolute values, so running it twice changes nothing.
func (t *Tasks) Leads(ctx context.Context, in Step) (Step, error) {
	job, err := t.drivenJob(ctx, in)
	if err != nil {
		return in, err
	}
	// Leads runs only when leads are wanted: a job submitted without them (the seed's
	// `process --leads`) has its chunks' leads saved now.
	job.WantLeads = true
	for cursor, more := 0, true; more; cursor++ {
		var chunks []int
		chunks, more = segmentChunks(job, cursor)
		if err := t.finishChunks(ctx, job, chunks); err != nil {
			return in, err
		}
	}
	if err := t.assembleExport(ctx, job); err != nil {
		return in, err
	}
	saved, err := t.sumChunkTallies(ctx, job.ID)
	if err != nil {
		return in, err
	}
	_, err = t.Jobs.UpdateJob(ctx, job.ID, func(j *Job) error {
		now := t.now()
		j.ProcessedRecords = saved.Processed
		j.LeadsCreated = saved.LeadsCreated
		j.LeadsUpdated = saved.LeadsUpdated
		j.UpdatedAt = &now
		return nil
	})
	if err != nil {
		return in, &StoreUnavailable{Op: "record leads", Err: err}
	}
	return nextSegment(in, false), nil
}

// leadCount is how many leads a chunk created and how many it updated.
type leadCount struct{ Created, Updated int }

// leadsFrom saves the leads of the given chunk results and counts them: Created the leads
// this job created, Updated the ones that existed before the job. A lead created since the
// job began by the same row (an earlier run of the same chunk) still counts as created, so
// re-running a job never makes leads_created go down; one another row made is not counted
// again. Every found input row gets its own line in the
// export, with its own columns, also when ATTOM resolves several rows to one property (which
// has one lead, keeping the first row's columns).
func (t *Tasks) leadsFrom(ctx context.Context, job Job, keys []string, write func(leads.Lead) error) (leadCount, error) {
	saved := map[string]leads.Lead{} // by property hash
	var tally leadCount
	err := t.eachResultIn(ctx, keys, func(r ResultLine) error {
		if r.Lookup.Outcome != LookupFound {
			return nil
		}
		p, err := PropertyFromLookup(r.Lookup, t.now())
		if err != nil {
			return nil // counted as an error record by Process
		}
		lead, ok := saved[p.Hash]
		if !ok {
			merged, recs, err := t.mergedRecords(ctx, p.Hash)
			if err != nil {
				return err
			}
			var isNew bool
			if lead, isNew, err = t.SavePropertyAsLead(ctx, merged, job.ID, r.Address.Input); err != nil {
				return err
			}
			if err := t.markProcessed(ctx, recs); err != nil {
				return err
			}
			switch {
			case isNew || !lead.CreatedAt.Before(job.CreatedAt) && maps.Equal(lead.Input, r.Address.Input):
				tally.Created++ // this row made the lead, now or in an earlier run of this segment
			case !lead.CreatedAt.Before(job.CreatedAt):
				// another row of this job made it, in an earlier chunk, which counted it
			default:
				tally.Updated++
			}
			saved[p.Hash] = lead
		}
		lead.Input = r.Address.Input
		return write(lead)
	})
	return tally, err
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
