package batch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Submit is submitBatchRequest: it estimates cost and completion, starts the lookup workflow
// (ATTOM has no batch API, so the batch is ours) and records external_batch_id.
func (t *Tasks) Submit(ctx context.Context, in Step) (Step, error) {
	job, err := t.drivenJob(ctx, in)
	if err != nil {
		return in, err
	}
	if job.ChunkCount == 0 {
		in.Lookup = LookupDone
		return in, t.markLookupStarted(ctx, job.ID, "", StatusSubmitted)
	}
	return t.startRun(ctx, in, job, StatusSubmitted)
}

// Resume restarts the lookup workflow after the cap reset; chunks already done are left out.
func (t *Tasks) Resume(ctx context.Context, in Step) (Step, error) {
	job, err := t.drivenJob(ctx, in)
	if err != nil {
		return in, err
	}
	if job.Status == StatusCancelled {
		in.Lookup, in.WaitSeconds = LookupCancelled, 1 // Poll ends the pipeline next
		return in, nil
	}
	out, err := t.startRun(ctx, in, job, StatusProcessing)
	if err == nil && job.Status == StatusPaused && job.PausedUntil != nil {
		if resumed, err := t.Jobs.GetJob(ctx, job.ID); err == nil {
			t.notify(ctx, EventResumed, resumed, job.PausedUntil.Format(time.RFC3339), "", nil)
		}
	}
	return out, err
}

// startRun plans a lookup run and starts it.
func (t *Tasks) startRun(ctx context.Context, in Step, job Job, status string) (Step, error) {
	run := lookupRunName(job, in.Polls)
	manifest, err := t.planRun(ctx, job, run)
	if err != nil {
		return in, err
	}
	return t.startLookup(ctx, in, job, status, run, manifest)
}

func (t *Tasks) startLookup(ctx context.Context, in Step, job Job, status, run, manifest string) (Step, error) {
	// The job shows as submitted before the run starts: a local run is over when StartLookup
	// returns, and the job must not read "created" meanwhile.
	if err := t.markLookupStarted(ctx, job.ID, "", status); err != nil {
		return in, err
	}
	execID, err := t.Launcher.StartLookup(ctx, LookupInput{
		JobID: job.ID, Bucket: t.Settings.Bucket, ManifestKey: manifest, Run: run, Driver: in.Driver,
	})
	if err != nil {
		return in, &StoreUnavailable{Op: "start lookup for " + job.ID, Err: err}
	}
	if err := t.recordLookupRun(ctx, job.ID, execID); err != nil {
		return in, err
	}
	job, err = t.getJob(ctx, job.ID)
	if err != nil {
		return in, err
	}
	in.Lookup = LookupRunning
	in.RunStarted, in.RunBase = t.now(), bought(job)
	in.WaitSeconds = t.pollWait(ctx, job, in)
	if status, _, err := t.Launcher.LookupStatus(ctx, execID); err == nil && status != ExecRunning {
		in.WaitSeconds = 0 // a synchronous launcher has already finished: poll at once
	}
	return in, t.holdForWait(ctx, in)
}

// bought is how many of the job's addresses have been looked up at ATTOM (not reused).
func bought(j Job) int { return j.LookedUpRecords - j.ReusedRecords }

func (t *Tasks) markLookupStarted(ctx context.Context, id, execID, status string) error {
	_, err := t.Jobs.UpdateJob(ctx, id, func(j *Job) error {
		now := t.now()
		if execID != "" {
			j.ExternalBatchID = execID
		}
		if j.SubmittedAt == nil {
			j.SubmittedAt = &now
		}
		if j.Status == StatusCancelled {
			return nil
		}
		j.Status = status
		j.ChunksDeferred = 0
		j.PauseReason, j.PausedUntil = "", nil
		j.UpdatedAt = &now
		t.reestimate(ctx, j)
		return nil
	})
	if err != nil {
		return &StoreUnavailable{Op: "record submission of " + id, Err: err}
	}
	return nil
}

// recordLookupRun records the lookup execution (the seed's external_batch_id).
func (t *Tasks) recordLookupRun(ctx context.Context, id, execID string) error {
	_, err := t.Jobs.UpdateJob(ctx, id, func(j *Job) error {
		j.ExternalBatchID = execID
		return nil
	})
	if err != nil {
		return &StoreUnavailable{Op: "record lookup run of " + id, Err: err}
	}
	return nil
}

