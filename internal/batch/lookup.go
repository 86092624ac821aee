package batch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/leadflow/attom-batch/internal/attom"
	"github.com/leadflow/attom-batch/internal/budget"
)

// RawLookup is what a lookup record keeps of ATTOM's answers: each endpoint's property
// block as received, and whether it came from the simulator.
type RawLookup struct {
	Simulated bool                       `json:"simulated,omitempty"`
	Endpoints map[string]json.RawMessage `json:"endpoints"`
}

// LookupChunk looks up one chunk's addresses on ATTOM under the daily cap. It skips
// addresses already looked up (a retried or re-driven chunk never pays twice), reserves the
// most the remaining calls can cost before calling, settles what ATTOM actually billed, and
// defers the chunk (not fails it) when the cap refuses.
func (t *Tasks) LookupChunk(ctx context.Context, ref ChunkRef) (ChunkResult, error) {
	result := ChunkResult{Chunk: ref.Chunk}
	if t.chunkFinished(ctx, ref) {
		result.Status = ChunkDone
		return result, nil
	}
	job, err := t.getJob(ctx, ref.JobID)
	if err != nil {
		return result, err
	}
	addrs, err := t.readChunk(ctx, ref)
	if err != nil {
		return result, err
	}
	done, err := t.Lookups.ChunkLookups(ctx, ref.JobID, ref.Chunk)
	if err != nil {
		return result, &StoreUnavailable{Op: "read lookups", Err: err}
	}
	todo := pending(addrs, done)
	result.Skipped = len(addrs) - len(todo)
	afforded, settle, err := t.reserve(ctx, job, len(todo))
	if err != nil {
		return result, err
	}
	records, lookErr := t.lookupAll(ctx, job, ref.Chunk, todo[:afforded])
	settleErr := settle(records)
	result.LookedUp = len(records)
	if lookErr != nil {
		return result, lookErr
	}
	if settleErr != nil {
		return result, &StoreUnavailable{Op: "settle budget", Err: settleErr}
	}
	if afforded < len(todo) {
		result.Status = ChunkDeferred
		return result, t.markDeferred(ctx, ref, len(todo)-afforded)
	}
	for _, r := range records {
		done[r.Key] = r
	}
	if err := t.writeChunkResult(ctx, ref, addrs, done); err != nil {
		return result, err
	}
	result.Status = ChunkDone
	return result, t.addCounters(ctx, ref.JobID, Counters{ChunksDone: 1})
}

// markDeferred records that the cap deferred this chunk in this run, so Poll can tell a
// deferred chunk (wait for the reset) from a failed one (fail the job). Engines disagree on
// what a failed Map child does to the Map (AWS fails it, moto's engine does not), so the
// pipeline relies on these markers rather than on the Map's outcome.
func (t *Tasks) markDeferred(ctx context.Context, ref ChunkRef, left int) error {
	key := deferredPrefix(ref.JobID, ref.Run) + pad(ref.Chunk) + ".json"
	return t.putJSON(ctx, key, map[string]int{"chunk": ref.Chunk, "deferred_addresses": left})
}

func (t *Tasks) chunkFinished(ctx context.Context, ref ChunkRef) bool {
	body, err := t.Blobs.Get(ctx, chunkResultKey(ref.JobID, ref.Chunk))
	if err != nil {
		return false
	}
	body.Close()
	return true
}

func (t *Tasks) readChunk(ctx context.Context, ref ChunkRef) ([]ChunkAddress, error) {
	body, err := t.Blobs.Get(ctx, ref.Key)
	if err != nil {
		return nil, &StoreUnavailable{Op: "read chunk " + ref.Key, Err: err}
	}
	defer body.Close()
	var addrs []ChunkAddress
	err = eachJSONLine(body, func(line []byte) error {
		var a ChunkAddress
		if err := json.Unmarshal(line, &a); err != nil {
			return err
		}
		addrs = append(addrs, a)
		return nil
	})
	if err != nil {
		return nil, &InvalidInput{File: ref.Key, Reason: err.Error()}
	}
	return addrs, nil
}

// eachJSONLine calls fn for every non-empty line of r.
func eachJSONLine(r io.Reader, fn func([]byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	line := 0
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		if err := fn(sc.Bytes()); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
	}
	return sc.Err()
}

