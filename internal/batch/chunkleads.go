package batch

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"

	"github.com/leadflow/attom-batch/internal/leads"
)

// Leads per chunk (issue 15). As soon as a chunk's lookups are stored, the lookup task
// finishes the chunk: its found properties become property records and, when the job wants
// leads, its leads are saved and its export part written, best first. What finishing did is
// kept in a small tally blob per chunk whose existence marks the chunk finished, so a chunk
// finished twice (a retried task, a crash after the tally) is counted once. The job's
// processed_records / leads_created / leads_updated grow by each chunk's tally as it lands;
// at every pause and at the end they are set to the sum of the tallies, which no crash can
// skew. The final Process finishes only the chunks not finished yet; Leads only assembles.

func chunkTallyPrefix(jobID string) string { return "batches/" + jobID + "/chunk-tallies/" }
func chunkTallyKey(jobID string, chunk int) string {
	return chunkTallyPrefix(jobID) + pad(chunk) + ".json"
}
func exportPartPrefix(jobID string) string { return "batches/" + jobID + "/export-parts/" }
func exportPartKey(jobID string, chunk int) string {
	return exportPartPrefix(jobID) + pad(chunk) + ".jsonl"
}

// exportColumnsKey keeps the input file's header, so the export can be assembled by a task
// that may not read the upload.
func exportColumnsKey(jobID string) string { return "batches/" + jobID + "/export-columns.json" }

// chunkTally is what finishing one chunk did.
type chunkTally struct {
	// Processed property records written (one per property of the chunk).
	Processed int `json:"processed"`
	// Failed are found answers that cannot become a property: error records.
	Failed       int `json:"failed,omitempty"`
	LeadsCreated int `json:"leads_created,omitempty"`
	LeadsUpdated int `json:"leads_updated,omitempty"`
	// Leads says the chunk's leads were saved (the job wanted them).
	Leads bool `json:"leads,omitempty"`
}

func (c *chunkTally) add(o chunkTally) {
	c.Processed += o.Processed
	c.Failed += o.Failed
	c.LeadsCreated += o.LeadsCreated
	c.LeadsUpdated += o.LeadsUpdated
}

// chunkTallyOf returns the chunk's tally and whether it is finished for this job (its leads
// too, when the job wants them).
func (t *Tasks) chunkTallyOf(ctx context.Context, job Job, chunk int) (chunkTally, bool) {
	var tally chunkTally
	body, err := t.Blobs.Get(ctx, chunkTallyKey(job.ID, chunk))
	if err != nil {
		return tally, false
	}
	defer body.Close()
	if json.NewDecoder(body).Decode(&tally) != nil {
		return tally, false
	}
	return tally, tally.Leads || !job.WantLeads
}

// finishChunk processes the found properties of a chunk whose lookups are stored and, when
// the job wants leads, saves its leads and writes its export part. It does nothing for a
// chunk already finished. The records and leads are upserts, so finishing again after a
// crash rewrites the same rows; only the tally, written last, counts.
func (t *Tasks) finishChunk(ctx context.Context, job Job, chunk int) error {
	if _, done := t.chunkTallyOf(ctx, job, chunk); done {
		return nil
	}
	resultKey := []string{chunkResultKey(job.ID, chunk)}
	tally, err := t.processSegment(ctx, job, resultKey)
	if err != nil {
		return err
	}
	if job.WantLeads {
		if err := t.saveExportColumns(ctx, job); err != nil {
			return err
		}
		var part []leads.Lead
		saved, err := t.leadsFrom(ctx, job, resultKey, func(l leads.Lead) error {
			part = append(part, l)
			return nil
		})
		if err != nil {
			return err
		}
		if err := t.putExportPart(ctx, job.ID, chunk, part); err != nil {
			return err
		}
		tally.LeadsCreated, tally.LeadsUpdated, tally.Leads = saved.Created, saved.Updated, true
	}
	if err := t.putJSON(ctx, chunkTallyKey(job.ID, chunk), tally); err != nil {
		return err
	}
	// Progress only: a crash between the tally and this add leaves the job short until the
	// next pause or the end, which set the counts from the tallies; it never doubles them.
	return t.addCounters(ctx, job.ID, Counters{ProcessedRecords: tally.Processed,
		LeadsCreated: tally.LeadsCreated, LeadsUpdated: tally.LeadsUpdated})
}

