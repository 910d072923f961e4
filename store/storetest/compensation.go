package storetest

import (
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

func testCompensation(t *testing.T, h *harness) {
	t.Run("CompensateThenDeadLetter", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		held := f.runIn(klaxontype.RunStatusRunning, nil)
		f.mustCheckpoint(held, holderA, 1, "reserve_stock", `{"reservation": "r-1"}`)
		f.mustCheckpoint(held, holderA, 2, "charge_card", `{"charge": "ch-9"}`)
		f.mustCheckpoint(held, holderA, 3, "notify", `{"sent": true}`)

		attempt := &klaxontype.Attempt{
			RunID: held.ID, Attempt: held.Attempt, At: time.Now(), Worker: holderA, Step: "ship", StepSeq: 4,
			Class: klaxontype.ClassPermanent, Message: "address rejected by carrier", ClassifiedBy: "error", Duration: time.Second,
		}
		failure := &klaxontype.RunFailure{Class: klaxontype.ClassPermanent, Reason: "address rejected by carrier", Step: "ship", StepSeq: 4}
		err := f.store.RunFail(f.ctx, &store.RunFailParams{
			Lease: leaseOf(held), Holder: holderA, Attempt: attempt, Next: klaxontype.RunStatusCompensating, Failure: failure,
		})
		if err != nil {
			t.Fatalf("RunFail to compensating: %v", err)
		}
		compensating := f.get(held.ID)
		// The worker keeps the run to undo its steps.
		if compensating.Status != klaxontype.RunStatusCompensating || compensating.LeaseHolder != holderA || compensating.Epoch != held.Epoch {
			t.Errorf("run is %s held by %q at epoch %d; want compensating, still held by %q at %d",
				compensating.Status, compensating.LeaseHolder, compensating.Epoch, holderA, held.Epoch)
		}
		checkFailure(t, compensating.Failure, failure)
		if !compensating.FinishedAt.IsZero() {
			t.Errorf("a compensating run has FinishedAt %s; it has not ended", compensating.FinishedAt)
		}
		checkIDs(t, "leases lost while compensating", f.extend(holderA, longLease, leaseOf(held)))
		if claimed := f.claim(holderB, 10, longLease); len(claimed) != 0 {
			t.Errorf("a compensating run under a live lease was claimed: %v", claimedIDs(claimed))
		}

		// Compensations run in reverse order; the card refund works, the stock
		// release does not.
		refundedAt := time.Now().Add(-50 * time.Millisecond)
		f.compensate(held, 2, "", refundedAt)
		failedAt := time.Now()
		f.compensate(held, 1, "inventory service: 503", failedAt)

		steps := f.steps(held.ID)
		if len(steps) != 3 {
			t.Fatalf("step log has %d steps; want 3", len(steps))
		}
		if s := steps[1]; s.Status != klaxontype.StepStatusCompensated || s.CompensationError != "" {
			t.Errorf("refunded step is %s with error %q; want compensated", s.Status, s.CompensationError)
		} else {
			checkTimeNear(t, "refund CompensatedAt", s.CompensatedAt, refundedAt, precision)
		}
		if s := steps[0]; s.Status != klaxontype.StepStatusCompensationFailed || s.CompensationError != "inventory service: 503" {
			t.Errorf("step whose compensation failed is %s with error %q; want compensation_failed with the error", s.Status, s.CompensationError)
		} else {
			checkTimeNear(t, "failed compensation CompensatedAt", s.CompensatedAt, failedAt, precision)
		}
		if s := steps[2]; s.Status != klaxontype.StepStatusCompleted || !s.CompensatedAt.IsZero() {
			t.Errorf("a step without compensation is %s, compensated at %s; want completed", s.Status, s.CompensatedAt)
		}
		for i, output := range []string{`{"reservation": "r-1"}`, `{"charge": "ch-9"}`, `{"sent": true}`} {
			checkJSON(t, "output of a compensated run's step", steps[i].Output, []byte(output))
		}

		// Each compensation is recorded at most once: a retry of it, even one
		// that now succeeds, keeps the first outcome.
		err = f.store.StepCompensate(f.ctx, &store.StepCompensateParams{Lease: leaseOf(held), Holder: holderA, Seq: 1, At: time.Now()})
		checkErrorIs(t, "second StepCompensate", err, klaxontype.ErrStepExists)
		err = f.store.StepCompensate(f.ctx, &store.StepCompensateParams{Lease: leaseOf(held), Holder: holderA, Seq: 2, Error: "late failure", At: time.Now()})
		checkErrorIs(t, "second StepCompensate", err, klaxontype.ErrStepExists)
		steps = f.steps(held.ID)
		if steps[0].Status != klaxontype.StepStatusCompensationFailed || steps[0].CompensationError != "inventory service: 503" {
			t.Errorf("after a second compensation step 1 is %s with error %q; want the first outcome", steps[0].Status, steps[0].CompensationError)
		}
		if steps[1].Status != klaxontype.StepStatusCompensated || steps[1].CompensationError != "" {
			t.Errorf("after a second compensation step 2 is %s with error %q; want the first outcome", steps[1].Status, steps[1].CompensationError)
		}

		// Then the run goes dead, its failure already recorded.
		deadFailure := &klaxontype.RunFailure{
			Class: klaxontype.ClassCompensationFailed, Reason: `step 1 "reserve_stock": inventory service: 503 (after permanent: address rejected by carrier)`,
			Step: "ship", StepSeq: 4,
		}
		before := time.Now()
		err = f.store.RunFail(f.ctx, &store.RunFailParams{Lease: leaseOf(held), Holder: holderA, Next: klaxontype.RunStatusDead, Failure: deadFailure, DeadLetter: newDeadLetter()})
		after := time.Now()
		if err != nil {
			t.Fatalf("RunFail from compensating to dead: %v", err)
		}
		dead := f.get(held.ID)
		if dead.Status != klaxontype.RunStatusDead || dead.LeaseHolder != "" {
			t.Errorf("run is %s held by %q; want dead, held by nobody", dead.Status, dead.LeaseHolder)
		}
		checkFailure(t, dead.Failure, deadFailure)
		checkTimeBetween(t, "FinishedAt", dead.FinishedAt, before, after)
		attempts := f.attempts(held.ID)
		if len(attempts) != 1 {
			t.Fatalf("attempt history has %d attempts; want the one that started the compensation", len(attempts))
		}
		checkAttempt(t, attempts[0], attempt)

		events := f.events(held.ID)
		checkEventOrder(t, "compensation", events,
			klaxontype.EventStepCompleted, klaxontype.EventStepFailed, klaxontype.EventRunCompensating,
			klaxontype.EventCompensationCompleted, klaxontype.EventCompensationFailed, klaxontype.EventRunDead)
		checkEvent(t, "compensation", checkOneEvent(t, "compensation", events, klaxontype.EventCompensationCompleted),
			klaxontype.Event{RunID: held.ID, Actor: holderA, Step: "charge_card", StepSeq: 2})
		checkEvent(t, "compensation", checkOneEvent(t, "compensation", events, klaxontype.EventCompensationFailed),
			klaxontype.Event{RunID: held.ID, Actor: holderA, Step: "reserve_stock", StepSeq: 1})
		checkOneEvent(t, "compensation", events, klaxontype.EventStepFailed)
		checkOneEvent(t, "compensation", events, klaxontype.EventRunCompensating)
		checkOneEvent(t, "compensation", events, klaxontype.EventRunDead)

		if claimed := f.claim(holderB, 10, longLease); len(claimed) != 0 {
			t.Errorf("a dead run was claimed: %v", claimedIDs(claimed))
		}
	})

	t.Run("CompensationOutlivesLostLease", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		// holderA dies while compensating; holderB takes the run over and
		// finds the compensation holderA recorded.
		run := f.enqueue(nil)
		held := f.claimRun(run, holderA, shortLease).Run
		f.mustCheckpoint(held, holderA, 1, "reserve_stock", `{}`)
		f.mustCheckpoint(held, holderA, 2, "charge_card", `{}`)
		err := f.store.RunFail(f.ctx, &store.RunFailParams{
			Lease: leaseOf(held), Holder: holderA, Attempt: failedAttempt(held, holderA),
			Next: klaxontype.RunStatusCompensating, Failure: permanentFailure(),
		})
		if err != nil {
			t.Fatalf("RunFail to compensating: %v", err)
		}
		f.compensate(held, 2, "", time.Now())

		c := f.awaitClaim(run, holderB)
		if c.Run.Status != klaxontype.RunStatusCompensating || !c.Reclaimed || c.Run.Epoch <= held.Epoch {
			t.Errorf("reclaimed run is %s, reclaimed %v, epoch %d; want compensating, reclaimed, epoch above %d",
				c.Run.Status, c.Reclaimed, c.Run.Epoch, held.Epoch)
		}
		checkFailure(t, c.Run.Failure, permanentFailure())
		if len(c.Steps) != 2 || c.Steps[1].Status != klaxontype.StepStatusCompensated || c.Steps[0].Status != klaxontype.StepStatusCompleted {
			t.Errorf("reclaimed compensating run came with steps %+v; want step 2 compensated, step 1 completed", c.Steps)
		}
		err = f.store.StepCompensate(f.ctx, &store.StepCompensateParams{Lease: leaseOf(c.Run), Holder: holderB, Seq: 2, At: time.Now()})
		checkErrorIs(t, "compensating step 2 again after the takeover", err, klaxontype.ErrStepExists)
		f.compensate(c.Run, 1, "", time.Now())
		err = f.store.RunFail(f.ctx, &store.RunFailParams{Lease: leaseOf(c.Run), Holder: holderB, Next: klaxontype.RunStatusDead, Failure: permanentFailure(), DeadLetter: newDeadLetter()})
		if err != nil {
			t.Fatalf("RunFail to dead after the takeover: %v", err)
		}
		if got := f.get(run.ID); got.Status != klaxontype.RunStatusDead {
			t.Errorf("run is %s; want dead", got.Status)
		}
		// The failure that started the compensation and the lost lease.
		if attempts := f.attempts(run.ID); len(attempts) != 2 {
			t.Errorf("attempt history has %d attempts; want 2", len(attempts))
		} else if attempts[1].ClassifiedBy != "lease" || attempts[1].Worker != holderA {
			t.Errorf("second attempt %+v; want holderA's lost lease", attempts[1])
		}
	})
}

// compensate records the outcome of a step's compensation, which the store
// must accept.
func (f *fixture) compensate(held *klaxontype.Run, seq int, compensationError string, at time.Time) {
	f.t.Helper()
	err := f.store.StepCompensate(f.ctx, &store.StepCompensateParams{
		Lease: leaseOf(held), Holder: held.LeaseHolder, Seq: seq, Error: compensationError, At: at,
	})
	if err != nil {
		f.t.Fatalf("StepCompensate %d of run %s: %v", seq, held.ID, err)
	}
}
