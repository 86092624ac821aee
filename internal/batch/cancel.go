package batch

import (
	"context"
	"fmt"
)

// Cancel marks a job cancelled. Its driver notices at its next address (within about a
// second): it stops feeding lookups, lets the calls in flight finish and keeps their
// answers, settles its reservation and ends the pipeline. A completed job cannot be
// cancelled. `resume` continues a cancelled job later.
func (t *Tasks) Cancel(ctx context.Context, id string) (Job, error) {
	job, err := t.Jobs.UpdateJob(ctx, id, func(j *Job) error {
		if j.Status == StatusCompleted {
			return fmt.Errorf("job %s is already completed", id)
		}
		now := t.now()
		j.Status = StatusCancelled
		j.AttomStatus = "cancelled; `attom-batch resume " + id + "` continues it"
		j.PauseReason, j.PausedUntil = "", nil
		j.UpdatedAt = &now
		return nil
	})
	if err != nil {
		return job, t.jobErr(id, err)
	}
	t.notify(ctx, EventCancelled, job, job.UpdatedAt.String(), "", nil)
	return job, nil
}
