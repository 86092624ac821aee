package batch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Job event types: the changes people working a list want to hear about.
const (
	EventCompleted = "completed"
	EventFailed    = "failed"
	EventPaused    = "paused"
	EventResumed   = "resumed"
	EventCancelled = "cancelled"
)

// JobEvent is one change of a job, sent to a webhook and, on AWS, put on EventBridge. ID is
// the same however often a retried step sends it, so receivers drop duplicates by it.
type JobEvent struct {
	ID        string     `json:"id"`
	Type      string     `json:"type"`
	Time      time.Time  `json:"time"`
	Reason    string     `json:"reason,omitempty"`     // why it failed or paused
	ResumesAt *time.Time `json:"resumes_at,omitempty"` // when a paused job is tried again
	Job       Job        `json:"job"`
	// Where the job's files are (blob keys under the results directory or bucket).
	ResultsPath     string `json:"results_path,omitempty"`
	RejectsPath     string `json:"rejects_path,omitempty"`
	LeadsExportPath string `json:"leads_export_path,omitempty"`
}

// DetailType is the event's EventBridge detail-type, e.g. "Batch Job Completed".
func (e JobEvent) DetailType() string {
	switch e.Type {
	case EventCompleted:
		return "Batch Job Completed"
	case EventFailed:
		return "Batch Job Failed"
	case EventPaused:
		return "Batch Job Paused"
	case EventResumed:
		return "Batch Job Resumed"
	default:
		return "Batch Job Cancelled"
	}
}

// Notifier tells people about job events. It must not fail or slow the job: delivery
// problems are its own to retry, record and log.
type Notifier interface {
	Notify(ctx context.Context, ev JobEvent)
}

// notify sends an event of the job's current state; stamp tells this change apart from
// another of the same type (a later pause, another failure), and keeps a retried step's
// event the same.
func (t *Tasks) notify(ctx context.Context, typ string, job Job, stamp, reason string, resumes *time.Time) {
	if t.Notifier == nil {
		return
	}
	sum := sha256.Sum256([]byte(job.ID + "|" + typ + "|" + stamp))
	ev := JobEvent{ID: "evt-" + hex.EncodeToString(sum[:12]), Type: typ, Time: t.now(), Reason: reason,
		ResumesAt: resumes, Job: job, RejectsPath: job.RejectsPath}
	if job.ResultFilePath != "" {
		ev.ResultsPath = job.ResultFilePath
	}
	if job.WantLeads && typ == EventCompleted && t.Settings.LeadsExport {
		ev.LeadsExportPath = leadsExportKey(job.ID)
	}
	t.Notifier.Notify(context.WithoutCancel(ctx), ev)
}
