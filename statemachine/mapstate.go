package statemachine

import (
	"context"
	"errors"
	"sync"
	"time"
)

// mapAttempt is one try of a Map: InputPath, the items (ItemsPath or the
// ItemReader), ItemSelector, the iterations, ResultSelector and ResultPath.
func (e *runEnv) mapAttempt(ctx context.Context, st *stateDef, raw any, s scope, ev *Event) (any, error) {
	ms := st.mapSpec
	eff, err := st.io.effectiveInput(s)
	if err != nil {
		return nil, err
	}
	s.input = eff
	items, err := e.mapItems(ctx, ms, s)
	if err != nil {
		return nil, err
	}
	inputs := make([]any, len(items))
	for i, item := range items {
		if inputs[i], err = e.selectItem(st, s, ev.Entered, i, item); err != nil {
			return nil, err
		}
	}
	dropResults := st.io.resultNull && st.io.resultSelector == nil
	results, iterations, err := e.runIterations(ctx, ms, inputs, dropResults)
	ev.Iterations = iterations
	if err != nil {
		return nil, err
	}
	return st.io.resultChain(raw, results, s)
}

func (e *runEnv) mapItems(ctx context.Context, ms *mapSpec, s scope) ([]any, error) {
	if ms.reader != nil {
		return e.readItems(ctx, ms.reader, s)
	}
	v, ok := s.input, true
	path := "$"
	if ms.itemsPath != nil {
		v, ok = s.lookup(*ms.itemsPath)
		path = ms.itemsPath.raw
	}
	arr, isArr := v.([]any)
	if !ok || !isArr {
		return nil, newStateError(StatesRuntime, "Map ItemsPath %s must point at an array, got %s", path, describeValue(v, ok))
	}
	return arr, nil
}

func describeValue(v any, ok bool) string {
	if !ok {
		return "nothing"
	}
	return jsonKind(v)
}

// readItems fetches and decodes the ItemReader's JSON array.
func (e *runEnv) readItems(ctx context.Context, r *readerSpec, s scope) ([]any, error) {
	params, err := r.params.eval(s)
	if err != nil {
		return nil, err
	}
	obj, _ := params.(map[string]any)
	bucket, okB := obj["Bucket"].(string)
	key, okK := obj["Key"].(string)
	if !okB || !okK {
		return nil, newStateError(StatesItemReaderFailed, "ItemReader Bucket and Key must be strings, got %s", string(mustEncode(params)))
	}
	data, err := e.opts.ItemReader(ctx, bucket, key)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, newStateError(StatesItemReaderFailed, "reading s3://%s/%s: %v", bucket, key, err)
	}
	v, err := decodeJSON(data)
	if err != nil {
		return nil, newStateError(StatesItemReaderFailed, "s3://%s/%s is not valid JSON: %v", bucket, key, err)
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, newStateError(StatesItemReaderFailed, "s3://%s/%s must hold a JSON array, got %s", bucket, key, jsonKind(v))
	}
	if r.maxItems > 0 && len(arr) > r.maxItems {
		arr = arr[:r.maxItems]
	}
	return arr, nil
}

// selectItem applies ItemSelector (or the legacy Parameters), which sees
// the Map's effective input as $ and the item as $$.Map.Item.
func (e *runEnv) selectItem(st *stateDef, s scope, entered time.Time, index int, item any) (any, error) {
	if st.mapSpec.itemSelector == nil {
		return item, nil
	}
	ctxObj := e.contextObject(st.name, entered, 0, map[string]any{"Index": intNumber(int64(index)), "Value": item})
	return st.mapSpec.itemSelector.eval(scope{input: s.input, context: ctxObj, env: e})
}

// iterationRun collects the iterations' outcomes.
type iterationRun struct {
	mu         sync.Mutex
	results    []any
	iterations []*Iteration
	failures   int
	firstFail  *stateError
	fatal      error
	cancel     context.CancelFunc
	inline     bool
	// lean drops a succeeded iteration's events and, with dropResults, its result
	// (RunOptions.LeanDistributedMaps).
	lean, dropResults bool
}

