package batch

import (
	"context"
	"encoding/json"
	"errors"
)

// Complete marks the job completed.
func (t *Tasks) Complete(ctx context.Context, in Step) (Step, error) {
	if err := t.holdJob(ctx, in.JobID, in.Driver, 0); err != nil {
		return in, err
	}
	job, err := t.Jobs.UpdateJob(ctx, in.JobID, func(j *Job) error {
		now := t.now()
		j.Status = StatusCompleted
		j.ProcessingCompletedAt = &now
		j.UpdatedAt = &now
		j.ProgressPercent = 100
		j.Error = ""
		return nil
	})
	if err != nil {
		return in, t.jobErr(in.JobID, err)
	}
	t.releaseJob(ctx, in.JobID, in.Driver)
	t.notify(ctx, EventCompleted, job, "", "", nil)
	return in, nil
}

// FailInput is whatever state the pipeline had when a task failed, plus the caught error.
// Prepare's failures arrive before a job id exists, with the original event instead.
type FailInput struct {
	JobID string          `json:"job_id"`
	Event json.RawMessage `json:"event,omitempty"`
	Error CaughtError     `json:"error"`
	// The event's own fields when the pipeline failed in Prepare (the state is the event).
	Detail json.RawMessage `json:"detail,omitempty"`
	// Driver is the failing pipeline execution (see Step.Driver).
	Driver string `json:"driver,omitempty"`
}

// CaughtError is Step Functions' error output: {"Error": name, "Cause": message}.
type CaughtError struct {
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}

// Fail is MarkFailed: it records the error on the job so a person can see why and re-drive
// it (uploading the same object again, or `attom-batch run-all` on the same file).
func (t *Tasks) Fail(ctx context.Context, in FailInput) (Step, error) {
	id := in.JobID
	if id == "" {
		id = t.jobIDFromEvent(in)
	}
	if id == "" {
		return Step{}, nil // nothing to record: the event itself was unusable
	}
	var lost *LeaseLost
	if err := t.holdJob(ctx, id, in.Driver, 0); in.Error.Error == "LeaseLost" || errors.As(err, &lost) {
		return Step{JobID: id}, nil // another driver has the job now: its state is not ours to change
	} else if err != nil {
		return Step{JobID: id}, err // a store error: Step Functions retries MarkFailed
	}
	job, err := t.Jobs.UpdateJob(ctx, id, func(j *Job) error {
		now := t.now()
		j.Status = StatusFailed
		j.Error = in.Error.Error + ": " + causeMessage(in.Error.Cause)
		j.UpdatedAt = &now
		return nil
	})
	if isNotFound(err) {
		return Step{JobID: id}, nil
	}
	if err != nil {
		return Step{JobID: id}, &StoreUnavailable{Op: "record failure", Err: err}
	}
	t.releaseJob(ctx, id, in.Driver)
	t.notify(ctx, EventFailed, job, in.Driver+"|"+job.Error, job.Error, nil)
	return Step{JobID: id}, nil
}

func (t *Tasks) jobIDFromEvent(in FailInput) string {
	raw := in.Event
	if len(raw) == 0 && len(in.Detail) > 0 {
		raw, _ = json.Marshal(map[string]json.RawMessage{
			"detail-type": json.RawMessage(`"Object Created"`), "detail": in.Detail,
		})
	}
	id, _ := EventJobID(raw)
	return id
}

// causeMessage unpacks a Lambda error cause ({"errorMessage":...,"errorType":...}) into its
// message; other causes pass through.
func causeMessage(cause string) string {
	var lambdaErr struct {
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal([]byte(cause), &lambdaErr) == nil && lambdaErr.ErrorMessage != "" {
		return lambdaErr.ErrorMessage
	}
	return cause
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// EventJobID names the job an upload event creates, without creating it.
func EventJobID(raw json.RawMessage) (string, error) {
	ev, err := decodeEvent(raw)
	if err != nil {
		return "", err
	}
	obj := ev.Detail.Object
	version := obj.VersionID
	if version == "" {
		version = obj.ETag
	}
	if o := ev.Options; o != nil && o.Name != "" {
		version += "#" + o.Name // a new name is a new job; the same name resumes it
	}
	return JobID(ev.Detail.Bucket.Name, obj.Key, version), nil
}
