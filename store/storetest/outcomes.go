package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

func testOutcomes(t *testing.T, h *harness) {
	t.Run("Complete", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		held := f.runIn(klaxontype.RunStatusRunning, nil)
		f.mustCheckpoint(held, holderA, 1, "fetch", `{"pages": 3}`)

		before := time.Now()
		err := f.store.RunComplete(f.ctx, &store.RunCompleteParams{
			Lease: leaseOf(held), Holder: holderA, Output: []byte(`{"summary": "Revenue grew 12%.", "tokens": 812}`),
		})
		after := time.Now()
		if err != nil {
			t.Fatalf("RunComplete: %v", err)
		}
		got := f.get(held.ID)
		if got.Status != klaxontype.RunStatusCompleted || got.LeaseHolder != "" || got.Failure != nil {
			t.Errorf("completed run is %s held by %q with failure %+v; want completed, held by nobody, no failure",
				got.Status, got.LeaseHolder, got.Failure)
		}
		checkJSON(t, "run output", got.Output, []byte(`{"summary": "Revenue grew 12%.", "tokens": 812}`))
		checkTimeBetween(t, "FinishedAt", got.FinishedAt, before, after)
		if got.Attempt != 1 || got.Retries != 0 {
			t.Errorf("completed run: attempt %d, retries %d; want 1 and 0", got.Attempt, got.Retries)
		}
		events := f.events(held.ID)
		checkEventOrder(t, "completion", events, klaxontype.EventRunClaimed, klaxontype.EventStepCompleted, klaxontype.EventRunCompleted)
		checkEvent(t, "completion", checkOneEvent(t, "completion", events, klaxontype.EventRunCompleted), klaxontype.Event{RunID: held.ID, Actor: holderA})

		// A completed run is done: nobody claims it, and its lease is gone.
		if claimed := f.claim(holderB, 10, longLease); len(claimed) != 0 {
			t.Errorf("a completed run was claimed: %v", claimedIDs(claimed))
		}
		checkIDs(t, "leases lost after completion", f.extend(holderA, time.Minute, leaseOf(held)), held.ID)

		// Completing it again is a write by a holder that no longer holds it.
		err = f.store.RunComplete(f.ctx, &store.RunCompleteParams{Lease: leaseOf(held), Holder: holderA, Output: []byte(`{"summary": "again"}`)})
		checkErrorIs(t, "second RunComplete", err, klaxontype.ErrLeaseLost)
		checkJSON(t, "run output after a second completion", f.get(held.ID).Output, []byte(`{"summary": "Revenue grew 12%.", "tokens": 812}`))
		if n := len(eventsOfType(f.events(held.ID), klaxontype.EventRunCompleted)); n != 1 {
			t.Errorf("%d run.completed events; want 1", n)
		}
		f.checkSuppressed("second completion", held.ID, holderA, 1)
	})

	t.Run("FailToRetrying", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		held := f.runIn(klaxontype.RunStatusRunning, nil)
		f.mustCheckpoint(held, holderA, 1, "fetch", `{"pages": 3}`)
		attempt := &klaxontype.Attempt{
			RunID: held.ID, Attempt: held.Attempt, At: time.Now().Add(-time.Second), Worker: holderA,
			Step: "summarize", StepSeq: 2, Class: klaxontype.ClassRateLimited,
			Message: "429 Too Many Requests", ClassifiedBy: "error", Duration: 1500 * time.Millisecond,
		}
		retryAt := time.Now().Add(time.Hour)
		err := f.store.RunFail(f.ctx, &store.RunFailParams{
			Lease: leaseOf(held), Holder: holderA, Attempt: attempt, Next: klaxontype.RunStatusRetrying, RetryAt: retryAt,
		})
		if err != nil {
			t.Fatalf("RunFail to retrying: %v", err)
		}
		got := f.get(held.ID)
		if got.Status != klaxontype.RunStatusRetrying || got.LeaseHolder != "" || got.Retries != 1 {
			t.Errorf("run is %s held by %q with %d retries; want retrying, held by nobody, 1 retry", got.Status, got.LeaseHolder, got.Retries)
		}
		checkTimeNear(t, "AvailableAt of the retry", got.AvailableAt, retryAt, precision)
		if !got.FinishedAt.IsZero() {
			t.Errorf("a retrying run has FinishedAt %s", got.FinishedAt)
		}
		attempts := f.attempts(held.ID)
		if len(attempts) != 1 {
			t.Fatalf("attempt history has %d attempts; want 1", len(attempts))
		}
		checkAttempt(t, attempts[0], attempt)

		events := f.events(held.ID)
		checkEventOrder(t, "retry", events, klaxontype.EventStepCompleted, klaxontype.EventStepFailed, klaxontype.EventRetryScheduled)
		failed := checkOneEvent(t, "retry", events, klaxontype.EventStepFailed)
		checkEvent(t, "retry", failed, klaxontype.Event{RunID: held.ID, Actor: holderA, Step: "summarize", StepSeq: 2})
		checkEvent(t, "retry", checkOneEvent(t, "retry", events, klaxontype.EventRetryScheduled), klaxontype.Event{RunID: held.ID, Actor: holderA})

		// Not before RetryAt: the backoff holds.
		if claimed := f.claim(holderB, 10, longLease); len(claimed) != 0 {
			t.Errorf("a run retrying in an hour was claimed: %v", claimedIDs(claimed))
		}
		checkIDs(t, "leases lost after scheduling a retry", f.extend(holderA, time.Minute, leaseOf(held)), held.ID)
	})

	t.Run("StepFailuresRecord", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		held := f.runIn(klaxontype.RunStatusRunning, nil)
		err := f.store.StepFailuresRecord(f.ctx, &store.StepFailuresRecordParams{
			Lease: leaseOf(held), Holder: holderA, Attempt: held.Attempt,
			Failures: []store.StepFailure{{Seq: 1, Name: "charge", Class: klaxontype.ClassPermanent, ClassifiedBy: "error", Message: "card declined"}},
		})
		if err != nil {
			t.Fatalf("StepFailuresRecord: %v", err)
		}
		failed := checkOneEvent(t, "handled step failure", f.events(held.ID), klaxontype.EventStepFailed)
		checkEvent(t, "handled step failure", failed, klaxontype.Event{RunID: held.ID, Actor: holderA, Step: "charge", StepSeq: 1})
		if !strings.Contains(failed.Message, "permanent") || !strings.Contains(failed.Message, "card declined") {
			t.Errorf("step.failed message %q does not carry the class and message", failed.Message)
		}
		if got := f.get(held.ID); got.Status != klaxontype.RunStatusRunning || got.LeaseHolder != holderA || len(f.attempts(held.ID)) != 0 {
			t.Errorf("recording a handled failure changed the run: %s held by %q", got.Status, got.LeaseHolder)
		}

		// A holder that lost the run records nothing.
		err = f.store.StepFailuresRecord(f.ctx, &store.StepFailuresRecordParams{
			Lease: store.Lease{RunID: held.ID, Epoch: held.Epoch - 1}, Holder: holderA, Attempt: held.Attempt,
			Failures: []store.StepFailure{{Seq: 2, Name: "ship", Class: klaxontype.ClassTransient, Message: "late"}},
		})
		checkErrorIs(t, "StepFailuresRecord with a stale epoch", err, klaxontype.ErrLeaseLost)
		if n := len(eventsOfType(f.events(held.ID), klaxontype.EventStepFailed)); n != 1 {
			t.Errorf("%d step.failed events after a stale holder's record; want 1", n)
		}
	})

	t.Run("RetryClaimedWhenDue", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		run := f.enqueue(nil)
		held := f.claimRun(run, holderA, longLease).Run
		f.mustCheckpoint(held, holderA, 1, "fetch", `{"pages": 3}`)
		err := f.store.RunFail(f.ctx, &store.RunFailParams{
			Lease: leaseOf(held), Holder: holderA, Attempt: failedAttempt(held, holderA),
			Next: klaxontype.RunStatusRetrying, RetryAt: time.Now().Add(30 * time.Millisecond),
		})
		if err != nil {
			t.Fatalf("RunFail to retrying: %v", err)
		}
		c := f.awaitClaim(run, holderB)
		if c.Run.Status != klaxontype.RunStatusRunning || c.Run.Attempt != 2 || c.Run.Epoch <= held.Epoch || c.Run.Retries != 1 {
			t.Errorf("retry claimed: %s, attempt %d, epoch %d, retries %d; want running, attempt 2, an epoch above %d, 1 retry",
				c.Run.Status, c.Run.Attempt, c.Run.Epoch, c.Run.Retries, held.Epoch)
		}
		if c.Reclaimed {
			t.Errorf("the claim of a due retry is Reclaimed")
		}
		if len(c.Steps) != 1 || c.Steps[0].Name != "fetch" {
			t.Errorf("retry claimed with steps %+v; want the first attempt's fetch", c.Steps)
		}
		if attempts := f.attempts(run.ID); len(attempts) != 1 {
			t.Errorf("attempt history has %d attempts; want the one failure", len(attempts))
		}
	})

	t.Run("FailToDead", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		held := f.runIn(klaxontype.RunStatusRunning, &store.RunEnqueueParams{Input: []byte(`{"document_id": 42}`)})
		attempt := &klaxontype.Attempt{
			RunID: held.ID, Attempt: held.Attempt, At: time.Now(), Worker: holderA,
			Step: "summarize", StepSeq: 1, Class: klaxontype.ClassPermanent,
			Message: "panic: nil map", ClassifiedBy: "panic", Duration: 20 * time.Millisecond,
			Stack: "goroutine 7 [running]:\nmain.summarize()\n\t/src/main.go:12 +0x1d",
		}
		failure := &klaxontype.RunFailure{Class: klaxontype.ClassPermanent, Reason: "panic: nil map", Step: "summarize", StepSeq: 1}
		before := time.Now()
		err := f.store.RunFail(f.ctx, &store.RunFailParams{
			Lease: leaseOf(held), Holder: holderA, Attempt: attempt, Next: klaxontype.RunStatusDead, Failure: failure,
			DeadLetter: newDeadLetter(),
		})
		after := time.Now()
		if err != nil {
			t.Fatalf("RunFail to dead: %v", err)
		}
		got := f.get(held.ID)
		if got.Status != klaxontype.RunStatusDead || got.LeaseHolder != "" {
			t.Errorf("run is %s held by %q; want dead, held by nobody", got.Status, got.LeaseHolder)
		}
		checkFailure(t, got.Failure, failure)
		checkTimeBetween(t, "FinishedAt", got.FinishedAt, before, after)
		checkJSON(t, "dead run's input", got.Input, []byte(`{"document_id": 42}`))
		attempts := f.attempts(held.ID)
		if len(attempts) != 1 {
			t.Fatalf("attempt history has %d attempts; want 1", len(attempts))
		}
		checkAttempt(t, attempts[0], attempt)
		events := f.events(held.ID)
		checkEventOrder(t, "dead-lettering", events, klaxontype.EventRunClaimed, klaxontype.EventStepFailed, klaxontype.EventRunDead)
		checkEvent(t, "dead-lettering", checkOneEvent(t, "dead-lettering", events, klaxontype.EventRunDead), klaxontype.Event{RunID: held.ID, Actor: holderA})
		if n := len(eventsOfType(events, klaxontype.EventRetryScheduled)); n != 0 {
			t.Errorf("a dead run has %d retry.scheduled events", n)
		}
		if claimed := f.claim(holderB, 10, longLease); len(claimed) != 0 {
			t.Errorf("a dead run was claimed: %v", claimedIDs(claimed))
		}
	})

	t.Run("FailRefusesOtherStatuses", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		held := f.runIn(klaxontype.RunStatusRunning, nil)
		for _, next := range []klaxontype.RunStatus{klaxontype.RunStatusCompleted, klaxontype.RunStatusPending, klaxontype.RunStatusRunning} {
			err := f.store.RunFail(f.ctx, &store.RunFailParams{
				Lease: leaseOf(held), Holder: holderA, Attempt: failedAttempt(held, holderA), Next: next, Failure: permanentFailure(),
			})
			if err == nil {
				t.Errorf("RunFail to %s succeeded; want it refused", next)
			}
		}
		checkRunUnchanged(t, "refused RunFail", f.get(held.ID), held)
		if attempts := f.attempts(held.ID); len(attempts) != 0 {
			t.Errorf("refused RunFail recorded %d attempts", len(attempts))
		}
	})
}

// checkAttempt compares a stored attempt with the one recorded.
func checkAttempt(t *testing.T, got, want *klaxontype.Attempt) {
	t.Helper()
	if got.RunID != want.RunID || got.Attempt != want.Attempt || got.Worker != want.Worker ||
		got.Step != want.Step || got.StepSeq != want.StepSeq || got.Class != want.Class ||
		got.Message != want.Message || got.ClassifiedBy != want.ClassifiedBy || got.Stack != want.Stack {
		t.Errorf("attempt:\n got  %+v\n want %+v", got, want)
	}
	if (got.Duration - want.Duration).Abs() > precision {
		t.Errorf("attempt duration %s; want %s", got.Duration, want.Duration)
	}
	checkTimeNear(t, "attempt time", got.At, want.At, precision)
}

// checkFailure compares a run's failure with the one recorded.
func checkFailure(t *testing.T, got, want *klaxontype.RunFailure) {
	t.Helper()
	if got == nil || *got != *want {
		t.Errorf("run failure %+v; want %+v", got, want)
	}
}
