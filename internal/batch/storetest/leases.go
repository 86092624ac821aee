package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/batch"
)

// RunLeases checks a LeaseStore: a free or expired name is taken, the owner renews keeping
// Since, another owner is refused with *batch.LeaseHeld while the lease is live, only the
// owner releases, and of concurrent acquirers exactly one wins.
func RunLeases(t *testing.T, newStore func(t *testing.T) batch.LeaseStore) {
	t.Run("AcquireFree", func(t *testing.T) { testAcquireFree(t, newStore(t)) })
	t.Run("RenewKeepsSince", func(t *testing.T) { testRenewKeepsSince(t, newStore(t)) })
	t.Run("RenewAfterExpiryKeepsSince", func(t *testing.T) { testRenewAfterExpiry(t, newStore(t)) })
	t.Run("HeldWhileLive", func(t *testing.T) { testLeaseHeld(t, newStore(t)) })
	t.Run("TakenOverAfterExpiry", func(t *testing.T) { testLeaseTakeover(t, newStore(t)) })
	t.Run("ReleaseOnlyByOwner", func(t *testing.T) { testReleaseLease(t, newStore(t)) })
	t.Run("GetMissing", func(t *testing.T) { testGetLeaseMissing(t, newStore(t)) })
	t.Run("ConcurrentAcquireOneWins", func(t *testing.T) { testConcurrentAcquire(t, newStore(t)) })
	t.Run("RenewOnlyWhatIsStillHeld", func(t *testing.T) { testRenewOnlyHeld(t, newStore(t)) })
}

// testRenewOnlyHeld: RenewLease extends its owner's lease (also expired, keeping Since), and
// tells a holder that lost it: *LeaseHeld after a takeover, ErrNotFound once released. It
// never takes a free or expired lease.
func testRenewOnlyHeld(t *testing.T, s batch.LeaseStore) {
	ctx := context.Background()
	name := uniq("lease")
	a := lease(name, "a", base)
	acquire(t, s, a, base)
	renewed := a
	renewed.Expires, renewed.Data, renewed.Since = base.Add(3*leaseTTL), `{"n":2}`, base.Add(time.Hour)
	if err := s.RenewLease(ctx, renewed); err != nil {
		t.Fatalf("RenewLease by its owner after expiry: %v", err)
	}
	got := getLease(t, s, name)
	if !got.Since.Equal(base) || !got.Expires.Equal(base.Add(3*leaseTTL)) || got.Data != `{"n":2}` {
		t.Fatalf("renewed lease %+v", got)
	}
	b := lease(name, "b", base.Add(4*leaseTTL))
	acquire(t, s, b, base.Add(4*leaseTTL))
	var held *batch.LeaseHeld
	if err := s.RenewLease(ctx, renewed); !errors.As(err, &held) || held.Lease.Owner != "b" {
		t.Fatalf("RenewLease after a takeover: %v, want *LeaseHeld naming b", err)
	}
	if err := s.ReleaseLease(ctx, name, "b"); err != nil {
		t.Fatal(err)
	}
	if err := s.RenewLease(ctx, renewed); !errors.Is(err, batch.ErrNotFound) {
		t.Fatalf("RenewLease of a released lease: %v, want ErrNotFound", err)
	}
	if _, err := s.GetLease(ctx, name); !errors.Is(err, batch.ErrNotFound) {
		t.Fatalf("RenewLease must not take a free lease: %v", err)
	}
}

// leaseTTL is how long the test leases last from their Since.
const leaseTTL = time.Minute

// lease is owner's lease on name taken at since; Holder and Data name the owner.
func lease(name, owner string, since time.Time) batch.Lease {
	return batch.Lease{
		Name: name, Owner: owner, Holder: "holder of " + owner, Since: since,
		Expires: since.Add(leaseTTL), Data: `{"owner":"` + owner + `"}`,
	}
}

func wantLease(l batch.Lease) batch.Lease {
	l.Since, l.Expires = utc(l.Since), utc(l.Expires)
	return l
}

