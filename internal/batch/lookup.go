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
	"time"

	"github.com/leadflow/attom-batch/internal/attom"
)

// RawLookup is what a lookup record keeps of ATTOM's answers: each endpoint's property
// block as received, and whether it came from the simulator.
type RawLookup struct {
	Simulated bool                       `json:"simulated,omitempty"`
	Endpoints map[string]json.RawMessage `json:"endpoints"`
}

// LookupChunk looks up one chunk's addresses on ATTOM under the daily cap. It holds the
// chunk's lease while it works (no chunk is looked up by two drivers at once), settles what a
// dead attempt left reserved, answers what the answer cache already knows for free, pays for
// every call before it leaves, and defers the chunk (not fails it) when the cap refuses, when
// ATTOM is unavailable, or when the job is cancelled.
func (t *Tasks) LookupChunk(ctx context.Context, ref ChunkRef) (ChunkResult, error) {
	result := ChunkResult{Chunk: ref.Chunk}
	if t.chunkFinished(ctx, ref) {
		// Looked up already; finish it if a crash came between its lookups and its leads.
		result.Status = ChunkDone
		if job, err := t.getJob(ctx, ref.JobID); err == nil && t.checkDriver(ctx, job.ID, ref.Driver) == nil {
			t.finishChunkLater(ctx, job, ref.Chunk)
		}
		return result, nil
	}
	job, err := t.getJob(ctx, ref.JobID)
	if err != nil {
		return result, err
	}
	if err := t.checkDriver(ctx, job.ID, ref.Driver); err != nil {
		return result, err
	}
	if job.Status == StatusCancelled {
		result.Status = ChunkDeferred
		return result, t.markDeferred(ctx, ref, 0, DeferredByCancel, t.budgetDay(t.now()))
	}
	attempt, err := t.beginAttempt(ctx, job, ref.Chunk, holderOf(ref))
	if err != nil {
		return result, err
	}
	defer attempt.end()
	if t.chunkFinished(ctx, ref) { // finished by the attempt this one waited for
		result.Status = ChunkDone
		return result, nil
	}
	return t.lookupChunk(ctx, ref, job, attempt)
}

func holderOf(ref ChunkRef) string {
	if ref.Driver != "" {
		return ref.Driver
	}
	return "lookup " + ref.Run
}

func (t *Tasks) lookupChunk(ctx context.Context, ref ChunkRef, job Job, attempt *chunkAttempt) (ChunkResult, error) {
	result := ChunkResult{Chunk: ref.Chunk}
	addrs, err := t.readChunk(ctx, ref)
	if err != nil {
		return result, err
	}
	done, err := t.Lookups.ChunkLookups(ctx, ref.JobID, ref.Chunk)
	if err != nil {
		return result, &StoreUnavailable{Op: "read lookups", Err: err}
	}
	if err := t.withRaw(ctx, job, done); err != nil {
		return result, err
	}
	todo := pending(addrs, done)
	result.Skipped = len(addrs) - len(todo)
	plans, err := t.planAddresses(ctx, job, todo)
	if err != nil {
		return result, err
	}
	prog := t.newProgress(job.ID)
	defer prog.flush(ctx) // what a deferred or failed attempt counted; empty after a done one
	toBuy, err := t.storeReused(ctx, job, ref.Chunk, plans, done, prog)
	if err != nil {
		return result, err
	}
	w := t.newWallet(ctx, job.ID, attempt)
	if _, err := w.reserve(worstCase(toBuy, t.Settings.CostPerReportCents)); err != nil {
		return result, errors.Join(err, w.settle())
	}
	lookCtx, cancel := beforeDeadline(ctx)
	records, stopErr := t.lookupAll(lookCtx, job, ref.Chunk, toBuy, w, attempt, prog)
	if stopErr != nil && lookCtx.Err() != nil && ctx.Err() == nil {
		stopErr = errOutOfTime
	}
	cancel()
	settleErr := w.settle()
	result.LookedUp = len(records)
	if settleErr != nil {
		return result, settleErr
	}
	for _, r := range records {
		done[r.Key] = r
	}
	if reason, deferred := deferralReason(stopErr); deferred {
		result.Status = ChunkDeferred
		return result, t.markDeferred(ctx, ref, len(addrs)-len(done), reason, w.day)
	}
	if stopErr != nil {
		return result, stopErr
	}
	if err := t.writeChunkResult(ctx, ref, addrs, done); err != nil {
		return result, err
	}
	result.Status = ChunkDone
	done1 := prog.take()
	done1.ChunksDone = 1
	if err := t.addCounters(ctx, ref.JobID, done1); err != nil {
		return result, err
	}
	t.finishChunkLater(ctx, job, ref.Chunk)
	return result, nil
}