// runOf is the execution name at the end of an execution id: an ARN
// (...:execution:machine:NAME) or a local id (local/JOB/NAME).
func runOf(executionID string) string {
	i := strings.LastIndexAny(executionID, ":/")
	return executionID[i+1:]
}

// lookupRunName names a lookup execution uniquely per pipeline execution and start, within
// Step Functions' 80 characters, so a re-drive never collides with an earlier run's name.
func lookupRunName(j Job, polls int) string {
	sum := sha256.Sum256([]byte(j.ExecutionID))
	return fmt.Sprintf("%s-%s-%d", j.ID, hex.EncodeToString(sum[:4]), polls+1)
}

// pollWait is how long the pipeline waits before the next poll: the time the running lookup
// run still needs at its measured rate (see runLeft), at least PollMin. It is at most
// PollMax, or, for a run longer than MaxPolls/4 times PollMax, the run's length / (MaxPolls/4)
// with what is left reckoned at the configured rate: however large the file, one run is
// polled about MaxPolls/4 times at most, so only a job paused at the cap for very many days
// reaches MaxPolls (PollTimeout); and a run that stalls (an outage, throttled lookups) does
// not stretch the wait, since its measured rate would make what is left look endless.
func (t *Tasks) pollWait(ctx context.Context, j Job, in Step) int {
	left := t.runLeft(ctx, j, t.measuredPerMinute(j, in))
	longest := t.Settings.PollMax
	if t.Settings.MaxPolls >= 4 && longest > 0 && !in.RunStarted.IsZero() {
		run := t.now().Sub(in.RunStarted) + t.runLeft(ctx, j, 0)
		longest = max(longest, run/time.Duration(t.Settings.MaxPolls/4))
	}
	wait := max(left, t.Settings.PollMin)
	if longest > 0 {
		wait = min(wait, longest)
	}
	return max(int(wait.Seconds()), 1)
}

// measuredPerMinute is the calls a minute the current lookup run has made since it started
// (addresses bought times endpoints), or 0 before it has bought anything.
func (t *Tasks) measuredPerMinute(j Job, in Step) float64 {
	if in.RunStarted.IsZero() {
		return 0
	}
	elapsed := t.now().Sub(in.RunStarted)
	done := bought(j) - in.RunBase
	if elapsed <= 0 || done <= 0 {
		return 0
	}
	return float64(done) * float64(len(endpointsOf(j))) / elapsed.Minutes()
}

// runLeft is how long the lookup run should still take: the calls the job has left, no
// more than today's cap still pays for (the run stops there), at perMinute (the measured
// rate; the configured one when 0).
func (t *Tasks) runLeft(ctx context.Context, j Job, perMinute float64) time.Duration {
	calls := remainingCalls(j)
	if per := max(t.Settings.CostPerReportCents, 1); t.Settings.DailyCapCents > 0 {
		if usage, err := t.Budget.Usage(ctx, t.budgetDay(t.now())); err == nil {
			calls = min(calls, max(t.Settings.DailyCapCents-usage.ReservedCents-usage.SpentCents, 0)/per)
		}
	}
	return t.callTime(calls, perMinute)
}

// holdForWait makes the job's lease outlast a wait longer than PollMax (what every task
// holds it for).
func (t *Tasks) holdForWait(ctx context.Context, in Step) error {
	if wait := time.Duration(in.WaitSeconds) * time.Second; wait > t.Settings.PollMax {
		return t.holdJob(ctx, in.JobID, in.Driver, wait)
	}
	return nil
}

