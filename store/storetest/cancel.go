package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// testCancel checks that cancelling ends a run that has not ended at once,
// fences its holder off, keeps it from ever being claimed again, and refuses
// runs that have ended or are compensating without changing them.
func testCancel(t *testing.T, h *harness) {
	for _, status := range []klaxontype.RunStatus{klaxontype.RunStatusPending, klaxontype.RunStatusRetrying} {
		t.Run("Cancel"+strings.ToUpper(string(status[:1]))+string(status[1:]), func(t *testing.T) {
			t.Parallel()
			f := h.fixture(t)
			// A pending run is claimable now, so that a claim would take it.
			var run *klaxontype.Run
			if status == klaxontype.RunStatusPending {
				run = f.enqueue(nil)
			} else {
				run = f.runIn(status, nil)
			}
			cancelled := f.cancel(run, "carol", "the customer withdrew the document")
			if claimed := f.claim(holderB, 10, longLease); len(claimed) != 0 {
				t.Errorf("a cancelled run was claimed: %v", claimedIDs(claimed))
			}
			checkRunUnchanged(t, "claiming after the cancel", f.get(run.ID), cancelled)
		})
	}

	t.Run("CancelRunning", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		run := f.enqueue(nil)
		held := f.claimRun(run, holderA, shortLease).Run
		f.mustCheckpoint(held, holderA, 1, "fetch", `{"pages": 3}`)
		cancelled := f.cancel(held, "carol", "")
		if cancelled.Attempt != held.Attempt || cancelled.Epoch != held.Epoch {
			t.Errorf("cancelled run is at attempt %d, epoch %d; want %d, %d as held", cancelled.Attempt, cancelled.Epoch, held.Attempt, held.Epoch)
		}

		// Every write of the old holder is refused and recorded, and changes
		// nothing; its heartbeat reports the lease lost.
		lease := leaseOf(held)
		checkErrorIs(t, "checkpoint after the cancel", f.checkpoint(held, holderA, 2, "summarize", `"late"`), klaxontype.ErrLeaseLost)
		err := f.store.RunComplete(f.ctx, &store.RunCompleteParams{Lease: lease, Holder: holderA, Output: []byte(`{"ok": true}`)})
		checkErrorIs(t, "completion after the cancel", err, klaxontype.ErrLeaseLost)
		err = f.store.RunFail(f.ctx, &store.RunFailParams{
			Lease: lease, Holder: holderA, Attempt: failedAttempt(held, holderA),
			Next: klaxontype.RunStatusRetrying, RetryAt: time.Now(),
		})
		checkErrorIs(t, "retry after the cancel", err, klaxontype.ErrLeaseLost)
		err = f.store.RunFail(f.ctx, &store.RunFailParams{
			Lease: lease, Holder: holderA, Attempt: failedAttempt(held, holderA),
			Next: klaxontype.RunStatusDead, Failure: permanentFailure(), DeadLetter: newDeadLetter(),
		})
		checkErrorIs(t, "dead-lettering after the cancel", err, klaxontype.ErrLeaseLost)
		err = f.store.RunRelease(f.ctx, &store.RunReleaseParams{Lease: lease, Holder: holderA})
		checkErrorIs(t, "release after the cancel", err, klaxontype.ErrLeaseLost)
		checkIDs(t, "leases lost after the cancel", f.extend(holderA, longLease, lease), run.ID)
		f.checkSuppressed("writes after the cancel", run.ID, holderA, 5)
		checkRunUnchanged(t, "writes after the cancel", f.get(run.ID), cancelled)
		if steps := f.steps(run.ID); len(steps) != 1 || steps[0].Name != "fetch" {
			t.Errorf("step log after the cancel has %d steps; want fetch only", len(steps))
		}
		if attempts := f.attempts(run.ID); len(attempts) != 0 {
			t.Errorf("a cancelled run has %d failed attempts; want none", len(attempts))
		}
		if entries, err := f.store.DLQList(f.ctx, &store.DLQListParams{}); err != nil || len(entries) != 0 {
			t.Errorf("DLQList after the cancel: %d entries, error %v; want none", len(entries), err)
		}

		// Its lease runs out, and still no claim takes it over.
		time.Sleep(3 * shortLease)
		if claimed := f.claim(holderB, 10, longLease); len(claimed) != 0 {
			t.Errorf("a cancelled run was reclaimed: %v", claimedIDs(claimed))
		}
		checkRunUnchanged(t, "claiming after the cancel", f.get(run.ID), cancelled)
	})

	t.Run("CancelRefused", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		refused := []klaxontype.RunStatus{klaxontype.RunStatusCompleted, klaxontype.RunStatusDead, klaxontype.RunStatusCompensating}
		runs := make([]*klaxontype.Run, 0, len(refused)+1)
		for _, status := range refused {
			runs = append(runs, f.runIn(status, nil))
		}
		runs = append(runs, f.cancel(f.runIn(klaxontype.RunStatusPending, nil), "carol", "first"))
		for _, before := range runs {
			what := "cancelling a " + string(before.Status) + " run"
			events := len(f.events(before.ID))
			_, err := f.store.RunCancel(f.ctx, &store.RunCancelParams{ID: before.ID, Reason: "again", Actor: "dave"})
			checkErrorIs(t, what, err, klaxontype.ErrRunNotCancellable)
			if err != nil && !strings.Contains(err.Error(), string(before.Status)) {
				t.Errorf("%s: error %q does not name the status", what, err)
			}
			checkRunUnchanged(t, what, f.get(before.ID), before)
			if after := len(f.events(before.ID)); after != events {
				t.Errorf("%s: the event log grew from %d to %d events", what, events, after)
			}
		}
	})

	// The run.cancelled event carries the run's completion record, built by
	// the store from the step log, the attempt history and the workflow's
	// registered manifest: a person cancels from a process that may not have
	// the workflow's code.
	t.Run("CancelRecord", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		f.registerManifest(testWorkflow, "a", "b", "c")
		run := f.enqueue(nil)
		first := f.claimRun(run, holderA, longLease).Run
		failed := &klaxontype.Attempt{
			RunID: run.ID, Attempt: first.Attempt, At: time.Now(), Worker: holderA, Step: "a", StepSeq: 1,
			Class: klaxontype.ClassTransient, Message: "connection reset by peer", ClassifiedBy: "network",
			Duration: 40 * time.Millisecond, Spend: cancelSpend(100, 0.5),
		}
		f.fail(first, klaxontype.RunStatusRetrying, failed)
		second := f.awaitClaim(run, holderB).Run
		for seq, name := range []string{"a", "b"} {
			err := f.store.StepCheckpoint(f.ctx, &store.StepCheckpointParams{
				Lease: leaseOf(second), Holder: holderB, Seq: seq + 1, Name: name, Attempt: second.Attempt,
				IdempotencyKey: stepKey(run.ID, seq+1, name), Output: []byte(`"done"`),
				StartedAt: time.Now().Add(-time.Millisecond), FinishedAt: time.Now(), Spend: cancelSpend(int64(1000*(seq+1)), 0.25),
			})
			if err != nil {
				t.Fatalf("StepCheckpoint %s: %v", name, err)
			}
		}
		cancelled := f.cancel(second, "carol", "the customer withdrew the document")
		f.checkCancelRecord(cancelled, &klaxontype.CompletionRecord{
			Status: klaxontype.RunStatusCancelled, FailureClass: klaxontype.ClassCancelled,
			Manifest: klaxontype.StepManifest{Expected: []string{"a", "b", "c"}, Executed: []string{"a", "b"}, Missing: []string{"c"}},
			Steps: []klaxontype.StepAttempts{
				{Seq: 1, Step: "a", Attempts: 2, Completed: true},
				{Seq: 2, Step: "b", Attempts: 1, Completed: true},
			},
			Attempts: 2, Retries: 1,
			Spend: cancelSpend(100, 0.5).Add(cancelSpend(1000, 0.25)).Add(cancelSpend(2000, 0.25)),
		})
	})

	t.Run("CancelRecordNeverClaimed", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		f.registerManifest(testWorkflow, "a", "b", "c")
		cancelled := f.cancel(f.runIn(klaxontype.RunStatusPending, nil), "carol", "")
		f.checkCancelRecord(cancelled, &klaxontype.CompletionRecord{
			Status: klaxontype.RunStatusCancelled, FailureClass: klaxontype.ClassCancelled,
			Manifest: klaxontype.StepManifest{Expected: []string{"a", "b", "c"}, Executed: []string{}, Missing: []string{"a", "b", "c"}},
			Steps:    []klaxontype.StepAttempts{},
		})
	})

	// A workflow no worker registered expects no steps; the failed attempt
	// still counts against the step it failed in.
	t.Run("CancelRecordUnregistered", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		cancelled := f.cancel(f.runIn(klaxontype.RunStatusRetrying, nil), "carol", "")
		f.checkCancelRecord(cancelled, &klaxontype.CompletionRecord{
			Status: klaxontype.RunStatusCancelled, FailureClass: klaxontype.ClassCancelled,
			Manifest: klaxontype.StepManifest{Expected: []string{}, Executed: []string{}, Missing: []string{}},
			Steps:    []klaxontype.StepAttempts{{Seq: 1, Step: "fetch", Attempts: 1}},
			Attempts: 1, Retries: 1,
		})
	})

	t.Run("CancelBadRequests", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		_, err := f.store.RunCancel(f.ctx, &store.RunCancelParams{ID: newRunID(), Actor: "carol"})
		checkErrorIs(t, "RunCancel of an unknown run", err, klaxontype.ErrNotFound)

		_, err = f.store.RunCancel(f.ctx, &store.RunCancelParams{Actor: "carol"})
		checkErrorIs(t, "RunCancel without a run ID", err, klaxontype.ErrInvalid)

		run := f.runIn(klaxontype.RunStatusPending, nil)
		_, err = f.store.RunCancel(f.ctx, &store.RunCancelParams{ID: run.ID, Reason: "no one asked"})
		checkErrorIs(t, "RunCancel without an actor", err, klaxontype.ErrInvalid)
		checkRunUnchanged(t, "RunCancel without an actor", f.get(run.ID), run)
	})
}