// finishChunkLater finishes a chunk whose lookups are stored: its records and leads (issue
// 15). A failure here does not fail the chunk, whose lookups are done and paid for (on AWS a
// failed Map child fails the whole lookup run): the chunk stays unfinished, and the next
// lookup run or the final Process finishes it.
func (t *Tasks) finishChunkLater(ctx context.Context, job Job, chunk int) {
	if err := t.finishChunk(ctx, job, chunk); err != nil {
		t.log().Warn("chunk leads left for later", "job_id", job.ID, "chunk", chunk, "error", err)
	}
}

// storeReused records, free of charge, the addresses the answer cache answers in full, and
// returns the rest.
func (t *Tasks) storeReused(ctx context.Context, job Job, chunk int, plans []addressPlan, done map[string]LookupRecord, prog *liveCounts) ([]addressPlan, error) {
	var toBuy []addressPlan
	for _, p := range plans {
		if len(p.missing) > 0 {
			toBuy = append(toBuy, p)
			continue
		}
		rec := t.recordFrom(job, chunk, p, 0)
		rec.Reused = boughtByOthers(p, job.ID)
		if err := t.storeLookup(ctx, rec, prog); err != nil {
			return nil, err
		}
		done[rec.Key] = rec
	}
	return toBuy, nil
}

// boughtByOthers tells an address answered from another job's answers (reused) from one
// whose answers this job bought itself in an earlier attempt.
func boughtByOthers(p addressPlan, jobID string) bool {
	for _, a := range p.have {
		if a.JobID != jobID {
			return true
		}
	}
	return false
}

// worstCase is what the addresses cost if every missing endpoint bills once: the chunk
// reserves it up front (or what the day's cap still allows), in one write.
func worstCase(plans []addressPlan, per int64) int64 {
	var calls int64
	for _, p := range plans {
		calls += int64(len(p.missing))
	}
	return calls * per
}

// Reasons a chunk is deferred, as Poll reads them from the deferral markers.
const (
	DeferredByCap    = "daily cap"
	DeferredByOutage = "ATTOM unavailable"
	DeferredByCancel = "cancelled"
	DeferredByTime   = "out of time" // the task neared its deadline: go on at once
)

// deferralReason tells a stop that waits (cap, outage, cancel) from one that fails.
func deferralReason(err error) (string, bool) {
	var unavailable *attom.AttomUnavailable
	switch {
	case errors.Is(err, errCapReached):
		return DeferredByCap, true
	case errors.Is(err, errJobCancelled):
		return DeferredByCancel, true
	case errors.Is(err, errOutOfTime):
		return DeferredByTime, true
	case errors.As(err, &unavailable):
		return DeferredByOutage, true
	}
	return "", false
}

// deferral is the marker a deferred chunk leaves for its run.
type deferral struct {
	Chunk             int    `json:"chunk"`
	DeferredAddresses int    `json:"deferred_addresses"`
	Reason            string `json:"reason"`
	Day               string `json:"day"` // the UTC day whose cap deferred it
}

// markDeferred records that this chunk was deferred in this run and why, so Poll can tell a
// deferred chunk (wait for the reset, or for ATTOM) from a failed one (fail the job).
// Engines disagree on what a failed Map child does to the Map (AWS fails it, moto's engine
// does not), so the pipeline relies on these markers rather than on the Map's outcome.
func (t *Tasks) markDeferred(ctx context.Context, ref ChunkRef, left int, reason, day string) error {
	key := deferredPrefix(ref.JobID, ref.Run) + pad(ref.Chunk) + ".json"
	return t.putJSON(ctx, key, deferral{Chunk: ref.Chunk, DeferredAddresses: left, Reason: reason, Day: day})
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

// maxCostPerAddress is the most one address can be billed on a first try: one report per
// endpoint.
func (t *Tasks) maxCostPerAddress(job Job) int64 {
	return int64(max(len(job.Endpoints), 1)) * t.Settings.CostPerReportCents
}

// lookupAll looks the addresses up with a few workers; the ATTOM client's shared limiter
// paces them. Each answer is stored as soon as it arrives. The first stop (the cap, an
// outage, a cancel, a fatal error) stops feeding new addresses, but calls already sent are
// allowed to finish: cancelling one could lose an answer ATTOM has already billed.
func (t *Tasks) lookupAll(ctx context.Context, job Job, chunk int, todo []addressPlan, w *wallet, attempt *chunkAttempt, prog *liveCounts) ([]LookupRecord, error) {
	var (
		mu      sync.Mutex
		records []LookupRecord
		stopErr error
		wg      sync.WaitGroup
	)
	stop := make(chan struct{})
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if stopErr == nil {
			stopErr = err
			close(stop)
		}
	}
	work := make(chan addressPlan)
	for range max(t.Settings.LookupWorkers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				rec, err := t.lookupAddress(ctx, job, chunk, p, w, attempt.lease.Owner, prog)
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
	if err := t.feed(ctx, job.ID, work, stop, attempt, todo); err != nil {
		fail(err)
	}
	wg.Wait()
	return records, stopErr
}

// deadlineMargin is the time a task keeps, before its deadline (a Lambda's timeout), to let
// its calls in flight finish and to settle.
const deadlineMargin = 45 * time.Second

// beforeDeadline ends deadlineMargin before ctx's deadline, when it has one.
func beforeDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if deadline, ok := ctx.Deadline(); ok {
		return context.WithDeadline(ctx, deadline.Add(-deadlineMargin))
	}
	return context.WithCancel(ctx)
}

