package batch

import (
	"cmp"
	"context"
	"errors"
	"time"
)

// holdJob renews the job's lease for driver: every pipeline task calls it before it works,
// so a driver that another has taken over from stops at its next step (it never takes the
// lease back). A lease nobody holds (released when the job failed: a redrive) is taken.
// Tasks called without a driver (the CLI reading a job) skip it.
func (t *Tasks) holdJob(ctx context.Context, jobID, driver string, wait time.Duration) error {
	if driver == "" {
		return nil
	}
	l := t.jobLease(jobID, driver, wait)
	err := t.Leases.RenewLease(ctx, l)
	if errors.Is(err, ErrNotFound) {
		_, err = t.Leases.AcquireLease(ctx, l, l.Since)
	}
	return leaseErr(l.Name, err)
}

// takeJob starts driver's tenure on the job: it takes the lease if it is free, expired or
// already driver's (Prepare: a new upload, a re-drive, a dead driver's job).
func (t *Tasks) takeJob(ctx context.Context, jobID, driver string, wait time.Duration) error {
	l := t.jobLease(jobID, driver, wait)
	_, err := t.Leases.AcquireLease(ctx, l, l.Since)
	return leaseErr(l.Name, err)
}

func (t *Tasks) jobLease(jobID, driver string, wait time.Duration) Lease {
	now := t.now()
	expires := now.Add(t.leaseTTL())
	if t.Settings.LeaseCoversWaits {
		expires = expires.Add(wait)
	}
	return Lease{Name: JobLeaseName(jobID), Owner: driver, Holder: cmp.Or(t.Holder, driver), Since: now, Expires: expires}
}

func leaseErr(name string, err error) error {
	var held *LeaseHeld
	switch {
	case err == nil:
		return nil
	case errors.As(err, &held):
		return &LeaseLost{Name: name, Err: held}
	default:
		return &StoreUnavailable{Op: "renew job lease", Err: err}
	}
}

// checkDriver refuses a chunk of a run whose driver no longer holds the job: a re-driven or
// redelivered pipeline never looks a chunk up beside the live one.
func (t *Tasks) checkDriver(ctx context.Context, jobID, driver string) error {
	if driver == "" {
		return nil
	}
	lease, err := t.Leases.GetLease(ctx, JobLeaseName(jobID))
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return &StoreUnavailable{Op: "read job lease", Err: err}
	}
	if lease.Owner != driver && lease.Expires.After(t.now()) {
		return &LeaseLost{Name: lease.Name, Err: &LeaseHeld{Lease: lease}}
	}
	return nil
}

// releaseJob lets go of the job's lease when its driver is done with it (completed or
// failed), so a re-drive need not wait for the lease to expire.
func (t *Tasks) releaseJob(ctx context.Context, jobID, driver string) {
	if driver != "" {
		_ = t.Leases.ReleaseLease(context.WithoutCancel(ctx), JobLeaseName(jobID), driver)
	}
}