// Poll is checkBatchStatus: it reads the lookup workflow and the job's counters and says
// whether the pipeline should wait again, wait for the cap reset, or go on.
func (t *Tasks) Poll(ctx context.Context, in Step) (Step, error) {
	job, err := t.drivenJob(ctx, in)
	if err != nil {
		return in, err
	}
	in.Polls++
	if job.Status == StatusCancelled && !t.lookupRunning(ctx, job) {
		in.Lookup = LookupCancelled
		return in, t.endLookups(ctx, job.ID)
	}
	// The pipeline's history has room for so many polls; pollWait keeps one lookup run to
	// about a quarter of them, however long it is.
	if t.Settings.MaxPolls > 0 && in.Polls > t.Settings.MaxPolls {
		return in, &PollTimeout{JobID: job.ID, Polls: in.Polls - 1}
	}
	if job.ChunkCount == 0 { // every row was rejected or a duplicate: nothing to look up
		in.Lookup = LookupDone
		return in, t.recordPoll(ctx, job.ID, ExecSucceeded, StatusProcessing, &in)
	}
	status, cause, err := t.Launcher.LookupStatus(ctx, job.ExternalBatchID)
	if err != nil {
		return in, &StoreUnavailable{Op: "read lookup status of " + job.ID, Err: err}
	}
	if status == ExecRunning {
		in.Lookup = LookupRunning
		return in, t.recordPoll(ctx, job.ID, status, StatusProcessing, &in)
	}
	if status != ExecSucceeded {
		return in, &LookupFailed{JobID: job.ID, Cause: status + ": " + cause}
	}
	return t.afterLookup(ctx, in, job)
}

// afterLookup decides between done, paused and failed once a lookup run has finished: a
// planned chunk without a result and without a deferral marker failed; chunks deferred by
// the cap wait for the reset, chunks deferred by an ATTOM outage wait a growing while, and a
// cancelled job stops.
func (t *Tasks) afterLookup(ctx context.Context, in Step, job Job) (Step, error) {
	finished, err := t.finishedChunks(ctx, job.ID)
	if err != nil {
		return in, err
	}
	if len(finished) >= job.ChunkCount {
		in.Lookup = LookupDone
		return in, t.recordPoll(ctx, job.ID, ExecSucceeded, StatusProcessing, &in)
	}
	deferrals, failed, err := t.runOutcome(ctx, job, finished)
	if err != nil {
		return in, err
	}
	if failed > 0 {
		return in, &LookupFailed{JobID: job.ID, Cause: fmt.Sprintf("%d of %d chunks failed", failed, job.ChunkCount)}
	}
	if job.Status == StatusCancelled || deferrals.has(DeferredByCancel) {
		in.Lookup = LookupCancelled
		return in, t.endLookups(ctx, job.ID)
	}
	now := t.now()
	if deferrals.has(DeferredByOutage) {
		outages := job.OutagePauses + 1
		return t.pause(ctx, in, job, len(finished), DeferredByOutage, now.Add(t.outageWait(outages)), outages)
	}
	if reset := deferrals.capReset(t.Settings.CapDays()); reset.After(now) {
		return t.pause(ctx, in, job, len(finished), DeferredByCap, reset, 0)
	}
	if t.affordableChunks(ctx, job) == 0 { // the run spent the day's cap exactly
		return t.pause(ctx, in, job, len(finished), DeferredByCap, t.nextReset(now), 0)
	}
	// Nothing waits: the run planned fewer chunks than are left (the cap was not reached,
	// answers were reused, addresses were not found), or the day it was capped on is over.
	in.Lookup, in.WaitSeconds = LookupPaused, 1
	return in, nil
}

// pause records why and until when the job waits, and sets the pipeline's wait.
func (t *Tasks) pause(ctx context.Context, in Step, job Job, finished int, reason string, until time.Time, outages int) (Step, error) {
	now := t.now()
	in.Lookup = LookupPaused
	in.WaitSeconds = max(int(until.Sub(now).Seconds())+1, 1)
	// The day's leads are there already (each chunk saved its own); make the counts and the
	// export current, so the people working the list can start while the job waits.
	soFar, soFarErr := t.leadsSoFar(ctx, job)
	if soFarErr != nil {
		t.log().Warn("leads so far", "job_id", job.ID, "error", soFarErr)
	}
	changed := false
	updated, err := t.Jobs.UpdateJob(ctx, job.ID, func(j *Job) error {
		if j.Status == StatusCancelled {
			return nil
		}
		if soFarErr == nil {
			j.ProcessedRecords, j.LeadsCreated, j.LeadsUpdated = soFar.Processed, soFar.LeadsCreated, soFar.LeadsUpdated
		}
		// A new pause is news; the same pause recorded again (a retried poll) is not.
		changed = j.Status != StatusPaused || j.PauseReason != reason || j.PausedUntil == nil || !j.PausedUntil.Equal(until)
		j.Status = StatusPaused
		j.ChunksDeferred = job.ChunkCount - finished
		j.PauseReason, j.PausedUntil, j.OutagePauses = reason, &until, outages
		j.AttomStatus = fmt.Sprintf("paused (%s) until %s", reason, until.Format(time.RFC3339))
		j.LastChecked = &now
		j.ProgressPercent = progress(*j)
		t.reestimate(ctx, j)
		return nil
	})
	if err != nil {
		return in, &StoreUnavailable{Op: "record pause", Err: err}
	}
	if changed {
		t.notify(ctx, EventPaused, updated, reason+"|"+until.Format(time.RFC3339), reason, &until)
	}
	return in, t.holdJob(ctx, job.ID, in.Driver, time.Duration(in.WaitSeconds)*time.Second)
}