// saveExportColumns keeps the upload's header once per job.
func (t *Tasks) saveExportColumns(ctx context.Context, job Job) error {
	if body, err := t.Blobs.Get(ctx, exportColumnsKey(job.ID)); err == nil {
		body.Close()
		return nil
	}
	columns, err := t.inputColumns(ctx, job)
	if err != nil {
		return err
	}
	return t.putJSON(ctx, exportColumnsKey(job.ID), columns)
}

// putExportPart writes a chunk's export lines as JSON leads (each with its row's columns),
// highest score first.
func (t *Tasks) putExportPart(ctx context.Context, jobID string, chunk int, part []leads.Lead) error {
	slices.SortStableFunc(part, func(a, b leads.Lead) int { return cmp.Compare(b.Score, a.Score) })
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, l := range part {
		if err := enc.Encode(l); err != nil {
			return err
		}
	}
	key := exportPartKey(jobID, chunk)
	if err := t.Blobs.Put(ctx, key, &buf); err != nil {
		return &StoreUnavailable{Op: "write " + key, Err: err}
	}
	return nil
}

// sumChunkTallies adds up the tallies of every finished chunk.
func (t *Tasks) sumChunkTallies(ctx context.Context, jobID string) (chunkTally, error) {
	var total chunkTally
	keys, err := t.Blobs.List(ctx, chunkTallyPrefix(jobID))
	if err != nil {
		return total, &StoreUnavailable{Op: "list chunk tallies", Err: err}
	}
	for _, key := range keys {
		var tally chunkTally
		if err := t.getJSON(ctx, key, &tally); err != nil {
			return total, err
		}
		total.add(tally)
	}
	return total, nil
}

// assembleExport writes exports/<job>/leads.csv from every chunk's part: one line per found
// input row, the input's columns first, highest score first (rows of equal score in chunk
// order). It merges the parts, which are sorted already, so its memory does not grow with
// the export (see exportmerge.go).
func (t *Tasks) assembleExport(ctx context.Context, job Job) error {
	if !t.Settings.LeadsExport {
		return nil // the leads_export flag is off: leads are saved, no CSV is written
	}
	keys, err := t.Blobs.List(ctx, exportPartPrefix(job.ID))
	if err != nil {
		return &StoreUnavailable{Op: "list export parts", Err: err}
	}
	slices.Sort(keys)
	runs, err := t.reduceExportRuns(ctx, job.ID, keys, exportMergeFanIn)
	if err != nil {
		return err
	}
	var columns []string
	if err := t.getJSON(ctx, exportColumnsKey(job.ID), &columns); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	blob := newBlobWriter(ctx, t.Blobs, leadsExportKey(job.ID))
	export := leads.NewCSVWriter(blob, columns)
	err = t.mergeExportLines(ctx, runs, func(raw []byte) error {
		var lead leads.Lead
		if err := json.Unmarshal(raw, &lead); err != nil {
			return err
		}
		return export.Write(lead)
	})
	if err == nil {
		err = export.Flush()
	}
	if closeErr := blob.Close(err); closeErr != nil {
		return &StoreUnavailable{Op: "write leads export", Err: closeErr}
	}
	return nil
}

// leadsSoFar makes a paused job current: its counts from the chunk tallies and, when it
// wants leads, its export re-assembled, so a download while it waits holds every lead so far.
func (t *Tasks) leadsSoFar(ctx context.Context, job Job) (chunkTally, error) {
	total, err := t.sumChunkTallies(ctx, job.ID)
	if err != nil {
		return total, err
	}
	if job.WantLeads {
		if err := t.assembleExport(ctx, job); err != nil {
			return total, err
		}
	}
	return total, nil
}

// unfinishedChunks are chunks whose lookups are stored but which were not finished (a crash
// between the two): the next lookup run takes them again, free, to finish them.
func (t *Tasks) unfinishedChunks(ctx context.Context, job Job, all []ChunkRef, finished map[string]bool) ([]ChunkRef, error) {
	keys, err := t.Blobs.List(ctx, chunkTallyPrefix(job.ID))
	if err != nil {
		return nil, &StoreUnavailable{Op: "list chunk tallies", Err: err}
	}
	tallied := make(map[string]bool, len(keys))
	for _, k := range keys {
		tallied[k] = true
	}
	var out []ChunkRef
	for _, c := range all {
		if finished[chunkResultKey(job.ID, c.Chunk)] && !tallied[chunkTallyKey(job.ID, c.Chunk)] {
			out = append(out, c)
		}
	}
	return out, nil
}
