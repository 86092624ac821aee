package batch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/leadflow/attom-batch/internal/attom"
	"github.com/leadflow/attom-batch/internal/property"
)

// Process is processBatchResults: every found address becomes a property record (the
// unified model, merged across the endpoints it was looked up on), deduped by property
// hash: two input addresses that ATTOM resolves to one property make one record. Chunks are
// finished (records, and leads when wanted) as their lookups are stored; Process finishes
// only the chunks that were not (a crash between a chunk's lookups and its leads), one
// segment of chunks per call (see SegmentChunks); the state machine loops on More.
func (t *Tasks) Process(ctx context.Context, in Step) (Step, error) {
	job, err := t.processingJob(ctx, in)
	if err != nil {
		return in, err
	}
	chunks, more := segmentChunks(job, in.Cursor)
	if err := t.finishChunks(ctx, job, chunks); err != nil {
		return in, err
	}
	if !more {
		if err := t.recordProcessed(ctx, job.ID); err != nil {
			return in, err
		}
	}
	return nextSegment(in, more), nil
}

// processingJob marks processing started on the first segment.
func (t *Tasks) processingJob(ctx context.Context, in Step) (Job, error) {
	if err := t.holdJob(ctx, in.JobID, in.Driver, 0); err != nil {
		return Job{}, err
	}
	if in.Cursor > 0 {
		return t.getJob(ctx, in.JobID)
	}
	return t.startProcessing(ctx, in.JobID)
}

// processSegment stores the found properties of the given chunk results and counts the
// found answers that cannot be converted to the unified model (they become error records).
// When the job wants leads, the records are stored processed already: the same finishing
// step makes their leads next, and is repeated until it has (the chunk's tally comes last),
// so no second write per record is needed to mark them (issue 12).
func (t *Tasks) processSegment(ctx context.Context, job Job, keys []string) (chunkTally, error) {
	jobID := job.ID
	seen := map[uint64]struct{}{}
	var tally chunkTally
	err := t.eachResultIn(ctx, keys, func(r ResultLine) error {
		if r.Lookup.Outcome != LookupFound {
			return nil
		}
		p, err := PropertyFromLookup(r.Lookup, t.now())
		if err != nil {
			tally.Failed++
			t.log().Warn("result not convertible", "job_id", jobID, "line", r.Address.Line, "error", err)
			return nil
		}
		if !firstSeen(seen, p.Hash) {
			return nil
		}
		// Only the record is needed here: Leads merges across sources later, so merging
		// now (as ProcessProperty does) would read back and decode every record twice.
		ref, err := answerRefOf(r.Lookup)
		if err != nil {
			return err
		}
		if err := t.storeProperty(ctx, p, ref, job.WantLeads); err != nil {
			return err
		}
		tally.Processed++
		return nil
	})
	return tally, err
}

// AnswerRef is an ATTOM property record's raw_data: ATTOM's blocks are stored once, in the
// answer cache under the address key and each endpoint (issue 12: stored again in every
// record, they were most of a record's size and of its write cost). The cache keeps the
// newest answer of an address, which is the one a refresh of the record reads.
type AnswerRef struct {
	AnswerKey string   `json:"answer_key"`
	Endpoints []string `json:"endpoints"`
	Simulated bool     `json:"simulated,omitempty"`
}

// answerRefOf is the raw_data of the property record made from a found lookup.
func answerRefOf(rec LookupRecord) (string, error) {
	var raw RawLookup
	if err := json.Unmarshal([]byte(rec.Raw), &raw); err != nil {
		return "", fmt.Errorf("lookup %s: raw payload: %w", rec.Key, err)
	}
	ref := AnswerRef{AnswerKey: rec.Key, Simulated: raw.Simulated}
	for _, ep := range attom.Endpoints() {
		if _, ok := raw.Endpoints[ep]; ok {
			ref.Endpoints = append(ref.Endpoints, ep)
		}
	}
	b, err := json.Marshal(ref)
	return string(b), err
}

// recordProcessed sets the final counts from the download's and the chunks' tallies:
// absolute values, so running the last segment twice changes nothing.
func (t *Tasks) recordProcessed(ctx context.Context, id string) error {
	total, err := t.sumChunkTallies(ctx, id)
	if err != nil {
		return err
	}
	var lookups resultTally
	if err := t.getJSON(ctx, downloadTallyKey(id), &lookups); err != nil {
		return err
	}
	_, err = t.Jobs.UpdateJob(ctx, id, func(j *Job) error {
		now := t.now()
		j.ProcessedRecords = total.Processed
		j.RecordsFound = lookups.Found - total.Failed
		j.ErrorRecords = lookups.Errors + total.Failed
		j.UpdatedAt = &now
		return nil
	})
	if err != nil {
		return &StoreUnavailable{Op: "record processing", Err: err}
	}
	return nil
}

func (t *Tasks) startProcessing(ctx context.Context, id string) (Job, error) {
	job, err := t.Jobs.UpdateJob(ctx, id, func(j *Job) error {
		now := t.now()
		j.Status = StatusProcessingResults
		j.ProcessingStartedAt = &now
		j.UpdatedAt = &now
		return nil
	})
	if err != nil {
		return job, t.jobErr(id, err)
	}
	return job, nil
}

func (t *Tasks) jobErr(id string, err error) error {
	if isNotFound(err) {
		return &JobNotFound{JobID: id}
	}
	return &StoreUnavailable{Op: "update job " + id, Err: err}
}

func firstSeen(seen map[uint64]struct{}, hash string) bool {
	h := fnv.New64a()
	h.Write([]byte(hash))
	k := h.Sum64()
	if _, ok := seen[k]; ok {
		return false
	}
	seen[k] = struct{}{}
	return true
}