// outageWait grows with each outage pause in a row: ATTOM is retried for hours, not failed.
func (t *Tasks) outageWait(pauses int) time.Duration {
	wait := max(t.Settings.OutageWait, time.Second)
	for i := 1; i < pauses && wait < t.Settings.OutageWaitMax; i++ {
		wait *= 2
	}
	if t.Settings.OutageWaitMax > 0 {
		wait = min(wait, t.Settings.OutageWaitMax)
	}
	return wait
}

// endLookups records that no lookup of the job runs any more: none holds a reservation, and
// the spend is what the settlements say.
func (t *Tasks) endLookups(ctx context.Context, id string) error {
	spent, uncertain, err := t.settledCost(ctx, id)
	if err != nil {
		return err
	}
	_, err = t.Jobs.UpdateJob(ctx, id, func(j *Job) error {
		j.CostReservedCents = 0
		j.CostSpentCents, j.CostUncertainCents = spent, uncertain
		return nil
	})
	if err != nil {
		return &StoreUnavailable{Op: "record the end of lookups", Err: err}
	}
	return nil
}

// lookupRunning tells whether the job's last lookup run is still going (its calls in flight
// finish and settle before a cancelled job ends).
func (t *Tasks) lookupRunning(ctx context.Context, job Job) bool {
	if job.ExternalBatchID == "" {
		return false
	}
	status, _, err := t.Launcher.LookupStatus(ctx, job.ExternalBatchID)
	return err == nil && status == ExecRunning
}

func (t *Tasks) recordPoll(ctx context.Context, id, attomStatus, status string, in *Step) error {
	updated, err := t.Jobs.UpdateJob(ctx, id, func(j *Job) error {
		now := t.now()
		j.LastChecked = &now
		j.AttomStatus = attomStatus
		if j.Status != StatusCancelled {
			j.Status = status
		}
		j.ProgressPercent = progress(*j)
		if in.Lookup == LookupDone {
			j.ProgressPercent = 100
			j.OutagePauses, j.PauseReason, j.PausedUntil = 0, "", nil
		}
		t.reestimateAt(ctx, j, t.measuredPerMinute(*j, *in))
		return nil
	})
	if err != nil {
		return &StoreUnavailable{Op: "record poll", Err: err}
	}
	in.WaitSeconds = t.pollWait(ctx, updated, *in)
	if in.Lookup != LookupRunning {
		return nil
	}
	return t.holdForWait(ctx, *in)
}

// progress is the share of unique addresses whose lookup has finished.
func progress(j Job) int {
	if j.UniqueRecords == 0 {
		return 100
	}
	return min(100, j.LookedUpRecords*100/j.UniqueRecords)
}

// drivenJob reads the step's job after renewing its driver's lease (see holdJob). The lease
// covers the longest regular wait between polls.
func (t *Tasks) drivenJob(ctx context.Context, in Step) (Job, error) {
	if err := t.holdJob(ctx, in.JobID, in.Driver, t.Settings.PollMax); err != nil {
		return Job{}, err
	}
	return t.getJob(ctx, in.JobID)
}

func (t *Tasks) getJob(ctx context.Context, id string) (Job, error) {
	job, err := t.Jobs.GetJob(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return job, &JobNotFound{JobID: id}
	}
	if err != nil {
		return job, &StoreUnavailable{Op: "read job " + id, Err: err}
	}
	return job, nil
}