// acquire acquires l at now and returns the lease it replaced; it fails the test on error.
func acquire(t *testing.T, s batch.LeaseStore, l batch.Lease, now time.Time) *batch.Lease {
	t.Helper()
	prev, err := s.AcquireLease(context.Background(), l, now)
	if err != nil {
		t.Fatalf("AcquireLease(%s by %s at %v): %v", l.Name, l.Owner, now, err)
	}
	if prev != nil {
		requireUTC(t, "previous lease", *prev)
	}
	return prev
}

func getLease(t *testing.T, s batch.LeaseStore, name string) batch.Lease {
	t.Helper()
	l, err := s.GetLease(context.Background(), name)
	if err != nil {
		t.Fatalf("GetLease(%s): %v", name, err)
	}
	requireUTC(t, "lease", l)
	return l
}

// requireHeld checks that err is *batch.LeaseHeld naming holder.
func requireHeld(t *testing.T, err error, holder batch.Lease) {
	t.Helper()
	var held *batch.LeaseHeld
	if !errors.As(err, &held) {
		t.Fatalf("AcquireLease of a live lease of another owner: %v, want *batch.LeaseHeld", err)
	}
	if d := diff(wantLease(holder), held.Lease); d != "" {
		t.Errorf("LeaseHeld names (-want +got):\n%s", d)
	}
	requireUTC(t, "held lease", held.Lease)
}

func testAcquireFree(t *testing.T, s batch.LeaseStore) {
	l := lease(uniq("job"), uniq("driver"), base)
	if prev := acquire(t, s, l, base); prev != nil {
		t.Errorf("acquiring a free name replaced %+v, want nil", *prev)
	}
	got := getLease(t, s, l.Name)
	if d := diff(wantLease(l), got); d != "" {
		t.Errorf("lease (-want +got):\n%s", d)
	}
	if got.Since.Nanosecond() != base.Nanosecond() {
		t.Errorf("Since %v lost its nanoseconds", got.Since)
	}
	bare := batch.Lease{Name: uniq("job"), Owner: uniq("driver"), Holder: "h", Since: base, Expires: base.Add(time.Second)}
	acquire(t, s, bare, base)
	if d := diff(wantLease(bare), getLease(t, s, bare.Name)); d != "" {
		t.Errorf("lease without Data (-want +got):\n%s", d)
	}
}

func testRenewKeepsSince(t *testing.T, s batch.LeaseStore) {
	first := lease(uniq("job"), uniq("driver"), base)
	acquire(t, s, first, base)

	now := base.Add(leaseTTL / 2)
	renewal := lease(first.Name, first.Owner, now) // a later Since, which must not win
	renewal.Holder, renewal.Data = "renewed holder", ""
	prev := acquire(t, s, renewal, now)
	if prev == nil {
		t.Fatal("a renewal returned no previous lease")
	}
	if d := diff(wantLease(first), *prev); d != "" {
		t.Errorf("previous lease of a renewal (-want +got):\n%s", d)
	}
	want := renewal
	want.Since = first.Since
	if d := diff(wantLease(want), getLease(t, s, first.Name)); d != "" {
		t.Errorf("renewed lease: Since kept, Expires, Holder and Data replaced (-want +got):\n%s", d)
	}

	renewal.Data = `{"reservation":42}`
	acquire(t, s, renewal, now.Add(time.Second))
	if got := getLease(t, s, first.Name); got.Data != renewal.Data || !got.Since.Equal(first.Since) {
		t.Errorf("second renewal: Data %q Since %v, want %q and %v", got.Data, got.Since, renewal.Data, first.Since)
	}
}

// testRenewAfterExpiry: an owner whose lease expired while nobody took it over still holds
// it, so acquiring again is a renewal.
func testRenewAfterExpiry(t *testing.T, s batch.LeaseStore) {
	first := lease(uniq("job"), uniq("driver"), base)
	acquire(t, s, first, base)
	late := base.Add(3 * leaseTTL)
	again := lease(first.Name, first.Owner, late)
	if prev := acquire(t, s, again, late); prev == nil || prev.Data != first.Data {
		t.Errorf("previous lease = %+v, want the expired one", prev)
	}
	if got := getLease(t, s, first.Name); !got.Since.Equal(first.Since) || !got.Expires.Equal(again.Expires) {
		t.Errorf("lease renewed after expiry: Since %v Expires %v, want %v and %v", got.Since, got.Expires, first.Since, again.Expires)
	}
}