func pending(addrs []ChunkAddress, done map[string]LookupRecord) []ChunkAddress {
	var todo []ChunkAddress
	for _, a := range addrs {
		if _, ok := done[a.Key]; !ok {
			todo = append(todo, a)
		}
	}
	return todo
}

// maxCostPerAddress is the most one address can be billed: one report per endpoint.
func (t *Tasks) maxCostPerAddress(job Job) int64 {
	return int64(max(len(job.Endpoints), 1)) * t.Settings.CostPerReportCents
}

// reserve reserves the worst-case cost of n addresses, or of as many as today's cap still
// allows. It returns how many addresses are covered and a settle func that turns the
// reservation into the actual spend (refunding the rest).
func (t *Tasks) reserve(ctx context.Context, job Job, n int) (int, func([]LookupRecord) error, error) {
	noop := func([]LookupRecord) error { return nil }
	per := t.maxCostPerAddress(job)
	if n == 0 || per == 0 {
		return n, noop, nil
	}
	day := budget.Day(t.now())
	afforded, err := t.reserveUpTo(ctx, day, n, per)
	if err != nil || afforded == 0 {
		return 0, noop, err
	}
	reserved := int64(afforded) * per
	_ = t.addCounters(ctx, job.ID, Counters{CostReservedCents: reserved})
	settle := func(records []LookupRecord) error {
		var spent int64
		for _, r := range records {
			spent += r.BilledCents
		}
		// Settle even when the task's context is done: a refund must not be lost.
		err := t.Budget.Settle(context.WithoutCancel(ctx), day, reserved, spent)
		_ = t.addCounters(ctx, job.ID, Counters{CostReservedCents: -reserved, CostSpentCents: spent})
		if err == nil {
			t.reportSpend(ctx, day)
		}
		return err
	}
	return afforded, settle, nil
}

// reserveUpTo tries the whole chunk first, then what the day's remaining cap covers.
func (t *Tasks) reserveUpTo(ctx context.Context, day string, n int, per int64) (int, error) {
	err := t.Budget.Reserve(ctx, day, int64(n)*per)
	var exhausted *budget.Exhausted
	if err == nil {
		return n, nil
	}
	if !errors.As(err, &exhausted) {
		return 0, &StoreUnavailable{Op: "reserve budget", Err: err}
	}
	left := (exhausted.CapCents - exhausted.UsedCents) / per
	if left <= 0 {
		return 0, nil
	}
	fit := int(min(left, int64(n)))
	if err := t.Budget.Reserve(ctx, day, int64(fit)*per); err != nil {
		if errors.As(err, &exhausted) {
			return 0, nil // someone else took it first: defer
		}
		return 0, &StoreUnavailable{Op: "reserve budget", Err: err}
	}
	return fit, nil
}

// lookupAll looks the addresses up with a few workers; the ATTOM client's shared limiter
// paces them. Each record is stored as soon as it is known. The first fatal error stops
// feeding new addresses, but calls already sent are allowed to finish: cancelling one could
// lose an answer ATTOM has already billed. Records finished before the error are returned so
// their spend is settled.
func (t *Tasks) lookupAll(ctx context.Context, job Job, chunk int, todo []ChunkAddress) ([]LookupRecord, error) {
	stop := make(chan struct{})
	work := make(chan ChunkAddress)
	var (
		mu       sync.Mutex
		records  []LookupRecord
		firstErr error
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
			close(stop)
		}
	}
	for range max(t.Settings.LookupWorkers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for a := range work {
				rec, err := t.lookupAddress(ctx, job, chunk, a)
				if rec != nil {
					mu.Lock()
					records = append(records, *rec)
					mu.Unlock()
				}
				if err != nil {
					fail(err)
				}
			}
		}()
	}
	feed(ctx, work, stop, todo)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return records, firstErr
}

// feed hands out addresses until they run out, a worker fails, or the task is cancelled.
func feed(ctx context.Context, work chan<- ChunkAddress, stop <-chan struct{}, todo []ChunkAddress) {
	defer close(work)
	for _, a := range todo {
		select {
		case work <- a:
		case <-stop:
			return
		case <-ctx.Done():
			return
		}
	}
}