// errOutOfTime stops a chunk whose task is about to reach its deadline (on Lambda, a 429
// storm's waits can outlast it): the chunk is deferred and the next run goes on at once.
var errOutOfTime = errors.New("the task's time is running out")

// errJobCancelled stops feeding a chunk whose job was cancelled.
var errJobCancelled = errors.New("the job was cancelled")

// feed hands out addresses until they run out, a worker stops, the attempt loses its lease,
// the task is cancelled, or the job is (checked about once a second).
func (t *Tasks) feed(ctx context.Context, jobID string, work chan<- addressPlan, stop <-chan struct{}, attempt *chunkAttempt, todo []addressPlan) error {
	defer close(work)
	checked := time.Now()
	for _, p := range todo {
		if err := attempt.check(); err != nil {
			return err
		}
		if time.Since(checked) > time.Second {
			checked = time.Now()
			if t.jobCancelled(ctx, jobID) {
				return errJobCancelled
			}
		}
		select {
		case work <- p:
		case <-stop:
			return nil
		case <-attempt.lost:
			return attempt.check()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (t *Tasks) jobCancelled(ctx context.Context, id string) bool {
	job, err := t.Jobs.GetJob(ctx, id)
	return err == nil && job.Status == StatusCancelled
}

// lookupAddress buys what one address misses, endpoint by endpoint, and stores its record.
// The first endpoint decides found or not found; a not-found address costs no further
// calls. When a call fails for a reason that waits (the cap, an outage), no record is
// written: the address stays pending, and the answers already bought stay in the cache, so
// the next attempt buys only the missing endpoints.
func (t *Tasks) lookupAddress(ctx context.Context, job Job, chunk int, p addressPlan, w *wallet, owner string, prog *liveCounts) (*LookupRecord, error) {
	per := t.Settings.CostPerReportCents
	if err := w.hold(int64(len(p.missing)) * per); err != nil {
		return nil, err
	}
	first := endpointsOf(job)[0]
	var billed int64
	var reason string
	for i, ep := range p.missing {
		ans, cost, err := t.buyAnswer(ctx, job, p.addr, ep, w, owner)
		billed += cost
		var bad *addressError
		if err != nil {
			w.release(int64(len(p.missing)-i-1) * per)
			if !errors.As(err, &bad) {
				return nil, err
			}
			reason = bad.reason
			break
		}
		p.have[ep] = ans
		if ep == first && ans.Outcome == LookupNotFound {
			w.release(int64(len(p.missing)-i-1) * per)
			break
		}
	}
	rec := t.recordFrom(job, chunk, p, billed)
	if reason != "" {
		rec.Outcome, rec.Reason = LookupError, reason
	}
	if err := t.storeLookup(ctx, rec, prog); err != nil {
		return &rec, err
	}
	return &rec, nil
}

// addressError ends one address as an error (ATTOM refused the request, or answered twice
// with a body that could not be read); the chunk goes on.
type addressError struct{ reason string }

func (e *addressError) Error() string { return e.reason }

// buyAnswer makes the calls for one address on one endpoint and stores the answer. The
// first call uses the address's hold; a broken answer (billed, unreadable) or a call
// abandoned at its timeout (possibly billed) is tried once more on a new hold. It returns
// what the calls cost.
func (t *Tasks) buyAnswer(ctx context.Context, job Job, a ChunkAddress, ep string, w *wallet, owner string) (Answer, int64, error) {
	per := t.Settings.CostPerReportCents
	var spent int64
	for try := 1; ; try++ {
		if try > 1 {
			if err := w.hold(per); err != nil {
				return Answer{}, spent, err
			}
		}
		res, err := t.Attom.Lookup(ctx, ep, queryFor(a))
		billed, maybe := chargeOf(res, per)
		w.charge(per, billed, maybe)
		spent += billed + maybe
		ans := Answer{Key: a.Key, Endpoint: ep, BilledCents: spent, Simulated: res.Simulated,
			FetchedAt: t.now(), JobID: job.ID, Attempt: owner}
		var broken *attom.AttomBrokenAnswer
		var invalid *attom.AttomInvalidRequest
		switch {
		case err == nil:
			ans.Outcome, ans.Raw = answerOutcome(res), string(res.Raw)
			return ans, spent, t.putAnswer(ctx, ans)
		case errors.As(err, &broken):
			ans.Outcome, ans.Raw = AnswerBroken, string(res.Body)
			if perr := t.putBrokenAnswer(ctx, ans); perr != nil {
				return ans, spent, perr
			}
			if try >= 2 {
				return ans, spent, &addressError{reason: "ATTOM answered twice with a body that could not be read: " + err.Error()}
			}
		case errors.As(err, &invalid):
			return ans, spent, &addressError{reason: invalid.Error()}
		case res.PossiblyBilled && try < 2 && ctx.Err() == nil:
			// Abandoned at its timeout: reckoned as billed, tried once more.
		default:
			return ans, spent, err
		}
	}
}

// chargeOf is what one lookup may have cost: billed for sure, possibly, or both (net/http
// silently sent the request a second time).
func chargeOf(res attom.Result, per int64) (billed, maybe int64) {
	if res.Billed {
		billed = per
	}
	if res.PossiblyBilled {
		maybe = per
	}
	return billed, maybe
}

func answerOutcome(res attom.Result) string {
	if res.Outcome == attom.Found {
		return LookupFound
	}
	return LookupNotFound
}

func (t *Tasks) putAnswer(ctx context.Context, a Answer) error {
	if err := t.Answers.PutAnswer(context.WithoutCancel(ctx), a); err != nil {
		return &StoreUnavailable{Op: "store answer", Err: err}
	}
	return nil
}

// putBrokenAnswer keeps an unreadable answer (billed, kept raw to be looked at) unless a
// usable one is stored for the address and endpoint: property records refer to the answer
// for ATTOM's blocks, and a refresh that got a broken body must not lose them.
func (t *Tasks) putBrokenAnswer(ctx context.Context, a Answer) error {
	have, err := t.Answers.Answers(context.WithoutCancel(ctx), []string{a.Key}, []string{a.Endpoint})
	if err != nil {
		return &StoreUnavailable{Op: "read answer", Err: err}
	}
	if old, ok := have[a.Key][a.Endpoint]; ok && usable(old) {
		t.log().Warn("unreadable ATTOM answer not stored over a usable one", "address_key", a.Key, "endpoint", a.Endpoint, "job_id", a.JobID)
		return nil
	}
	return t.putAnswer(ctx, a)
}

// storeLookup stores an address's record and counts it for progress. The record leaves
// out the raw ATTOM blocks of a found address: they are in the answer cache already, which
// is where a resumed attempt reads them back (withRaw).
func (t *Tasks) storeLookup(ctx context.Context, rec LookupRecord, prog *liveCounts) error {
	stored := rec
	if rec.Outcome == LookupFound {
		stored.Raw = ""
	}
	if err := t.Lookups.PutLookup(context.WithoutCancel(ctx), stored); err != nil {
		return &StoreUnavailable{Op: "store lookup", Err: err}
	}
	prog.count(ctx, rec)
	return nil
}

// progressEvery is how often a chunk attempt adds its lookups so far to the job's live
// counters: once at its end, and in between at most this often, never once per address
// (issue 12: a job counter update per address was a DynamoDB write per address).
const progressEvery = 10 * time.Second

// liveCounts gathers one chunk attempt's lookup counts for the job's live counters.
type liveCounts struct {
	t     *Tasks
	jobID string
	mu    sync.Mutex
	c     Counters
	last  time.Time
}

func (t *Tasks) newProgress(jobID string) *liveCounts {
	return &liveCounts{t: t, jobID: jobID, last: time.Now()}
}

// count adds one stored lookup, and hands the counts so far to the job when progressEvery
// has passed since the last time.
func (p *liveCounts) count(ctx context.Context, rec LookupRecord) {
	p.mu.Lock()
	p.c.LookedUpRecords++
	if rec.Reused {
		p.c.ReusedRecords++
	}
	switch rec.Outcome {
	case LookupFound:
		p.c.RecordsFound++
	case LookupNotFound:
		p.c.NotFoundRecords++
	default:
		p.c.ErrorRecords++
	}
	due := time.Since(p.last) >= progressEvery
	p.mu.Unlock()
	if due {
		p.flush(ctx)
	}
}

// take returns the counts not yet handed to the job and forgets them.
func (p *liveCounts) take() Counters {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.c
	p.c, p.last = Counters{}, time.Now()
	return c
}

// flush adds the counts not yet added to the job. Counters drive progress only; the final
// counts are computed from the records, so a failed add is not an error.
func (p *liveCounts) flush(ctx context.Context) {
	if c := p.take(); c != (Counters{}) {
		_ = p.t.addCounters(ctx, p.jobID, c)
	}
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