// cancel cancels a run that the store must cancel, and checks the cancelled
// run and its run.cancelled event.
func (f *fixture) cancel(run *klaxontype.Run, actor, reason string) *klaxontype.Run {
	f.t.Helper()
	before := time.Now()
	cancelled, err := f.store.RunCancel(f.ctx, &store.RunCancelParams{ID: run.ID, Reason: reason, Actor: actor})
	after := time.Now()
	if err != nil {
		f.t.Fatalf("RunCancel %s: %v", run.ID, err)
	}
	if cancelled == nil || cancelled.ID != run.ID {
		f.t.Fatalf("RunCancel %s returned %+v; want the run", run.ID, cancelled)
	}
	checkRunUnchanged(f.t, "RunGet after RunCancel", f.get(run.ID), cancelled)
	if cancelled.Status != klaxontype.RunStatusCancelled || cancelled.LeaseHolder != "" || !cancelled.LeaseExpiresAt.IsZero() {
		f.t.Errorf("cancelled run is %s held by %q until %v; want cancelled, not held", cancelled.Status, cancelled.LeaseHolder, cancelled.LeaseExpiresAt)
	}
	checkTimeBetween(f.t, "cancelled run's FinishedAt", cancelled.FinishedAt, before, after)
	if failure := cancelled.Failure; failure == nil || failure.Class != klaxontype.ClassCancelled ||
		!strings.Contains(failure.Reason, actor) || !strings.Contains(failure.Reason, reason) {
		f.t.Errorf("cancelled run's failure %+v; want class cancelled naming %q and %q", failure, actor, reason)
	}
	event := checkOneEvent(f.t, "cancel", f.events(run.ID), klaxontype.EventRunCancelled)
	checkEvent(f.t, "cancel", event, klaxontype.Event{RunID: run.ID, Actor: actor})
	if event != nil && (!strings.Contains(event.Message, string(run.Status)) || !strings.Contains(event.Message, reason)) {
		f.t.Errorf("run.cancelled message %q; want the status it was cancelled in (%s) and the reason %q", event.Message, run.Status, reason)
	}
	return cancelled
}