// PropertyFromLookup converts a found lookup's raw ATTOM answers (one per endpoint) into one
// unified property.
func PropertyFromLookup(rec LookupRecord, now time.Time) (property.Property, error) {
	var raw RawLookup
	if err := json.Unmarshal([]byte(rec.Raw), &raw); err != nil {
		return property.Property{}, fmt.Errorf("lookup %s: raw payload: %w", rec.Key, err)
	}
	fetched := rec.At
	if fetched.IsZero() {
		fetched = now
	}
	var parts []property.Property
	for _, ep := range attom.Endpoints() {
		body, ok := raw.Endpoints[ep]
		if !ok {
			continue
		}
		var wire attom.Property
		if err := json.Unmarshal(body, &wire); err != nil {
			return property.Property{}, fmt.Errorf("lookup %s: %s payload: %w", rec.Key, ep, err)
		}
		p, err := property.FromAttom(ep, wire, fetched, raw.Simulated)
		if err != nil {
			return property.Property{}, fmt.Errorf("lookup %s: %s: %w", rec.Key, ep, err)
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return property.Property{}, fmt.Errorf("lookup %s: found but no payload", rec.Key)
	}
	return property.Merge(parts, property.DefaultPrecedence()), nil
}

// ProcessProperty is the seed's processProperty: it stores one source's record of a property
// (any source: ATTOM, a county file, a CSV) and returns the property merged across every
// source that has described it.
func (t *Tasks) ProcessProperty(ctx context.Context, p property.Property, raw string) (property.Property, error) {
	if err := t.storeProperty(ctx, p, raw, false); err != nil {
		return p, err
	}
	return t.MergedProperty(ctx, p.Hash)
}

// storeProperty writes one source's record of a property, without merging; processed says
// its lead is being made.
func (t *Tasks) storeProperty(ctx context.Context, p property.Property, raw string, processed bool) error {
	rec, err := recordFor(p, raw, t.now())
	if err != nil {
		return err
	}
	rec.Processed = processed
	if err := t.Properties.UpsertRecord(ctx, rec); err != nil {
		return &StoreUnavailable{Op: "store property record", Err: err}
	}
	return nil
}

// ProcessPropertiesBulk is the seed's processPropertiesBulk: ProcessProperty for many, with
// per-property errors collected instead of stopping at the first.
func (t *Tasks) ProcessPropertiesBulk(ctx context.Context, props []property.Property) ([]property.Property, []error) {
	out := make([]property.Property, 0, len(props))
	var errs []error
	for i, p := range props {
		merged, err := t.ProcessProperty(ctx, p, "")
		if err != nil {
			errs = append(errs, fmt.Errorf("property %d (%s): %w", i, p.Address.OneLine(), err))
			continue
		}
		out = append(out, merged)
	}
	return out, errs
}

// MergedProperty merges every source's record of one property.
func (t *Tasks) MergedProperty(ctx context.Context, hash string) (property.Property, error) {
	p, _, err := t.mergedRecords(ctx, hash)
	return p, err
}

// markProcessed sets processed on the records a lead was just made from.
func (t *Tasks) markProcessed(ctx context.Context, recs []PropertyRecord) error {
	for _, r := range recs {
		if r.Processed {
			continue
		}
		if err := t.Properties.MarkProcessed(ctx, r.ID); err != nil {
			return &StoreUnavailable{Op: "mark property record processed", Err: err}
		}
	}
	return nil
}

// mergedRecords is MergedProperty that also returns the records it merged.
func (t *Tasks) mergedRecords(ctx context.Context, hash string) (property.Property, []PropertyRecord, error) {
	recs, err := t.Properties.RecordsByHash(ctx, hash)
	if err != nil {
		return property.Property{}, nil, &StoreUnavailable{Op: "read property records", Err: err}
	}
	parts := make([]property.Property, 0, len(recs))
	for _, r := range recs {
		var p property.Property
		if err := json.Unmarshal([]byte(r.Unified), &p); err != nil {
			return property.Property{}, nil, fmt.Errorf("property record %s: %w", r.ID, err)
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return property.Property{}, nil, &StoreUnavailable{Op: "merge property " + hash, Err: ErrNotFound}
	}
	return property.Merge(parts, property.DefaultPrecedence()), recs, nil
}

// recordFor turns a unified property into its source's property_records row. The row id is
// per source, so each source keeps its own record and raw payload.
func recordFor(p property.Property, raw string, now time.Time) (PropertyRecord, error) {
	if p.Hash == "" {
		return PropertyRecord{}, fmt.Errorf("property %q has no property hash", p.Address.OneLine())
	}
	source := "unknown"
	if len(p.Metadata.Sources) > 0 {
		source = p.Metadata.Sources[0]
	}
	sourceID := p.Metadata.SourceIDs[source]
	unified, err := json.Marshal(p)
	if err != nil {
		return PropertyRecord{}, err
	}
	line := p.Address.Line1
	if p.Address.Unit != "" {
		line += " " + p.Address.Unit
	}
	return PropertyRecord{
		ID:           recordID(source, sourceID, p.Hash),
		Source:       source,
		SourceID:     sourceID,
		Address:      line,
		City:         p.Address.City,
		State:        p.Address.State,
		ZIPCode:      p.Address.ZIP5,
		PropertyHash: p.Hash,
		RawData:      raw,
		Unified:      string(unified),
		CreatedAt:    now,
	}, nil
}

// recordID names one source's record of one property. The property hash is part of it, so
// a source id that two different properties share (a vendor's mistake, or a collision) can
// never make one property's record overwrite the other's.
func recordID(source, sourceID, propertyHash string) string {
	sum := sha256.Sum256([]byte(source + "|" + sourceID + "|" + propertyHash))
	return hex.EncodeToString(sum[:16])
}
