package storetest

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// testWaits checks durable waits: a run going waiting gives up its lease and
// is claimed again when due without counting an attempt; a signal satisfies
// an open wait or is kept for the next one, once; approvals are decided by
// their approvers; and every refused write changes nothing.
func testWaits(t *testing.T, h *harness) {
	t.Run("SleepIsClaimedWhenDueWithoutAnAttempt", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		held := f.claimRun(f.enqueue(nil), holderA, longLease).Run
		f.mustCheckpoint(held, holderA, 1, "fetch", `1`)
		waiting := f.wait(held, holderA, store.WaitParams{Seq: 2, Name: "cool-off", Kind: klaxontype.WaitSleep,
			IdempotencyKey: "k2", Deadline: time.Now().Add(300 * time.Millisecond)})
		run := f.get(held.ID)
		if run.Status != klaxontype.RunStatusWaiting || run.LeaseHolder != "" {
			t.Fatalf("run is %s held by %q; want waiting, without a lease", run.Status, run.LeaseHolder)
		}
		checkTimeNear(t, "available at", run.AvailableAt, waiting.Until, time.Millisecond)
		if claimed := f.claim(holderB, 10, longLease); len(claimed) != 0 {
			t.Fatalf("a waiting run was claimed before it was due: %v", claimedIDs(claimed))
		}
		// The old holder lost the run with the wait.
		checkErrorIs(t, "checkpoint after the wait", f.checkpoint(held, holderA, 3, "late", `1`), klaxontype.ErrLeaseLost)

		time.Sleep(350 * time.Millisecond)
		resumed := f.claimRun(held, holderB, longLease).Run
		if resumed.Attempt != held.Attempt || resumed.Epoch != held.Epoch+1 {
			t.Errorf("resumed at attempt %d, epoch %d; want attempt %d (a wake-up is no attempt), epoch %d",
				resumed.Attempt, resumed.Epoch, held.Attempt, held.Epoch+1)
		}
		if wait := f.waitAt(held.ID, 2); wait.State != klaxontype.WaitOpen || wait.Kind != klaxontype.WaitSleep {
			t.Fatalf("wait = %+v; want the open sleep", wait)
		}
		err := f.store.WaitEnd(f.ctx, &store.WaitEndParams{Lease: leaseOf(held), Holder: holderA, Seq: 2, Name: "cool-off",
			IdempotencyKey: "k2", State: klaxontype.WaitSatisfied, Output: []byte("null")})
		checkErrorIs(t, "ending the wait with a stale lease", err, klaxontype.ErrLeaseLost)
		err = f.store.WaitEnd(f.ctx, &store.WaitEndParams{Lease: leaseOf(resumed), Holder: holderB, Seq: 2, Name: "cool-off",
			IdempotencyKey: "k2", State: klaxontype.WaitSatisfied, Output: []byte("null")})
		if err != nil {
			t.Fatal(err)
		}
		steps := f.steps(held.ID)
		if len(steps) != 2 || steps[1].Name != "cool-off" || steps[1].IdempotencyKey != "k2" {
			t.Fatalf("step log %+v; want fetch and the sleep", steps)
		}
		if wait := f.waitAt(held.ID, 2); wait.State != klaxontype.WaitSatisfied || wait.EndedBy != "timer" {
			t.Errorf("the sleep ended %s by %q; want satisfied by the timer", wait.State, wait.EndedBy)
		}
	})

	t.Run("SignalSatisfiesTheOpenWaitOnce", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		f.registerManifest(testWorkflow, "fetch", "payment")
		held := f.claimRun(f.enqueue(nil), holderA, longLease).Run
		f.wait(held, holderA, store.WaitParams{Seq: 1, Name: "payment", Kind: klaxontype.WaitSignal,
			IdempotencyKey: "k1", Deadline: time.Now().Add(time.Hour), Schema: []byte(`{"type": "object"}`)})
		if wait := f.waitAt(held.ID, 1); string(wait.Schema) != `{"type": "object"}` {
			t.Errorf("wait schema %q, want the one recorded", wait.Schema)
		}
		before := f.get(held.ID)
		_, err := f.store.SignalSend(f.ctx, &store.SignalSendParams{RunID: held.ID, Name: "shipping", Payload: []byte(`{}`), Actor: "webhook"})
		checkErrorIs(t, "a signal the manifest does not name", err, klaxontype.ErrSignalRefused)
		_, err = f.store.SignalSend(f.ctx, &store.SignalSendParams{RunID: newRunID(), Name: "payment", Payload: []byte(`{}`), Actor: "webhook"})
		checkErrorIs(t, "a signal to an unknown run", err, klaxontype.ErrNotFound)
		_, err = f.store.SignalSend(f.ctx, &store.SignalSendParams{RunID: held.ID, Name: "payment", Payload: []byte(`{`), Actor: "webhook"})
		checkErrorIs(t, "a payload that is not JSON", err, klaxontype.ErrInvalid)
		checkRunUnchanged(t, "refused signals", f.get(held.ID), before)

		sent, err := f.store.SignalSend(f.ctx, &store.SignalSendParams{RunID: held.ID, Name: "payment", Payload: []byte(`{"amount": 10}`), Actor: "webhook", IdempotencyKey: "evt_1"})
		if err != nil || !sent.Consumed || sent.Signal.ConsumedSeq != 1 {
			t.Fatalf("signal = %+v, %v; want consumed by the wait at 1", sent, err)
		}
		run := f.get(held.ID)
		if run.Status != klaxontype.RunStatusWaiting || run.AvailableAt.After(time.Now()) {
			t.Errorf("after the signal the run is %s, available at %s; want waiting, claimable now", run.Status, run.AvailableAt)
		}
		steps := f.steps(held.ID)
		if len(steps) != 1 || steps[0].Name != "payment" || steps[0].IdempotencyKey != "k1" {
			t.Fatalf("step log %+v; want the wait's step under its key", steps)
		}
		checkJSON(t, "the wait's output", steps[0].Output, []byte(`{"amount": 10}`))
		again, err := f.store.SignalSend(f.ctx, &store.SignalSendParams{RunID: held.ID, Name: "payment", Payload: []byte(`{"amount": 99}`), Actor: "webhook", IdempotencyKey: "evt_1"})
		if err != nil || !again.Duplicate || again.Signal.ID != sent.Signal.ID {
			t.Errorf("repeated key = %+v, %v; want the first signal", again, err)
		}
		resumed := f.claimRun(held, holderB, longLease).Run
		if resumed.Attempt != held.Attempt {
			t.Errorf("resumed at attempt %d; want %d", resumed.Attempt, held.Attempt)
		}
		checkEventOrder(t, "events", f.events(held.ID), klaxontype.EventRunWaiting, klaxontype.EventStepCompleted, klaxontype.EventSignalReceived)
		if records := f.audit(&store.AuditListParams{Action: klaxontype.AuditSignalSend}); len(records) != 1 || records[0].Actor != "webhook" {
			t.Errorf("audit = %+v; want the one signal sent", records)
		}
	})

	t.Run("KeptSignalIsTakenByTheNextWait", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		run := f.enqueue(&store.RunEnqueueParams{Entities: map[string]string{"order_id": "42"}})
		sent, err := f.store.SignalSendByEntity(f.ctx, &store.SignalSendByEntityParams{EntityKey: "order_id", EntityValue: "42",
			Name: "payment", Payload: []byte(`{"amount": 7}`), Actor: "webhook"})
		if err != nil || len(sent) != 1 || sent[0].Consumed || sent[0].Signal.RunID != run.ID {
			t.Fatalf("signal by entity = %+v, %v; want kept by the entity's open run", sent, err)
		}
		_, err = f.store.SignalSend(f.ctx, &store.SignalSendParams{RunID: run.ID, Name: "payment", Payload: []byte(`{}`), Actor: "webhook"})
		checkErrorIs(t, "a second kept signal of the name", err, klaxontype.ErrSignalRefused)
		_, err = f.store.SignalSendByEntity(f.ctx, &store.SignalSendByEntityParams{EntityKey: "order_id", EntityValue: "nobody",
			Name: "payment", Payload: []byte(`{}`), Actor: "webhook"})
		checkErrorIs(t, "a signal to an entity without runs", err, klaxontype.ErrNotFound)

		held := f.claimRun(run, holderA, longLease).Run
		waiting := f.wait(held, holderA, store.WaitParams{Seq: 1, Name: "payment", Kind: klaxontype.WaitSignal,
			IdempotencyKey: "k1", Deadline: time.Now().Add(time.Hour)})
		if waiting.Until.After(time.Now()) {
			t.Errorf("with a kept signal the run waits until %s; want claimable at once", waiting.Until)
		}
		steps := f.steps(run.ID)
		if len(steps) != 1 {
			t.Fatalf("step log %+v; want the wait satisfied by the kept signal", steps)
		}
		checkJSON(t, "the wait's output", steps[0].Output, []byte(`{"amount": 7}`))
		signals, err := f.store.SignalList(f.ctx, run.ID)
		if err != nil || len(signals) != 1 || signals[0].ConsumedSeq != 1 {
			t.Fatalf("signals = %+v, %v; want the one consumed at 1", signals, err)
		}
	})

	t.Run("WaitTimesOutAndReplayBeginsItAfresh", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		held := f.claimRun(f.enqueue(nil), holderA, longLease).Run
		f.wait(held, holderA, store.WaitParams{Seq: 1, Name: "reply", Kind: klaxontype.WaitSignal,
			IdempotencyKey: "k1", StartedAt: time.Now(), Deadline: time.Now().Add(100 * time.Millisecond)})
		time.Sleep(150 * time.Millisecond)
		resumed := f.claimRun(held, holderB, longLease).Run
		err := f.store.WaitEnd(f.ctx, &store.WaitEndParams{Lease: leaseOf(resumed), Holder: holderB, Seq: 1, Name: "reply", State: klaxontype.WaitTimedOut})
		if err != nil {
			t.Fatal(err)
		}
		if wait := f.waitAt(held.ID, 1); wait.State != klaxontype.WaitTimedOut || wait.EndedBy != "deadline" {
			t.Fatalf("wait = %+v; want timed out", wait)
		}
		timedOut := checkOneEvent(t, "events", f.events(held.ID), klaxontype.EventWaitTimedOut)
		if !strings.Contains(timedOut.Message, `signal "reply" not received in 100ms`) {
			t.Errorf("wait.timed_out says %q", timedOut.Message)
		}
		entry := f.kill(resumed, &klaxontype.RunFailure{Class: klaxontype.ClassTimeout, Reason: timedOut.Message, Step: "reply", StepSeq: 1},
			&store.DeadLetterParams{ID: newEntryID(), Channel: "review"}, failedAttempt(resumed, holderB))
		if _, err := f.store.DLQReplay(f.ctx, &store.DLQReplayParams{EntryID: entry, Mode: klaxontype.ReplayResume, Actor: "carol"}); err != nil {
			t.Fatal(err)
		}
		if wait := f.waitAt(held.ID, 1); wait != nil {
			t.Errorf("after a resume the timed-out wait is still recorded: %+v", wait)
		}
	})

	t.Run("ApprovalIsDecidedByItsApprovers", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		held := f.claimRun(f.enqueue(&store.RunEnqueueParams{Entities: map[string]string{"order_id": "9"}}), holderA, longLease).Run
		request := &klaxontype.ApprovalRequest{Title: "Refund?", Data: json.RawMessage(`{"amount": 120}`), Approvers: []string{"alice"}}
		f.wait(held, holderA, store.WaitParams{Seq: 1, Name: "refund", Kind: klaxontype.WaitApproval,
			IdempotencyKey: "k1", Deadline: time.Now().Add(time.Hour), Request: request})
		inbox, err := f.store.WaitList(f.ctx, &store.WaitListParams{Kind: klaxontype.WaitApproval, Open: true})
		if err != nil || len(inbox) != 1 || inbox[0].Request.Title != "Refund?" || inbox[0].Workflow != testWorkflow || inbox[0].Entities["order_id"] != "9" {
			t.Fatalf("inbox = %+v, %v", inbox, err)
		}
		checkJSON(t, "the request's data", inbox[0].Request.Data, []byte(`{"amount": 120}`))
		if pending := f.outboxPending(); len(pending) != 1 || pending[0].Channel != "approvals" {
			t.Errorf("outbox = %+v; want the request's notification on approvals", pending)
		}
		_, err = f.store.SignalSend(f.ctx, &store.SignalSendParams{RunID: held.ID, Name: "refund", Payload: []byte(`{}`), Actor: "alice"})
		checkErrorIs(t, "a plain signal to an approval", err, klaxontype.ErrSignalRefused)
		_, err = f.store.ApprovalDecide(f.ctx, &store.ApprovalDecideParams{RunID: held.ID, Name: "refund", Approved: true, Actor: "mallory"})
		checkErrorIs(t, "a decision by a non-approver", err, klaxontype.ErrNotApprover)
		_, err = f.store.ApprovalDecide(f.ctx, &store.ApprovalDecideParams{RunID: held.ID, Name: "other", Approved: true, Actor: "alice"})
		checkErrorIs(t, "a decision on no request", err, klaxontype.ErrNotFound)
		if records := f.audit(&store.AuditListParams{Action: klaxontype.AuditApprovalDecide}); len(records) != 0 {
			t.Fatalf("refused decisions were audited: %+v", records)
		}

		decision, err := f.store.ApprovalDecide(f.ctx, &store.ApprovalDecideParams{RunID: held.ID, Name: "refund", Approved: false, Comment: "too much", Actor: "alice"})
		if err != nil || decision.Approved || decision.By != "alice" {
			t.Fatalf("decision = %+v, %v", decision, err)
		}
		steps := f.steps(held.ID)
		var recorded klaxontype.ApprovalDecision
		if len(steps) != 1 || json.Unmarshal(steps[0].Output, &recorded) != nil || recorded.Comment != "too much" || recorded.Approved {
			t.Fatalf("step log %+v; want the decision as the wait's output", steps)
		}
		if inbox, _ := f.store.WaitList(f.ctx, &store.WaitListParams{Kind: klaxontype.WaitApproval, Open: true}); len(inbox) != 0 {
			t.Errorf("the decided request is still in the inbox: %+v", inbox)
		}
		_, err = f.store.ApprovalDecide(f.ctx, &store.ApprovalDecideParams{RunID: held.ID, Name: "refund", Approved: true, Actor: "alice"})
		checkErrorIs(t, "a second decision", err, klaxontype.ErrNotFound)
		if records := f.audit(&store.AuditListParams{Action: klaxontype.AuditApprovalDecide}); len(records) != 1 || records[0].Actor != "alice" {
			t.Errorf("audit = %+v; want alice's decision", records)
		}
	})

	t.Run("WaitingRunIsCancelledAtOnce", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		held := f.claimRun(f.enqueue(nil), holderA, longLease).Run
		f.wait(held, holderA, store.WaitParams{Seq: 1, Name: "payment", Kind: klaxontype.WaitSignal,
			IdempotencyKey: "k1", Deadline: time.Now().Add(time.Hour)})
		cancelled := f.cancel(f.get(held.ID), "carol", "withdrawn")
		if cancelled.Status != klaxontype.RunStatusCancelled {
			t.Fatalf("run is %s", cancelled.Status)
		}
		_, err := f.store.SignalSend(f.ctx, &store.SignalSendParams{RunID: held.ID, Name: "payment", Payload: []byte(`{}`), Actor: "late"})
		checkErrorIs(t, "a signal to a cancelled run", err, klaxontype.ErrSignalRefused)
	})

	t.Run("StaleHolderCannotWait", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		stale, _ := f.takeOver()
		_, err := f.store.RunWait(f.ctx, &store.RunWaitParams{Lease: leaseOf(stale), Holder: holderA, Waits: []store.WaitParams{
			{Seq: 2, Name: "cool-off", Kind: klaxontype.WaitSleep, IdempotencyKey: "k", Deadline: time.Now().Add(time.Hour)}}})
		checkErrorIs(t, "a stale holder's wait", err, klaxontype.ErrLeaseLost)
		if wait := f.waitAt(stale.ID, 2); wait != nil {
			t.Errorf("a refused wait was recorded: %+v", wait)
		}
	})
}

// wait gives a held run up to a wait and returns how it went waiting.
func (f *fixture) wait(held *klaxontype.Run, holder string, waits ...store.WaitParams) *store.RunWaiting {
	f.t.Helper()
	waiting, err := f.store.RunWait(f.ctx, &store.RunWaitParams{Lease: leaseOf(held), Holder: holder, Workflow: held.Workflow, Waits: waits})
	if err != nil {
		f.t.Fatalf("RunWait: %v", err)
	}
	return waiting
}

// waitAt reads a run's wait at a sequence number; nil when none.
func (f *fixture) waitAt(runID string, seq int) *klaxontype.Wait {
	f.t.Helper()
	wait, err := f.store.WaitGet(f.ctx, runID, seq)
	if err != nil && !errors.Is(err, klaxontype.ErrNotFound) {
		f.t.Fatalf("WaitGet: %v", err)
	}
	return wait
}
