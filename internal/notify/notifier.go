package notify

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/leadflow/attom-batch/internal/batch"
)

// Recorder keeps the last delivery where people look (the job's last_notice, which
// `status` shows).
type Recorder func(ctx context.Context, ev batch.JobEvent, d Delivery)

// Queue delivers in the background, one event after another in the order they came, so a
// receiver that is slow or down never slows the job. Close waits, within its context, for
// what is queued; what it cannot deliver by then is logged and recorded as not delivered.
type Queue struct {
	hook   *Webhook
	record Recorder
	log    *slog.Logger
	events chan batch.JobEvent
	done   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool
}

var _ batch.Notifier = (*Queue)(nil)

// NewQueue starts a queue's worker.
func NewQueue(hook *Webhook, record Recorder, log *slog.Logger) *Queue {
	ctx, cancel := context.WithCancel(context.Background())
	q := &Queue{hook: hook, record: record, log: log, events: make(chan batch.JobEvent, 1024),
		done: make(chan struct{}), ctx: ctx, cancel: cancel}
	go q.work()
	return q
}

// Notify queues ev; a full queue (a receiver down for long) or a closed one drops it, logged.
func (q *Queue) Notify(_ context.Context, ev batch.JobEvent) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		q.log.Warn("webhook queue closed: event dropped", "event_id", ev.ID, "type", ev.Type, "job_id", ev.Job.ID)
		return
	}
	select {
	case q.events <- ev:
	default:
		q.log.Warn("webhook queue full: event dropped", "event_id", ev.ID, "type", ev.Type, "job_id", ev.Job.ID)
	}
}

func (q *Queue) work() {
	defer close(q.done)
	for ev := range q.events {
		deliver(q.ctx, q.hook, ev, q.record, q.log)
	}
}

// Close stops taking events and waits for the queued ones until ctx ends; then it abandons
// the rest (each abandoned delivery is logged and recorded).
func (q *Queue) Close(ctx context.Context) {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.events)
	}
	q.mu.Unlock()
	select {
	case <-q.done:
	case <-ctx.Done():
		q.cancel()
		<-q.done
	}
}

// Sync delivers as the job goes, for Lambda, whose process may freeze between
// invocations: a few quick tries, then the job goes on.
type Sync struct {
	Hook   *Webhook
	Record Recorder
	Log    *slog.Logger
}

var _ batch.Notifier = Sync{}

// Notify delivers ev now.
func (s Sync) Notify(ctx context.Context, ev batch.JobEvent) {
	deliver(ctx, s.Hook, ev, s.Record, s.Log)
}

func deliver(ctx context.Context, hook *Webhook, ev batch.JobEvent, record Recorder, log *slog.Logger) {
	d := hook.Deliver(ctx, ev)
	if !d.Delivered() {
		log.Warn("webhook delivery failed", "event_id", ev.ID, "type", ev.Type, "job_id", ev.Job.ID,
			"attempts", d.Attempts, "error", d.Err)
	}
	if record != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		record(rctx, ev, d)
	}
}

// Fanout tells every notifier.
type Fanout []batch.Notifier

// Notify tells each in turn.
func (f Fanout) Notify(ctx context.Context, ev batch.JobEvent) {
	for _, n := range f {
		n.Notify(ctx, ev)
	}
}
