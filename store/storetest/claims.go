package storetest

import (
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

func testClaims(t *testing.T, h *harness) {
	t.Run("ClaimTakesPendingRun", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		run := f.enqueue(&store.RunEnqueueParams{Input: []byte(`{"document_id": 7}`)})

		before := time.Now()
		claimed := f.claim(holderA, 10, longLease)
		after := time.Now()
		if len(claimed) != 1 {
			t.Fatalf("RunsClaim returned %v; want run %s", claimedIDs(claimed), run.ID)
		}
		c := claimed[0]
		if c.Reclaimed {
			t.Errorf("a pending run's claim is Reclaimed; want a first claim")
		}
		if len(c.Steps) != 0 {
			t.Errorf("a new run's claim carries %d steps; want none", len(c.Steps))
		}
		for source, got := range map[string]*klaxontype.Run{"RunsClaim": c.Run, "RunGet": f.get(run.ID)} {
			what := source + " run"
			if got.ID != run.ID || got.Status != klaxontype.RunStatusRunning {
				t.Errorf("%s %s is %s; want %s running", what, got.ID, got.Status, run.ID)
			}
			if got.Epoch != 1 || got.Attempt != 1 {
				t.Errorf("%s: epoch %d, attempt %d; want 1 and 1", what, got.Epoch, got.Attempt)
			}
			if got.LeaseHolder != holderA {
				t.Errorf("%s lease holder %q; want %q", what, got.LeaseHolder, holderA)
			}
			checkTimeBetween(t, what+" LeaseExpiresAt", got.LeaseExpiresAt, before.Add(longLease), after.Add(longLease))
			checkTimeBetween(t, what+" StartedAt", got.StartedAt, before, after)
			checkJSON(t, what+" input", got.Input, []byte(`{"document_id": 7}`))
		}
		checkEventOrder(t, "claim", f.events(run.ID), klaxontype.EventRunEnqueued, klaxontype.EventRunClaimed)
		claimEvent := checkOneEvent(t, "claim", f.events(run.ID), klaxontype.EventRunClaimed)
		checkEvent(t, "claim", claimEvent, klaxontype.Event{RunID: run.ID, Actor: holderA})

		// A run held under a lease that has not run out is nobody else's.
		if again := f.claim(holderB, 10, longLease); len(again) != 0 {
			t.Errorf("a held run was claimed again: %v", claimedIDs(again))
		}
		if got := f.get(run.ID); got.LeaseHolder != holderA || got.Epoch != 1 {
			t.Errorf("after a second claim the run is held by %q at epoch %d; want %q at 1", got.LeaseHolder, got.Epoch, holderA)
		}
	})

	t.Run("ClaimOnlyListedWorkflows", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		summarize := f.enqueue(&store.RunEnqueueParams{Workflow: "summarize"})
		classify := f.enqueue(&store.RunEnqueueParams{Workflow: "classify"})
		translate := f.enqueue(&store.RunEnqueueParams{Workflow: "translate"})

		if claimed := f.claim(holderA, 10, longLease, "ocr"); len(claimed) != 0 {
			t.Errorf("a claim for workflow ocr took %v", claimedIDs(claimed))
		}
		claimed := f.claim(holderA, 10, longLease, "summarize", "translate")
		checkIDSet(t, "claim of summarize and translate", claimedIDs(claimed), summarize.ID, translate.ID)
		if got := f.get(classify.ID); got.Status != klaxontype.RunStatusPending || got.Epoch != 0 {
			t.Errorf("a run of an unlisted workflow is %s at epoch %d; want pending at 0", got.Status, got.Epoch)
		}
		for _, c := range claimed {
			if c.Run.Workflow != "summarize" && c.Run.Workflow != "translate" {
				t.Errorf("claimed run %s of workflow %s", c.Run.ID, c.Run.Workflow)
			}
		}
	})

	t.Run("ClaimOldestAvailableFirst", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		now := time.Now()
		ids := newRunIDs(4)
		// The order of availability is not the order of the IDs.
		for i, availableAt := range []time.Time{now.Add(-time.Second), now.Add(-3 * time.Second), now.Add(-2 * time.Second), now.Add(time.Hour)} {
			f.enqueue(&store.RunEnqueueParams{ID: ids[i], AvailableAt: availableAt})
		}

		checkIDSet(t, "first claim of 2", claimedIDs(f.claim(holderA, 2, longLease)), ids[1], ids[2])
		checkIDSet(t, "second claim of 2", claimedIDs(f.claim(holderA, 2, longLease)), ids[0])
		checkIDSet(t, "third claim of 2", claimedIDs(f.claim(holderA, 2, longLease)))
		if got := f.get(ids[3]); got.Status != klaxontype.RunStatusPending || got.Epoch != 0 || got.Attempt != 0 {
			t.Errorf("a run available in an hour is %s at epoch %d, attempt %d; want pending and unclaimed", got.Status, got.Epoch, got.Attempt)
		}
	})

	t.Run("ClaimRespectsLimit", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		ids := newRunIDs(5)
		for _, id := range ids {
			f.enqueue(&store.RunEnqueueParams{ID: id})
		}
		first := f.claim(holderA, 3, longLease)
		if len(first) != 3 {
			t.Fatalf("claim of 3 among 5 runs took %d", len(first))
		}
		second := f.claim(holderB, 3, longLease)
		checkIDSet(t, "both claims", append(claimedIDs(first), claimedIDs(second)...), ids...)
		for _, c := range second {
			if c.Run.LeaseHolder != holderB {
				t.Errorf("run %s claimed by %s is held by %q", c.Run.ID, holderB, c.Run.LeaseHolder)
			}
		}
	})

	t.Run("ClaimReturnsStepLog", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		withSteps := f.enqueue(nil)
		held := f.claimRun(withSteps, holderA, longLease).Run
		f.mustCheckpoint(held, holderA, 1, "fetch", `{"pages": 3}`)
		f.mustCheckpoint(held, holderA, 2, "summarize", `{"summary": "Revenue grew."}`)
		if err := f.store.RunRelease(f.ctx, &store.RunReleaseParams{Lease: leaseOf(held), Holder: holderA}); err != nil {
			t.Fatalf("RunRelease: %v", err)
		}
		without := f.enqueue(nil)

		claimed := f.claim(holderB, 2, longLease)
		checkIDSet(t, "claim", claimedIDs(claimed), withSteps.ID, without.ID)
		for _, c := range claimed {
			if c.Run.ID == without.ID {
				if len(c.Steps) != 0 {
					t.Errorf("run %s without steps was claimed with %d steps", c.Run.ID, len(c.Steps))
				}
				continue
			}
			if len(c.Steps) != 2 {
				t.Fatalf("run %s was claimed with %d steps; want 2", c.Run.ID, len(c.Steps))
			}
			for i, want := range []struct {
				name, output string
			}{{"fetch", `{"pages": 3}`}, {"summarize", `{"summary": "Revenue grew."}`}} {
				step := c.Steps[i]
				if step.RunID != withSteps.ID || step.Seq != i+1 || step.Name != want.name || step.Status != klaxontype.StepStatusCompleted {
					t.Errorf("claimed step %d: run %s seq %d %q %s; want run %s seq %d %q completed",
						i, step.RunID, step.Seq, step.Name, step.Status, withSteps.ID, i+1, want.name)
				}
				checkJSON(t, "claimed step output", step.Output, []byte(want.output))
				if step.IdempotencyKey != stepKey(withSteps.ID, i+1, want.name) || step.Epoch != 1 || step.Attempt != 1 {
					t.Errorf("claimed step %d: key %q epoch %d attempt %d; want the first attempt's", i+1, step.IdempotencyKey, step.Epoch, step.Attempt)
				}
			}
		}
	})

	t.Run("ReclaimExpiredLease", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		run := f.enqueue(nil)
		held := f.claimRun(run, holderA, shortLease).Run
		f.mustCheckpoint(held, holderA, 1, "fetch", `{"pages": 3}`)

		before := time.Now()
		c := f.awaitClaim(run, holderB)
		after := time.Now()
		if !c.Reclaimed {
			t.Errorf("claim of a run whose lease expired: Reclaimed false; want true")
		}
		if c.Run.Status != klaxontype.RunStatusRunning || c.Run.LeaseHolder != holderB {
			t.Errorf("reclaimed run is %s held by %q; want running held by %q", c.Run.Status, c.Run.LeaseHolder, holderB)
		}
		if c.Run.Epoch <= held.Epoch || c.Run.Attempt != 2 {
			t.Errorf("reclaimed run: epoch %d, attempt %d; want an epoch above %d and attempt 2", c.Run.Epoch, c.Run.Attempt, held.Epoch)
		}
		checkTimeBetween(t, "reclaimed LeaseExpiresAt", c.Run.LeaseExpiresAt, before.Add(longLease), after.Add(longLease))
		if len(c.Steps) != 1 || c.Steps[0].Name != "fetch" {
			t.Errorf("reclaimed run came with steps %+v; want the fetch step of the lost attempt", c.Steps)
		}

		// The lost attempt is in the history, so a dead run would show it.
		attempts := f.attempts(run.ID)
		if len(attempts) != 1 {
			t.Fatalf("attempt history after a reclaim: %d attempts; want the lost one", len(attempts))
		}
		lost := attempts[0]
		if lost.RunID != run.ID || lost.Attempt != 1 || lost.Worker != holderA || lost.ClassifiedBy != "lease" {
			t.Errorf("lost attempt: run %s attempt %d by %q classified by %q; want run %s attempt 1 by %q classified by lease",
				lost.RunID, lost.Attempt, lost.Worker, lost.ClassifiedBy, run.ID, holderA)
		}
		if !lost.Class.Valid() || lost.Message == "" {
			t.Errorf("lost attempt: class %q, message %q; want a failure class and a reason", lost.Class, lost.Message)
		}
		checkTimeBetween(t, "lost attempt time", lost.At, held.LeaseExpiresAt, after)

		events := f.events(run.ID)
		checkEventOrder(t, "reclaim", events, klaxontype.EventRunClaimed, klaxontype.EventStepCompleted, klaxontype.EventLeaseReclaimed)
		checkEvent(t, "reclaim", checkOneEvent(t, "reclaim", events, klaxontype.EventLeaseReclaimed), klaxontype.Event{RunID: run.ID, Actor: holderB})
	})

	t.Run("ReclaimBeforePendingRuns", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		expiring := f.enqueue(nil)
		f.claimRun(expiring, holderA, shortLease)
		// Available long before the lease runs out, and still second in line.
		waiting := f.enqueue(&store.RunEnqueueParams{AvailableAt: time.Now().Add(-time.Hour)})
		time.Sleep(2 * shortLease)

		first := f.claim(holderB, 1, longLease)
		checkIDs(t, "first claim of 1", claimedIDs(first), expiring.ID)
		if len(first) == 1 && !first[0].Reclaimed {
			t.Errorf("the expired run's claim is not Reclaimed")
		}
		second := f.claim(holderB, 1, longLease)
		checkIDs(t, "second claim of 1", claimedIDs(second), waiting.ID)
		if len(second) == 1 && second[0].Reclaimed {
			t.Errorf("the pending run's claim is Reclaimed")
		}
	})

	t.Run("ReclaimOnlyListedWorkflows", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		run := f.enqueue(&store.RunEnqueueParams{Workflow: "classify"})
		held := f.claimRun(run, holderA, shortLease).Run
		time.Sleep(2 * shortLease)
		if claimed := f.claim(holderB, 10, longLease, "summarize"); len(claimed) != 0 {
			t.Errorf("a claim for summarize reclaimed %v", claimedIDs(claimed))
		}
		if got := f.get(run.ID); got.Epoch != held.Epoch || got.LeaseHolder != holderA {
			t.Errorf("run is held by %q at epoch %d; want it left to %q at %d", got.LeaseHolder, got.Epoch, holderA, held.Epoch)
		}
		if attempts := f.attempts(run.ID); len(attempts) != 0 {
			t.Errorf("%d attempts recorded for a run nobody reclaimed", len(attempts))
		}
		f.awaitClaim(run, holderB)
	})
}