// registerManifest registers a workflow that expects the steps.
func (f *fixture) registerManifest(workflow string, steps ...string) {
	f.t.Helper()
	err := f.store.WorkflowRegister(f.ctx, &store.WorkflowRegisterParams{Name: workflow, Version: 1, ExpectedSteps: steps})
	if err != nil {
		f.t.Fatalf("WorkflowRegister %s: %v", workflow, err)
	}
}

// checkCancelRecord checks the completion record on a cancelled run's
// run.cancelled event: want, with the run's wait from enqueue to cancel as
// its duration.
func (f *fixture) checkCancelRecord(cancelled *klaxontype.Run, want *klaxontype.CompletionRecord) {
	f.t.Helper()
	event := checkOneEvent(f.t, "cancel", f.events(cancelled.ID), klaxontype.EventRunCancelled)
	if event == nil {
		return
	}
	if event.Record == nil {
		f.t.Fatal("the run.cancelled event carries no completion record")
	}
	if event.Record.Duration <= 0 {
		f.t.Errorf("cancelled run's record has duration %v; want the positive wait from enqueue to cancel", event.Record.Duration)
	}
	want.Duration = cancelled.FinishedAt.Sub(cancelled.CreatedAt)
	if want.Spend != cancelled.Spend {
		f.t.Errorf("cancelled run's totals %+v; want %+v", cancelled.Spend, want.Spend)
	}
	checkRecord(f.t, "run.cancelled", event, want)
}

// cancelSpend is the spend of model calls at a known cost.
func cancelSpend(tokens int64, usd float64) klaxontype.Spend {
	return klaxontype.Spend{
		Usage: klaxontype.TokenUsage{InputTokens: tokens, OutputTokens: tokens / 10}, Cost: klaxontype.KnownCost(usd), ModelCalls: 1,
	}
}