func testLeaseHeld(t *testing.T, s batch.LeaseStore) {
	first := lease(uniq("job"), uniq("driver"), base)
	acquire(t, s, first, base)
	other := lease(first.Name, uniq("driver"), base)
	for _, now := range []time.Time{base, base.Add(leaseTTL - time.Nanosecond)} {
		_, err := s.AcquireLease(context.Background(), other, now)
		requireHeld(t, err, first)
	}
	if d := diff(wantLease(first), getLease(t, s, first.Name)); d != "" {
		t.Errorf("a refused acquire changed the lease (-want +got):\n%s", d)
	}
}

func testLeaseTakeover(t *testing.T, s batch.LeaseStore) {
	first := lease(uniq("job"), uniq("driver"), base)
	acquire(t, s, first, base)
	now := first.Expires // Expires <= now: expired
	next := lease(first.Name, uniq("driver"), now)
	prev := acquire(t, s, next, now)
	if prev == nil {
		t.Fatal("taking over an expired lease returned no previous lease")
	}
	if d := diff(wantLease(first), *prev); d != "" {
		t.Errorf("previous (expired) lease, with what its owner left in Data (-want +got):\n%s", d)
	}
	if d := diff(wantLease(next), getLease(t, s, first.Name)); d != "" {
		t.Errorf("lease after takeover: the new owner's, Since its own (-want +got):\n%s", d)
	}
	_, err := s.AcquireLease(context.Background(), lease(first.Name, first.Owner, now), now)
	requireHeld(t, err, next)
}

func testReleaseLease(t *testing.T, s batch.LeaseStore) {
	ctx := context.Background()
	l := lease(uniq("job"), uniq("driver"), base)
	acquire(t, s, l, base)
	if err := s.ReleaseLease(ctx, l.Name, uniq("driver")); err != nil {
		t.Fatalf("ReleaseLease by another owner: %v, want nil (it does nothing)", err)
	}
	if d := diff(wantLease(l), getLease(t, s, l.Name)); d != "" {
		t.Errorf("a release by another owner changed the lease (-want +got):\n%s", d)
	}
	if err := s.ReleaseLease(ctx, l.Name, l.Owner); err != nil {
		t.Fatalf("ReleaseLease by the owner: %v", err)
	}
	if _, err := s.GetLease(ctx, l.Name); !errors.Is(err, batch.ErrNotFound) {
		t.Errorf("GetLease after release: %v, want ErrNotFound", err)
	}
	if err := s.ReleaseLease(ctx, l.Name, l.Owner); err != nil {
		t.Errorf("ReleaseLease of a released lease: %v, want nil", err)
	}
	next := lease(l.Name, uniq("driver"), base) // live, but the name is free again
	if prev := acquire(t, s, next, base); prev != nil {
		t.Errorf("acquire after release replaced %+v, want nil", *prev)
	}
}

func testGetLeaseMissing(t *testing.T, s batch.LeaseStore) {
	if _, err := s.GetLease(context.Background(), uniq("absent")); !errors.Is(err, batch.ErrNotFound) {
		t.Errorf("GetLease of a missing lease: %v, want ErrNotFound", err)
	}
}

func testConcurrentAcquire(t *testing.T, s batch.LeaseStore) {
	const owners = 16
	name := uniq("job")
	var won atomic.Int32
	var winner atomic.Value
	runConcurrently(t, owners, func(i int) error {
		l := lease(name, fmt.Sprintf("driver-%02d", i), base)
		_, err := s.AcquireLease(context.Background(), l, base)
		var held *batch.LeaseHeld
		switch {
		case err == nil:
			won.Add(1)
			winner.Store(l.Owner)
			return nil
		case errors.As(err, &held):
			return nil
		}
		return err
	})
	if won.Load() != 1 {
		t.Fatalf("%d of %d concurrent acquires of a free name won, want exactly 1", won.Load(), owners)
	}
	if got := getLease(t, s, name); got.Owner != winner.Load() {
		t.Errorf("lease owner %q, want the one acquire that won, %q", got.Owner, winner.Load())
	}
}
