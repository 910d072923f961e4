package storetest

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// testBreakerTally checks that a workflow's breaker reads, from the store, the
// attempts that ended and the spend recorded in its windows by every worker,
// counted as a worker's own watch counts them, and nothing from before its
// last trip.
func testBreakerTally(t *testing.T, h *harness) {
	t.Run("CountsEveryWorkersAttemptsAndSpend", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		since := time.Now().Add(-time.Hour)
		paid := func(held *klaxontype.Run, holder string, seq int, usd float64, finished time.Time) {
			t.Helper()
			err := f.store.StepCheckpoint(f.ctx, &store.StepCheckpointParams{
				Lease: leaseOf(held), Holder: holder, Seq: seq, Name: "ask", Attempt: held.Attempt,
				IdempotencyKey: stepKey(held.ID, seq, "ask"), Output: []byte(`"answer"`),
				StartedAt: finished.Add(-time.Millisecond), FinishedAt: finished,
				Spend: klaxontype.Spend{Cost: klaxontype.KnownCost(usd), ModelCalls: 1},
			})
			if err != nil {
				t.Fatalf("StepCheckpoint with spend: %v", err)
			}
		}
		failWith := func(held *klaxontype.Run, holder string, usd float64, at time.Time, next klaxontype.RunStatus) {
			t.Helper()
			attempt := failedAttempt(held, holder)
			attempt.At, attempt.Spend = at, klaxontype.Spend{Cost: klaxontype.KnownCost(usd), ModelCalls: 1}
			params := &store.RunFailParams{Lease: leaseOf(held), Holder: holder, Attempt: attempt, Next: next, RetryAt: time.Now()}
			if next == klaxontype.RunStatusDead {
				params.Failure, params.DeadLetter = permanentFailure(), newDeadLetter()
			}
			if err := f.store.RunFail(f.ctx, params); err != nil {
				t.Fatalf("RunFail to %s: %v", next, err)
			}
		}

		// Worker A completes a run whose step spent $0.30.
		completed := f.claimRun(f.enqueue(nil), holderA, longLease).Run
		paid(completed, holderA, 1, 0.30, time.Now())
		if err := f.store.RunComplete(f.ctx, &store.RunCompleteParams{Lease: leaseOf(completed), Holder: holderA, Output: []byte(`1`)}); err != nil {
			t.Fatal(err)
		}
		// Worker B fails a run twice, $0.20 the first time, then it goes dead;
		// a failure from two hours ago, with its $5, is out of the window.
		failing := f.enqueue(nil)
		held := f.claimRun(failing, holderB, longLease).Run
		failWith(held, holderB, 5, time.Now().Add(-2*time.Hour), klaxontype.RunStatusRetrying)
		held = f.awaitClaim(failing, holderB).Run
		failWith(held, holderB, 0.20, time.Now(), klaxontype.RunStatusRetrying)
		held = f.awaitClaim(failing, holderB).Run
		failWith(held, holderB, 0, time.Now(), klaxontype.RunStatusDead)
		// A run whose first worker lost its lease, completed by the next: the
		// lost attempt is in the history but no worker saw it end.
		_, current := f.takeOver()
		if err := f.store.RunComplete(f.ctx, &store.RunCompleteParams{Lease: leaseOf(current), Holder: holderB, Output: []byte(`2`)}); err != nil {
			t.Fatal(err)
		}
		// A run still running spent $0.05 in a step that finished now, and $7
		// in one that finished two hours ago.
		running := f.claimRun(f.enqueue(nil), holderC, longLease).Run
		paid(running, holderC, 1, 7, time.Now().Add(-2*time.Hour))
		paid(running, holderC, 2, 0.05, time.Now())
		// Another workflow's failures and spend are its own.
		other := f.claimRun(f.enqueue(&store.RunEnqueueParams{Workflow: "other-workflow"}), holderA, longLease).Run
		paid(other, holderA, 1, 1, time.Now())
		failWith(other, holderA, 1, time.Now(), klaxontype.RunStatusDead)

		tally, err := f.store.BreakerTally(f.ctx, &store.BreakerTallyParams{Workflow: testWorkflow, AttemptsSince: since, SpendSince: since})
		if err != nil {
			t.Fatalf("BreakerTally: %v", err)
		}
		if tally.Attempts != 4 || tally.Failed != 2 || tally.Cost.Unknown || math.Abs(tally.Cost.USD-0.55) > 1e-9 {
			t.Fatalf("tally %+v; want 4 attempts (2 completed runs, 2 failures), 2 failed, $0.55", tally)
		}
		if tally, err := f.store.BreakerTally(f.ctx, &store.BreakerTallyParams{Workflow: testWorkflow, AttemptsSince: since}); err != nil ||
			tally.Attempts != 4 || tally.Cost != (klaxontype.Cost{}) {
			t.Fatalf("attempts only: %+v, %v; want the attempts and no spend", tally, err)
		}
		if tally, err := f.store.BreakerTally(f.ctx, &store.BreakerTallyParams{Workflow: testWorkflow, SpendSince: since}); err != nil ||
			tally.Attempts != 0 || math.Abs(tally.Cost.USD-0.55) > 1e-9 {
			t.Fatalf("spend only: %+v, %v; want the spend and no attempts", tally, err)
		}
		later := time.Now().Add(time.Minute)
		if tally, err := f.store.BreakerTally(f.ctx, &store.BreakerTallyParams{Workflow: testWorkflow, AttemptsSince: later, SpendSince: later}); err != nil ||
			tally.Attempts != 0 || tally.Cost.USD != 0 {
			t.Fatalf("since a minute from now: %+v, %v; want nothing", tally, err)
		}
	})
	t.Run("StartsAfreshWhenTheBreakerOpens", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		since := time.Now().Add(-time.Hour)
		before := f.runIn(klaxontype.RunStatusDead, nil)
		if _, err := f.store.BreakerTrip(f.ctx, &store.BreakerTripParams{
			Workflow: testWorkflow, Reason: "retry storm", Until: time.Now().Add(time.Hour), Actor: holderA, RunID: before.ID,
		}); err != nil {
			t.Fatal(err)
		}
		if err := f.store.BreakerReset(f.ctx, &store.BreakerResetParams{Workflow: testWorkflow, Actor: "ops"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond) // the store's clock moves on past the trip
		f.runIn(klaxontype.RunStatusCompleted, nil)
		tally, err := f.store.BreakerTally(f.ctx, &store.BreakerTallyParams{Workflow: testWorkflow, AttemptsSince: since, SpendSince: since})
		if err != nil || tally.Attempts != 1 || tally.Failed != 0 {
			t.Fatalf("after a trip and reset: %+v, %v; want only the completion after the trip", tally, err)
		}
	})
	t.Run("UnknownCostStaysUnknown", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		held := f.claimRun(f.enqueue(nil), holderA, longLease).Run
		attempt := failedAttempt(held, holderA)
		attempt.Spend = klaxontype.Spend{Cost: klaxontype.UnknownCost(), ModelCalls: 1}
		if err := f.store.RunFail(f.ctx, &store.RunFailParams{
			Lease: leaseOf(held), Holder: holderA, Attempt: attempt, Next: klaxontype.RunStatusRetrying, RetryAt: time.Now().Add(time.Hour),
		}); err != nil {
			t.Fatal(err)
		}
		tally, err := f.store.BreakerTally(f.ctx, &store.BreakerTallyParams{Workflow: testWorkflow, SpendSince: time.Now().Add(-time.Hour)})
		if err != nil || !tally.Cost.Unknown {
			t.Fatalf("tally %+v, %v; an unknown cost in the window must make the spend unknown", tally, err)
		}
	})
	t.Run("RefusesNoWorkflow", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		if _, err := f.store.BreakerTally(f.ctx, &store.BreakerTallyParams{AttemptsSince: time.Now()}); !errors.Is(err, klaxontype.ErrInvalid) {
			t.Fatalf("BreakerTally without a workflow: %v; want ErrInvalid", err)
		}
	})
}
