package storetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

func testConcurrencyKeys(t *testing.T, h *harness) {
	t.Run("FullKeyParksTheRestAndAFreedSlotGoesToTheOldest", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		at := time.Now().Add(-time.Minute)
		first := f.enqueue(&store.RunEnqueueParams{AvailableAt: at})
		second := f.enqueue(&store.RunEnqueueParams{AvailableAt: at.Add(time.Millisecond)})
		third := f.enqueue(&store.RunEnqueueParams{AvailableAt: at.Add(2 * time.Millisecond)})
		other := f.enqueue(&store.RunEnqueueParams{AvailableAt: at.Add(3 * time.Millisecond)})
		claimed := f.claim(holderA, 10, longLease)
		if len(claimed) != 4 {
			t.Fatalf("RunsClaim returned %v; want all four runs", claimedIDs(claimed))
		}
		keys := map[string]string{first.ID: "acme", second.ID: "acme", third.ID: "acme", other.ID: "globex"}
		admitted := f.admit(holderA, claimed, keys, 1)
		if want := []string{first.ID, other.ID}; !sameIDs(admitted, want) {
			t.Fatalf("RunsAdmit admitted %v; want %v: the first run of each key", admitted, want)
		}
		for _, id := range []string{second.ID, third.ID} {
			run := f.get(id)
			if run.Status != klaxontype.RunStatusPending || run.ConcurrencySlot != klaxontype.SlotWaiting ||
				run.ConcurrencyKey != "acme" || run.LeaseHolder != "" || run.Attempt != 0 || !run.StartedAt.IsZero() {
				t.Errorf("a run of a full key: %s, slot %q, key %q, holder %q, attempt %d, started %v; want pending, waiting, acme, none, 0, never",
					run.Status, run.ConcurrencySlot, run.ConcurrencyKey, run.LeaseHolder, run.Attempt, run.StartedAt)
			}
			f.checkEvent(id, klaxontype.EventRunParked, `concurrency key "acme": all 1 slots held`)
		}
		if held := f.get(first.ID); held.ConcurrencySlot != klaxontype.SlotHeld || held.Status != klaxontype.RunStatusRunning {
			t.Errorf("the admitted run: %s, slot %q; want running, held", held.Status, held.ConcurrencySlot)
		}
		if again := f.claim(holderB, 10, longLease); len(again) != 0 {
			t.Fatalf("RunsClaim handed out %v; runs waiting for a slot are out of every claim", claimedIDs(again))
		}
		if n := f.admitWaiting("acme"); n != 0 {
			t.Errorf("ConcurrencyAdmit with the slot held admitted %d runs; want 0", n)
		}

		f.complete(claimedRun(claimed, first.ID))
		if n := f.admitWaiting("acme"); n != 1 {
			t.Fatalf("ConcurrencyAdmit after the holder completed admitted %d runs; want 1", n)
		}
		f.checkEvent(second.ID, klaxontype.EventRunAdmitted, `concurrency key "acme": a slot of 1 freed`)
		next := f.claim(holderB, 10, longLease)
		if len(next) != 1 || next[0].Run.ID != second.ID {
			t.Fatalf("RunsClaim after the slot freed returned %v; want the oldest waiting run %s", claimedIDs(next), second.ID)
		}
		if run := next[0].Run; run.ConcurrencySlot != klaxontype.SlotHeld || run.Attempt != 1 {
			t.Errorf("the admitted run comes claimed with slot %q, attempt %d; want held, 1", run.ConcurrencySlot, run.Attempt)
		}
		if third := f.get(third.ID); third.ConcurrencySlot != klaxontype.SlotWaiting {
			t.Errorf("the third run has slot %q; want waiting still", third.ConcurrencySlot)
		}
	})

	t.Run("ANewRunQueuesBehindOlderWaitingOnes", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		holder := f.enqueue(nil)
		waiting := f.enqueue(nil)
		claimed := f.claim(holderA, 2, longLease)
		f.admit(holderA, claimed, map[string]string{holder.ID: "acme", waiting.ID: "acme"}, 1)
		// The holder ends while the waiting run is not yet admitted; a new
		// run of the key is claimed before any admission pass.
		f.complete(claimedRun(claimed, holder.ID))
		late := f.enqueue(nil)
		lateClaimed := f.claim(holderB, 1, longLease)
		if len(lateClaimed) != 1 || lateClaimed[0].Run.ID != late.ID {
			t.Fatalf("RunsClaim returned %v; want the new run %s", claimedIDs(lateClaimed), late.ID)
		}
		if admitted := f.admit(holderB, lateClaimed, map[string]string{late.ID: "acme"}, 1); len(admitted) != 0 {
			t.Errorf("RunsAdmit admitted %v ahead of the older waiting run", admitted)
		}
		if run := f.get(waiting.ID); run.ConcurrencySlot != klaxontype.SlotHeld || run.Status != klaxontype.RunStatusPending {
			t.Errorf("the older waiting run: %s, slot %q; want pending and admitted (held) in the same judgement", run.Status, run.ConcurrencySlot)
		}
		if run := f.get(late.ID); run.ConcurrencySlot != klaxontype.SlotWaiting {
			t.Errorf("the new run has slot %q; want waiting", run.ConcurrencySlot)
		}
	})

	t.Run("ASlotIsHeldThroughABackoffAndFreedByACancel", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		holder := f.enqueue(nil)
		waiting := f.enqueue(nil)
		claimed := f.claim(holderA, 2, longLease)
		f.admit(holderA, claimed, map[string]string{holder.ID: "acme", waiting.ID: "acme"}, 1)
		f.fail(claimedRun(claimed, holder.ID), klaxontype.RunStatusRetrying, failedAttempt(claimedRun(claimed, holder.ID), holderA))
		if n := f.admitWaiting(); n != 0 {
			t.Fatalf("ConcurrencyAdmit while the holder backs off admitted %d runs; want 0", n)
		}
		f.cancel(f.get(holder.ID), "alice@example.com", "superseded")
		if run := f.get(waiting.ID); run.ConcurrencySlot != klaxontype.SlotHeld || !run.AvailableAt.Before(time.Now().Add(time.Second)) {
			t.Errorf("after the holder was cancelled the waiting run has slot %q, available at %v; want held, now", run.ConcurrencySlot, run.AvailableAt)
		}
	})

	t.Run("AReplayedRunIsJudgedAgain", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		run := f.enqueue(nil)
		claimed := f.claim(holderA, 1, longLease)
		f.admit(holderA, claimed, map[string]string{run.ID: "acme"}, 1)
		entryID := f.kill(claimed[0].Run, permanentFailure(), newDeadLetter(), failedAttempt(claimed[0].Run, holderA))
		if _, err := f.store.DLQReplay(f.ctx, &store.DLQReplayParams{EntryID: entryID, Mode: klaxontype.ReplayResume, Actor: "alice@example.com"}); err != nil {
			t.Fatalf("DLQReplay: %v", err)
		}
		if replayed := f.get(run.ID); replayed.ConcurrencySlot != "" || replayed.Status != klaxontype.RunStatusPending {
			t.Errorf("the replayed run: %s, slot %q; want pending with no slot, to be judged again", replayed.Status, replayed.ConcurrencySlot)
		}
	})

	t.Run("AHolderThatLostTheRunJudgesNothing", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		run := f.enqueue(nil)
		claimed := f.claim(holderA, 1, longLease)
		admitted, err := f.store.RunsAdmit(f.ctx, &store.RunsAdmitParams{Holder: holderB, Runs: []store.RunAdmission{
			{Lease: leaseOf(claimed[0].Run), Key: "acme", Limit: 1},
		}})
		if err != nil || len(admitted) != 0 {
			t.Fatalf("RunsAdmit by a holder without the run: %v, %v; want nothing admitted", admitted, err)
		}
		if got := f.get(run.ID); got.ConcurrencyKey != "" || got.Status != klaxontype.RunStatusRunning || got.LeaseHolder != holderA {
			t.Errorf("the run: %s held by %q, key %q; want running, held by %s, not judged", got.Status, got.LeaseHolder, got.ConcurrencyKey, holderA)
		}
	})

	t.Run("BadAdmissionsAreRefusedAndChangeNothing", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		run := f.enqueue(nil)
		claimed := f.claim(holderA, 1, longLease)
		for name, admission := range map[string]store.RunAdmission{
			"limit 0":        {Lease: leaseOf(claimed[0].Run), Key: "acme", Limit: 0},
			"negative limit": {Lease: leaseOf(claimed[0].Run), Key: "acme", Limit: -2},
			"empty key":      {Lease: leaseOf(claimed[0].Run), Key: "", Limit: 1},
			"long key":       {Lease: leaseOf(claimed[0].Run), Key: strings.Repeat("k", klaxontype.MaxConcurrencyKeyBytes+1), Limit: 1},
		} {
			_, err := f.store.RunsAdmit(f.ctx, &store.RunsAdmitParams{Holder: holderA, Runs: []store.RunAdmission{admission}})
			if !errors.Is(err, klaxontype.ErrInvalid) {
				t.Errorf("RunsAdmit with %s: %v; want ErrInvalid", name, err)
			}
		}
		if got := f.get(run.ID); got.ConcurrencyKey != "" || got.Status != klaxontype.RunStatusRunning {
			t.Errorf("after refused admissions the run is %s with key %q; want running, not judged", got.Status, got.ConcurrencyKey)
		}
	})

	t.Run("LimitTwoAdmitsTwoAtOnce", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		keys := map[string]string{}
		var order []string
		at := time.Now().Add(-time.Minute)
		for i := range 5 {
			run := f.enqueue(&store.RunEnqueueParams{AvailableAt: at.Add(time.Duration(i) * time.Millisecond)})
			keys[run.ID] = "tenant-7"
			order = append(order, run.ID)
		}
		claimed := f.claim(holderA, 5, longLease)
		if admitted := f.admit(holderA, claimed, keys, 2); !sameIDs(admitted, order[:2]) {
			t.Fatalf("RunsAdmit admitted %v; want the two oldest %v", admitted, order[:2])
		}
		f.complete(claimedRun(claimed, order[0]))
		f.complete(claimedRun(claimed, order[1]))
		// No key named: every key with a waiting run.
		if n := f.admitWaiting(); n != 2 {
			t.Fatalf("ConcurrencyAdmit admitted %d runs; want 2", n)
		}
		next := f.claim(holderB, 5, longLease)
		if got := claimedIDs(next); !sameIDs(got, order[2:4]) {
			t.Errorf("RunsClaim returned %v; want %v", got, order[2:4])
		}
	})
}