// lookupAddress calls each endpoint for one address and stores the record. The first
// endpoint decides found or not found; a not-found address costs no further calls. When a
// later endpoint fails, the record is still stored (and returned) if anything was billed, so
// that spend is never paid again.
func (t *Tasks) lookupAddress(ctx context.Context, job Job, chunk int, a ChunkAddress) (*LookupRecord, error) {
	rec := LookupRecord{JobID: job.ID, Chunk: chunk, Key: a.Key, Outcome: LookupNotFound}
	raw := RawLookup{Endpoints: map[string]json.RawMessage{}}
	q := queryFor(a)
	var callErr error
	for i, ep := range endpointsOf(job) {
		res, err := t.Attom.Lookup(ctx, ep, q)
		if res.Billed {
			rec.BilledCents += t.Settings.CostPerReportCents
		}
		raw.Simulated = raw.Simulated || res.Simulated
		if err != nil {
			callErr = err
			break
		}
		if res.Outcome == attom.Found {
			rec.Outcome = LookupFound
			raw.Endpoints[ep] = res.Raw
		} else if i == 0 {
			break
		}
	}
	if callErr != nil {
		var invalid *attom.AttomInvalidRequest
		if !errors.As(callErr, &invalid) && rec.BilledCents == 0 {
			return nil, callErr // nothing paid: the retry will look it up again
		}
		if errors.As(callErr, &invalid) {
			rec.Outcome, rec.Reason = LookupError, invalid.Error()
			callErr = nil
		}
	}
	rawJSON, _ := json.Marshal(raw)
	rec.Raw = string(rawJSON)
	rec.At = t.now()
	if err := t.Lookups.PutLookup(context.WithoutCancel(ctx), rec); err != nil {
		return &rec, &StoreUnavailable{Op: "store lookup", Err: err}
	}
	t.countLookup(ctx, rec)
	return &rec, callErr
}

func (t *Tasks) countLookup(ctx context.Context, rec LookupRecord) {
	c := Counters{LookedUpRecords: 1}
	switch rec.Outcome {
	case LookupFound:
		c.RecordsFound = 1
	case LookupNotFound:
		c.NotFoundRecords = 1
	default:
		c.ErrorRecords = 1
	}
	// Counters drive progress only; the final counts are computed from the records.
	_ = t.addCounters(ctx, rec.JobID, c)
}

func (t *Tasks) addCounters(ctx context.Context, id string, c Counters) error {
	if err := t.Jobs.AddCounters(context.WithoutCancel(ctx), id, c); err != nil {
		return &StoreUnavailable{Op: "add counters", Err: err}
	}
	return nil
}

func endpointsOf(job Job) []string {
	if len(job.Endpoints) == 0 {
		return []string{attom.EndpointExpandedProfile}
	}
	return job.Endpoints
}

func queryFor(a ChunkAddress) attom.Query {
	line1 := a.Line1
	if a.Unit != "" {
		line1 += " " + a.Unit
	}
	line2 := a.City + ", " + a.State
	if a.ZIP != "" {
		line2 += " " + a.ZIP
	}
	return attom.Query{Line1: line1, Line2: line2}
}

// writeChunkResult writes the finished chunk's result lines; its existence marks the chunk
// done for Poll and for a later re-run.
func (t *Tasks) writeChunkResult(ctx context.Context, ref ChunkRef, addrs []ChunkAddress, done map[string]LookupRecord) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, a := range addrs {
		if err := enc.Encode(ResultLine{Address: a, Lookup: done[a.Key]}); err != nil {
			return err
		}
	}
	key := chunkResultKey(ref.JobID, ref.Chunk)
	if err := t.Blobs.Put(ctx, key, &buf); err != nil {
		return &StoreUnavailable{Op: "write " + key, Err: err}
	}
	return nil
}

// reportSpend logs the day's spend as a CloudWatch Embedded Metric Format record
// (AttomBatch/SpentCents): on Lambda, CloudWatch turns the log line into the metric the
// "spend nearing the daily cap" alarm watches, with no API call on the lookup's hot path.
func (t *Tasks) reportSpend(ctx context.Context, day string) {
	usage, err := t.Budget.Usage(ctx, day)
	if err != nil {
		return
	}
	t.log().Info("daily spend",
		"_aws", map[string]any{
			"Timestamp": t.now().UnixMilli(),
			"CloudWatchMetrics": []map[string]any{{
				"Namespace":  "AttomBatch",
				"Dimensions": [][]string{{}},
				"Metrics":    []map[string]string{{"Name": "SpentCents", "Unit": "Count"}},
			}},
		},
		"SpentCents", usage.SpentCents, "CapCents", usage.CapCents, "day", day)
}
