package batch

import (
	"context"
	"errors"
	"io"
	"maps"

	"github.com/leadflow/attom-batch/internal/distress"
	"github.com/leadflow/attom-batch/internal/leads"
	"github.com/leadflow/attom-batch/internal/property"
)

// Leads turns the job's properties into leads: one per property, merged across sources and
// scored. Saving again updates the lead, so a re-run never duplicates one. Each segment of
// results (see SegmentChunks) exports its leads as a CSV part; the last segment joins the
// parts into the export next to the results, with the input's columns first.
func (t *Tasks) Leads(ctx context.Context, in Step) (Step, error) {
	job, err := t.drivenJob(ctx, in)
	if err != nil {
		return in, err
	}
	keys, more, err := t.segmentKeys(ctx, job.ID, in.Cursor)
	if err != nil {
		return in, err
	}
	saved, err := t.leadsSegment(ctx, job, keys, in.Cursor)
	if err != nil {
		return in, err
	}
	if err := t.putTally(ctx, job.ID, stageLeads, in.Cursor, saved); err != nil {
		return in, err
	}
	if !more {
		if err := t.finishLeads(ctx, job.ID, in.Cursor); err != nil {
			return in, err
		}
	}
	return nextSegment(in, more), nil
}

const stageLeads = "leads"

func exportPartKey(jobID string, cursor int) string {
	return "batches/" + jobID + "/export-parts/" + pad(cursor) + ".csv"
}

// leadsSegment saves the leads of one segment and writes its export part; only the first
// part carries the header.
func (t *Tasks) leadsSegment(ctx context.Context, job Job, keys []string, cursor int) (segmentTally, error) {
	columns, err := t.inputColumns(ctx, job)
	if err != nil {
		return segmentTally{}, err
	}
	blob := newBlobWriter(ctx, t.Blobs, exportPartKey(job.ID, cursor))
	export := leads.NewCSVWriter(blob, columns)
	if cursor > 0 {
		export.WithoutHeader()
	}
	saved, err := t.leadsFrom(ctx, job, keys, export)
	if err == nil {
		err = export.Flush()
	}
	if closeErr := blob.Close(err); err == nil && closeErr != nil {
		return saved, &StoreUnavailable{Op: "write leads export part", Err: closeErr}
	}
	return saved, err
}

// leadsFrom saves the segment's leads and counts them: Count the leads this job created,
// Failed (reused as "updated") the ones that existed before the job. A lead created since the
// job began by the same row (an earlier run of the same segment) still counts as created, so
// re-running a job never makes leads_created go down; one another row made is not counted
// again. Every found input row gets its own line in the
// export, with its own columns, also when ATTOM resolves several rows to one property (which
// has one lead, keeping the first row's columns).
func (t *Tasks) leadsFrom(ctx context.Context, job Job, keys []string, export *leads.CSVWriter) (segmentTally, error) {
	saved := map[string]leads.Lead{} // by property hash
	var tally segmentTally
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
			merged, err := t.MergedProperty(ctx, p.Hash)
			if err != nil {
				return err
			}
			var isNew bool
			if lead, isNew, err = t.SavePropertyAsLead(ctx, merged, job.ID, r.Address.Input); err != nil {
				return err
			}
			switch {
			case isNew || !lead.CreatedAt.Before(job.CreatedAt) && maps.Equal(lead.Input, r.Address.Input):
				tally.Count++ // this row made the lead, now or in an earlier run of this segment
			case !lead.CreatedAt.Before(job.CreatedAt):
				// another row of this job made it, in an earlier segment, which counted it
			default:
				tally.Failed++
			}
			saved[p.Hash] = lead
		}
		lead.Input = r.Address.Input
		return export.Write(lead)
	})
	return tally, err
}

// finishLeads joins the export parts into one CSV and records how many leads are new.
func (t *Tasks) finishLeads(ctx context.Context, id string, last int) error {
	if err := t.joinParts(ctx, id, last); err != nil {
		return err
	}
	saved, err := t.sumTallies(ctx, id, stageLeads)
	if err != nil {
		return err
	}
	_, err = t.Jobs.UpdateJob(ctx, id, func(j *Job) error {
		now := t.now()
		j.LeadsCreated = saved.Count
		j.LeadsUpdated = saved.Failed
		j.UpdatedAt = &now
		return nil
	})
	if err != nil {
		return &StoreUnavailable{Op: "record leads", Err: err}
	}
	return nil
}

func (t *Tasks) joinParts(ctx context.Context, id string, last int) error {
	blob := newBlobWriter(ctx, t.Blobs, leadsExportKey(id))
	var err error
	for cursor := 0; cursor <= last && err == nil; cursor++ {
		err = t.copyBlob(ctx, exportPartKey(id, cursor), blob)
	}
	if closeErr := blob.Close(err); closeErr != nil {
		return &StoreUnavailable{Op: "write leads export", Err: closeErr}
	}
	return nil
}

func (t *Tasks) copyBlob(ctx context.Context, key string, w io.Writer) error {
	body, err := t.Blobs.Get(ctx, key)
	if err != nil {
		return err
	}
	defer body.Close()
	_, err = io.Copy(w, body)
	return err
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