// admit judges claimed runs under the keys given by run ID (runs with no
// key are not judged), each with limit, and returns the IDs admitted.
func (f *fixture) admit(holder string, claimed []*store.ClaimedRun, keys map[string]string, limit int) []string {
	f.t.Helper()
	var runs []store.RunAdmission
	for _, c := range claimed {
		if key := keys[c.Run.ID]; key != "" {
			runs = append(runs, store.RunAdmission{Lease: leaseOf(c.Run), Key: key, Limit: limit})
		}
	}
	admitted, err := f.store.RunsAdmit(f.ctx, &store.RunsAdmitParams{Holder: holder, Runs: runs})
	if err != nil {
		f.t.Fatalf("RunsAdmit: %v", err)
	}
	return admitted
}

// admitWaiting runs an admission pass over keys (every key when none) and
// returns how many runs it admitted.
func (f *fixture) admitWaiting(keys ...string) int {
	f.t.Helper()
	n, err := f.store.ConcurrencyAdmit(f.ctx, &store.ConcurrencyAdmitParams{Keys: keys})
	if err != nil {
		f.t.Fatalf("ConcurrencyAdmit %v: %v", keys, err)
	}
	return n
}

// complete completes a held run.
func (f *fixture) complete(held *klaxontype.Run) {
	f.t.Helper()
	if err := f.store.RunComplete(f.ctx, &store.RunCompleteParams{Lease: leaseOf(held), Holder: holderA, Output: []byte(`{"ok": true}`)}); err != nil {
		f.t.Fatalf("RunComplete %s: %v", held.ID, err)
	}
}

// checkEvent fails the test unless the run's log has an event of the type
// whose message contains message.
func (f *fixture) checkEvent(runID string, eventType klaxontype.EventType, message string) {
	f.t.Helper()
	for _, event := range f.events(runID) {
		if event.Type == eventType && strings.Contains(event.Message, message) {
			return
		}
	}
	f.t.Errorf("run %s has no %s event saying %q; events: %v", runID, eventType, message, eventTypes(f.events(runID)))
}

// claimedRun is the run of an ID among claimed runs.
func claimedRun(claimed []*store.ClaimedRun, id string) *klaxontype.Run {
	for _, c := range claimed {
		if c.Run.ID == id {
			return c.Run
		}
	}
	return nil
}
