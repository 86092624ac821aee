package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/config"
	"github.com/leadflow/attom-batch/internal/eventbus"
	"github.com/leadflow/attom-batch/internal/notify"
)

// webhookOf is the configured webhook, or nil.
func webhookOf(cfg config.Config) *notify.Webhook {
	if cfg.WebhookURL == "" {
		return nil
	}
	return &notify.Webhook{URL: cfg.WebhookURL, Secret: cfg.WebhookSecret.Reveal()}
}

// recordNotice keeps a delivery on its job, where `status` shows it.
func recordNotice(jobs batch.JobStore) notify.Recorder {
	return func(ctx context.Context, ev batch.JobEvent, d notify.Delivery) {
		_, _ = jobs.UpdateJob(ctx, ev.Job.ID, func(j *batch.Job) error {
			j.LastNotice = d.String()
			return nil
		})
	}
}

// EmbeddedNotifier delivers webhooks in the background on one machine; closing it waits a
// little for what is queued.
func EmbeddedNotifier(cfg config.Config, jobs batch.JobStore, log *slog.Logger, noRetryDelay bool) (batch.Notifier, func()) {
	hook := webhookOf(cfg)
	if hook == nil {
		return nil, func() {}
	}
	if noRetryDelay {
		hook.Sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	}
	q := notify.NewQueue(hook, recordNotice(jobs), log)
	return q, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		q.Close(ctx)
	}
}

// cloudNotifier puts job events on EventBridge and, when one is configured, posts them to the
// webhook as the job goes (a Lambda's process may freeze between invocations, so nothing
// waits in the background there; a few quick tries, then the job goes on).
func cloudNotifier(cfg config.Config, awsCfg aws.Config, jobs batch.JobStore, log *slog.Logger) batch.Notifier {
	var all notify.Fanout
	if cfg.EventBus != "" && cfg.EventBus != "none" {
		all = append(all, eventbus.Publisher{API: eventbridge.NewFromConfig(awsCfg), Bus: cfg.EventBus, Log: log})
	}
	if hook := webhookOf(cfg); hook != nil {
		hook.Attempts, hook.Backoff = 3, 500*time.Millisecond
		all = append(all, notify.Sync{Hook: hook, Record: recordNotice(jobs), Log: log})
	}
	if len(all) == 0 {
		return nil
	}
	return all
}
