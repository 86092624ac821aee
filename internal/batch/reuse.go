package batch

import (
	"context"
	"encoding/json"
	"time"
)

// addressPlan is what one address still needs: the answers the cache holds that are young
// enough to reuse, and the endpoints still to buy, in the job's order.
type addressPlan struct {
	addr    ChunkAddress
	have    map[string]Answer
	missing []string
}

// planAddresses reads the answer cache for the addresses: a job buys only what no answer
// younger than its reuse window already says, down to the missing endpoints of a partial
// answer. An address its first endpoint does not know needs nothing more.
func (t *Tasks) planAddresses(ctx context.Context, job Job, addrs []ChunkAddress) ([]addressPlan, error) {
	endpoints := endpointsOf(job)
	cached, err := t.Answers.Answers(ctx, addressKeys(addrs), endpoints)
	if err != nil {
		return nil, &StoreUnavailable{Op: "read answers", Err: err}
	}
	cutoff, reuse := t.reuseCutoff(job)
	plans := make([]addressPlan, len(addrs))
	for i, a := range addrs {
		p := addressPlan{addr: a, have: map[string]Answer{}}
		for ep, ans := range cached[a.Key] {
			// A job always keeps what it bought itself (a resumed partial answer), whatever
			// its window; others' answers only within it.
			if usable(ans) && (ans.JobID == job.ID || reuse && !ans.FetchedAt.Before(cutoff)) {
				p.have[ep] = ans
			}
		}
		p.missing = missingEndpoints(endpoints, p.have)
		plans[i] = p
	}
	return plans, nil
}

// reuseCutoff is the oldest fetch time the job reuses; false when it buys everything fresh.
func (t *Tasks) reuseCutoff(job Job) (time.Time, bool) {
	if job.ReuseMaxAgeDays <= 0 {
		return time.Time{}, false
	}
	return t.now().Add(-time.Duration(job.ReuseMaxAgeDays) * 24 * time.Hour), true
}

func usable(a Answer) bool { return a.Outcome == LookupFound || a.Outcome == LookupNotFound }

func missingEndpoints(endpoints []string, have map[string]Answer) []string {
	if first, ok := have[endpoints[0]]; ok && first.Outcome == LookupNotFound {
		return nil
	}
	var missing []string
	for _, ep := range endpoints {
		if _, ok := have[ep]; !ok {
			missing = append(missing, ep)
		}
	}
	return missing
}

// recordFrom builds an address's lookup record from its answers: the first endpoint decides
// found or not found; billed is what this attempt paid for it.
func (t *Tasks) recordFrom(job Job, chunk int, p addressPlan, billed int64) LookupRecord {
	endpoints := endpointsOf(job)
	rec := LookupRecord{JobID: job.ID, Chunk: chunk, Key: p.addr.Key, Outcome: LookupNotFound,
		BilledCents: billed, At: t.now()}
	if p.have[endpoints[0]].Outcome == LookupFound {
		rec.Outcome = LookupFound
	}
	raw := RawLookup{Endpoints: map[string]json.RawMessage{}}
	var oldest time.Time
	for _, ep := range endpoints {
		ans, ok := p.have[ep]
		if !ok {
			continue
		}
		if ans.Outcome == LookupFound {
			raw.Endpoints[ep] = json.RawMessage(ans.Raw)
		}
		raw.Simulated = raw.Simulated || ans.Simulated
		if oldest.IsZero() || ans.FetchedAt.Before(oldest) {
			oldest = ans.FetchedAt
		}
	}
	if !oldest.IsZero() {
		rec.FetchedAt = &oldest
	}
	rawJSON, _ := json.Marshal(raw)
	rec.Raw = string(rawJSON)
	return rec
}

// withRaw puts back the raw ATTOM blocks of found lookups stored without them (storeLookup
// keeps them only in the answer cache). A found lookup whose answers are no longer there to
// read (replaced since by a broken answer) is dropped from done, so the attempt looks the
// address up again: from the cache when a usable answer is there, else bought.
func (t *Tasks) withRaw(ctx context.Context, job Job, done map[string]LookupRecord) error {
	var keys []string
	for k, rec := range done {
		if rec.Outcome == LookupFound && rec.Raw == "" {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	endpoints := endpointsOf(job)
	cached, err := t.Answers.Answers(ctx, keys, endpoints)
	if err != nil {
		return &StoreUnavailable{Op: "read answers", Err: err}
	}
	for _, k := range keys {
		rec := done[k]
		have := map[string]Answer{}
		for ep, ans := range cached[k] {
			if usable(ans) {
				have[ep] = ans
			}
		}
		if have[endpoints[0]].Outcome != LookupFound {
			delete(done, k)
			continue
		}
		rec.Raw = t.recordFrom(job, rec.Chunk, addressPlan{addr: ChunkAddress{Key: k}, have: have}, 0).Raw
		done[k] = rec
	}
	return nil
}
