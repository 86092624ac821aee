// Package eventbus puts job events on an EventBridge bus, so people on AWS route them with
// rules (to email, chat, a queue) the way they route any AWS event.
package eventbus

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/leadflow/attom-batch/internal/batch"
)

// Source is every job event's source; its detail-type says what changed ("Batch Job
// Completed", see batch.JobEvent.DetailType) and its detail is the event as the webhook
// gets it.
const Source = "attom-batch"

// API is the one EventBridge call the publisher makes.
type API interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Publisher puts job events on Bus ("default" for the account's default bus).
type Publisher struct {
	API API
	Bus string
	Log *slog.Logger
}

var _ batch.Notifier = Publisher{}

// Notify puts ev on the bus. A failure is logged, never returned: the job goes on.
func (p Publisher) Notify(ctx context.Context, ev batch.JobEvent) {
	detail, err := json.Marshal(ev)
	if err == nil {
		err = p.put(ctx, ev, string(detail))
	}
	if err != nil {
		p.Log.Warn("job event not put on EventBridge", "bus", p.Bus, "event_id", ev.ID, "type", ev.Type,
			"job_id", ev.Job.ID, "error", err.Error())
	}
}

func (p Publisher) put(ctx context.Context, ev batch.JobEvent, detail string) error {
	out, err := p.API.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{
		EventBusName: aws.String(p.Bus),
		Source:       aws.String(Source),
		DetailType:   aws.String(ev.DetailType()),
		Detail:       aws.String(detail),
		Resources:    []string{},
		Time:         aws.Time(ev.Time),
	}}})
	if err != nil {
		return err
	}
	if out.FailedEntryCount > 0 && len(out.Entries) > 0 {
		return &failedEntry{code: aws.ToString(out.Entries[0].ErrorCode), msg: aws.ToString(out.Entries[0].ErrorMessage)}
	}
	return nil
}

type failedEntry struct{ code, msg string }

func (e *failedEntry) Error() string {
	return "EventBridge refused the event: " + e.code + ": " + e.msg
}