// runIterations runs the processor on every input, at most MaxConcurrency
// (capped by RunOptions.MaxParallel) at a time. An inline Map fails on the
// first failed iteration; a Distributed Map counts failures against its
// tolerated threshold, like a Map Run.
func (e *runEnv) runIterations(ctx context.Context, ms *mapSpec, inputs []any, dropResults bool) ([]any, []Iteration, error) {
	ictx, cancel := context.WithCancel(ctx)
	defer cancel()
	run := &iterationRun{results: make([]any, len(inputs)), iterations: make([]*Iteration, len(inputs)), cancel: cancel, inline: !ms.distributed}
	run.lean = e.opts.LeanDistributedMaps && ms.distributed
	run.dropResults = run.lean && dropResults
	limit := e.opts.MaxParallel
	if ms.maxConcurrency > 0 && ms.maxConcurrency < limit {
		limit = ms.maxConcurrency
	}
	// The semaphore's tokens are the (fake) times their slots became free,
	// so an iteration waiting for a slot starts when its predecessor ended.
	slots := make(chan time.Time, limit)
	for range limit {
		slots <- branchStart(ctx, e.clock)
	}
	var wg sync.WaitGroup
	for i := range inputs {
		start, ok := acquire(ictx, slots)
		if !ok {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			bctx, branch := withBranch(ictx, start)
			defer func() { slots <- branch.read() }()
			out, events, err := e.runMachine(bctx, ms.processor, inputs[i])
			run.record(i, out, events, err)
		}()
	}
	wg.Wait()
	return run.outcome(ctx, ms, len(inputs))
}

func acquire(ctx context.Context, slots chan time.Time) (time.Time, bool) {
	select {
	case t := <-slots:
		return t, ctx.Err() == nil
	case <-ctx.Done():
		return time.Time{}, false
	}
}

func (r *iterationRun) record(i int, out any, events []Event, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	it := &Iteration{Index: i, Status: StatusSucceeded, Events: events}
	r.iterations[i] = it
	se := asStateError(err)
	switch {
	case err == nil:
		if !r.dropResults {
			r.results[i] = out
		}
		if r.lean {
			it.Events = nil
		}
	case se != nil:
		it.Status, it.Error, it.Cause = StatusFailed, se.Name, se.Cause
		r.failures++
		if r.firstFail == nil {
			r.firstFail = se
		}
		if r.inline {
			r.cancel()
		}
	default:
		it.Status, it.Error, it.Cause = StatusAborted, "Aborted", err.Error()
		if r.fatal == nil && (errors.Is(err, ErrMaxTransitions) || r.firstFail == nil) {
			r.fatal = err
			r.cancel()
		}
	}
}

func (r *iterationRun) outcome(ctx context.Context, ms *mapSpec, total int) ([]any, []Iteration, error) {
	var its []Iteration
	for _, it := range r.iterations {
		if it != nil {
			its = append(its, *it)
		}
	}
	switch {
	case ctx.Err() != nil:
		return nil, its, ctx.Err()
	case r.fatal != nil && (errors.Is(r.fatal, ErrMaxTransitions) || r.firstFail == nil):
		return nil, its, r.fatal
	case r.failures == 0:
		return r.results, its, nil
	case r.inline:
		return nil, its, r.firstFail
	case toleratedExceeded(ms, r.failures, total):
		return nil, its, newStateError(StatesExceedToleratedFailure,
			"The specified tolerated failure threshold was exceeded: %d of %d items failed (first: %s: %s)",
			r.failures, total, r.firstFail.Name, r.firstFail.Cause)
	}
	return r.results, its, nil
}

// toleratedExceeded applies ToleratedFailureCount/Percentage; with neither
// set, any failure fails the Map Run.
func toleratedExceeded(ms *mapSpec, failures, total int) bool {
	if ms.toleratedCount < 0 && ms.toleratedPercent < 0 {
		return true
	}
	if ms.toleratedCount >= 0 && failures > ms.toleratedCount {
		return true
	}
	return ms.toleratedPercent >= 0 && float64(failures)*100/float64(total) > ms.toleratedPercent
}
