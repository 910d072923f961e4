package storetest

import (
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

func testLeases(t *testing.T, h *harness) {
	t.Run("ExtendRenewsLease", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		run := f.enqueue(nil)
		held := f.claimRun(run, holderA, shortLease).Run

		before := time.Now()
		lost := f.extend(holderA, time.Hour, leaseOf(held))
		after := time.Now()
		checkIDs(t, "lost leases", lost)
		got := f.get(run.ID)
		checkTimeBetween(t, "LeaseExpiresAt after extending", got.LeaseExpiresAt, before.Add(time.Hour), after.Add(time.Hour))

		// The short lease of the claim would have run out by now.
		time.Sleep(2 * shortLease)
		if claimed := f.claim(holderB, 10, longLease); len(claimed) != 0 {
			t.Errorf("a run whose lease was extended was reclaimed: %v", claimedIDs(claimed))
		}
		if got := f.get(run.ID); got.LeaseHolder != holderA || got.Epoch != held.Epoch || got.Status != klaxontype.RunStatusRunning {
			t.Errorf("after extending, the run is %s held by %q at epoch %d; want running held by %q at %d",
				got.Status, got.LeaseHolder, got.Epoch, holderA, held.Epoch)
		}
		if err := f.checkpoint(held, holderA, 1, "fetch", `{}`); err != nil {
			t.Errorf("checkpoint under an extended lease: %v", err)
		}
	})

	t.Run("ExtendReportsLostLeases", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		kept := f.runIn(klaxontype.RunStatusRunning, nil)
		compensating := f.runIn(klaxontype.RunStatusCompensating, nil)

		// holderA released and claimed again: its old epoch is stale.
		restarted := f.runIn(klaxontype.RunStatusRunning, nil)
		if err := f.store.RunRelease(f.ctx, &store.RunReleaseParams{Lease: leaseOf(restarted), Holder: holderA}); err != nil {
			t.Fatalf("RunRelease: %v", err)
		}
		reclaimed := f.claimRun(restarted, holderA, longLease).Run

		// holderB holds this one; holderA never did.
		others := f.enqueue(nil)
		othersHeld := f.claimRun(others, holderB, longLease).Run
		finished := f.runIn(klaxontype.RunStatusCompleted, nil)
		dead := f.runIn(klaxontype.RunStatusDead, nil)

		before := time.Now()
		lost := f.extend(holderA, time.Hour,
			leaseOf(kept), leaseOf(compensating), leaseOf(restarted),
			store.Lease{RunID: others.ID, Epoch: othersHeld.Epoch},
			leaseOf(finished), leaseOf(dead),
			store.Lease{RunID: newRunID(), Epoch: 1})
		after := time.Now()
		if len(lost) != 5 {
			t.Errorf("LeasesExtend lost %v; want 5 leases", lost)
		}
		for _, id := range []string{kept.ID, compensating.ID} {
			for _, l := range lost {
				if l == id {
					t.Errorf("LeasesExtend reported the held run %s lost", id)
				}
			}
			checkTimeBetween(t, "extended LeaseExpiresAt", f.get(id).LeaseExpiresAt, before.Add(time.Hour), after.Add(time.Hour))
		}
		for _, id := range []string{restarted.ID, others.ID, finished.ID, dead.ID} {
			found := false
			for _, l := range lost {
				found = found || l == id
			}
			if !found {
				t.Errorf("LeasesExtend did not report run %s lost; lost %v", id, lost)
			}
		}
		// Extending under a stale epoch or another holder's name touches
		// nothing: the current holders keep their leases as they were.
		if got := f.get(restarted.ID); !got.LeaseExpiresAt.Equal(reclaimed.LeaseExpiresAt) || got.Epoch != reclaimed.Epoch {
			t.Errorf("a stale extend moved the lease of %s to %s at epoch %d; want %s at %d",
				restarted.ID, got.LeaseExpiresAt, got.Epoch, reclaimed.LeaseExpiresAt, reclaimed.Epoch)
		}
		if got := f.get(others.ID); !got.LeaseExpiresAt.Equal(othersHeld.LeaseExpiresAt) || got.LeaseHolder != holderB {
			t.Errorf("another holder's extend moved the lease of %s to %s held by %q; want %s held by %q",
				others.ID, got.LeaseExpiresAt, got.LeaseHolder, othersHeld.LeaseExpiresAt, holderB)
		}
		if got := f.get(finished.ID); got.Status != klaxontype.RunStatusCompleted || got.LeaseHolder != "" {
			t.Errorf("extending a completed run left it %s held by %q", got.Status, got.LeaseHolder)
		}
	})

	t.Run("ReleaseMakesRunClaimable", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		run := f.enqueue(nil)
		held := f.claimRun(run, holderA, longLease).Run
		f.mustCheckpoint(held, holderA, 1, "fetch", `{"pages": 3}`)
		if err := f.store.RunRelease(f.ctx, &store.RunReleaseParams{Lease: leaseOf(held), Holder: holderA}); err != nil {
			t.Fatalf("RunRelease: %v", err)
		}
		released := f.get(run.ID)
		if released.Status != klaxontype.RunStatusPending || released.LeaseHolder != "" {
			t.Errorf("released run is %s held by %q; want pending and held by nobody", released.Status, released.LeaseHolder)
		}

		// At once, without waiting for the lease the worker gave back.
		c := f.claimRun(run, holderB, longLease)
		if c.Reclaimed {
			t.Errorf("claim of a released run is Reclaimed; the lease was given back, not lost")
		}
		if c.Run.Attempt != held.Attempt || c.Run.Epoch <= held.Epoch {
			t.Errorf("after release and claim: attempt %d, epoch %d; want attempt %d still and an epoch above %d",
				c.Run.Attempt, c.Run.Epoch, held.Attempt, held.Epoch)
		}
		if c.Run.Retries != 0 {
			t.Errorf("a release counted %d retries", c.Run.Retries)
		}
		if len(c.Steps) != 1 || c.Steps[0].Name != "fetch" {
			t.Errorf("released run came back with steps %+v; want its fetch step", c.Steps)
		}
		if attempts := f.attempts(run.ID); len(attempts) != 0 {
			t.Errorf("a release recorded %d failed attempts; want none", len(attempts))
		}
		events := f.events(run.ID)
		checkEventOrder(t, "release", events, klaxontype.EventRunClaimed, klaxontype.EventStepCompleted,
			klaxontype.EventLeaseReleased, klaxontype.EventRunClaimed)
		checkEvent(t, "release", checkOneEvent(t, "release", events, klaxontype.EventLeaseReleased), klaxontype.Event{RunID: run.ID, Actor: holderA})
		if n := len(eventsOfType(events, klaxontype.EventLeaseReclaimed)); n != 0 {
			t.Errorf("a released run's claim wrote %d lease.reclaimed events", n)
		}
	})

	t.Run("ReleaseKeepsCompensating", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		run := f.runIn(klaxontype.RunStatusCompensating, nil)
		if err := f.store.RunRelease(f.ctx, &store.RunReleaseParams{Lease: leaseOf(run), Holder: holderA}); err != nil {
			t.Fatalf("RunRelease of a compensating run: %v", err)
		}
		if got := f.get(run.ID); got.Status != klaxontype.RunStatusCompensating || got.LeaseHolder != "" {
			t.Errorf("released compensating run is %s held by %q; want compensating and held by nobody", got.Status, got.LeaseHolder)
		}
		c := f.claimRun(run, holderB, longLease)
		if c.Run.Status != klaxontype.RunStatusCompensating || c.Run.LeaseHolder != holderB {
			t.Errorf("claimed compensating run is %s held by %q; want compensating held by %q", c.Run.Status, c.Run.LeaseHolder, holderB)
		}
		if c.Run.Attempt != run.Attempt || c.Run.Epoch <= run.Epoch || c.Reclaimed {
			t.Errorf("claimed compensating run: attempt %d, epoch %d, reclaimed %v; want attempt %d, an epoch above %d, not reclaimed",
				c.Run.Attempt, c.Run.Epoch, c.Reclaimed, run.Attempt, run.Epoch)
		}
		if c.Run.Failure == nil || *c.Run.Failure != *run.Failure {
			t.Errorf("claimed compensating run has failure %+v; want %+v", c.Run.Failure, run.Failure)
		}
		// Only the failure that started the compensation; the release lost
		// nothing.
		if attempts := f.attempts(run.ID); len(attempts) != 1 {
			t.Errorf("compensating run released and claimed has %d failed attempts; want 1", len(attempts))
		}
	})
}

// extend renews leases of holder and returns the lost run IDs.
func (f *fixture) extend(holder string, duration time.Duration, leases ...store.Lease) []string {
	f.t.Helper()
	lost, err := f.store.LeasesExtend(f.ctx, &store.LeasesExtendParams{Holder: holder, Leases: leases, Duration: duration})
	if err != nil {
		f.t.Fatalf("LeasesExtend by %s: %v", holder, err)
	}
	return lost
}
