package storetest

import (
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// testDLQDiscard checks that discarding closes an entry, with its reason and
// who gave it, and leaves the run dead.
func testDLQDiscard(t *testing.T, h *harness) {
	t.Run("Discard", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		run, entryID := f.deadRun(death{Steps: []string{"fetch"}})
		dead, entryBefore := f.get(run.ID), f.entry(entryID)

		// A discard must say why.
		_, err := f.store.DLQDiscard(f.ctx, &store.DLQDiscardParams{EntryID: entryID, Actor: "dave"})
		checkErrorIs(t, "DLQDiscard without a reason", err, klaxontype.ErrInvalid)
		checkEntryUnchanged(t, "DLQDiscard without a reason", f.entry(entryID), entryBefore)

		const reason = "duplicate of order 981, refunded by hand"
		before := time.Now()
		discarded, err := f.store.DLQDiscard(f.ctx, &store.DLQDiscardParams{EntryID: entryID, Reason: reason, Actor: "dave"})
		after := time.Now()
		if err != nil {
			t.Fatalf("DLQDiscard: %v", err)
		}
		if discarded == nil {
			t.Fatal("DLQDiscard returned no entry")
		}
		if discarded.State != klaxontype.DeadLetterDiscarded || discarded.ClosedBy != "dave" || discarded.CloseReason != reason {
			t.Errorf("entry is %s by %q because %q; want discarded by dave because %q",
				discarded.State, discarded.ClosedBy, discarded.CloseReason, reason)
		}
		if discarded.ReplayMode != "" || discarded.ReplayRunID != "" {
			t.Errorf("discarded entry links to replay %q as run %q; want none", discarded.ReplayMode, discarded.ReplayRunID)
		}
		checkTimeBetween(t, "entry ClosedAt", discarded.ClosedAt, before, after)
		checkEntryUnchanged(t, "DLQGet after discarding", withoutDetails(f.entry(entryID)), withoutDetails(discarded))

		// The run stays dead, and nobody claims it.
		checkRunUnchanged(t, "discard", f.get(run.ID), dead)
		if claimed := f.claim(holderB, 10, longLease); len(claimed) != 0 {
			t.Errorf("the run of a discarded entry was claimed: %v", claimedIDs(claimed))
		}
		checkEvent(t, "discard", checkOneEvent(t, "discard", f.events(run.ID), klaxontype.EventDLQDiscarded),
			klaxontype.Event{RunID: run.ID, Actor: "dave"})
	})

	t.Run("DiscardUnknownEntry", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		_, err := f.store.DLQDiscard(f.ctx, &store.DLQDiscardParams{EntryID: newEntryID(), Reason: "noise", Actor: "dave"})
		checkErrorIs(t, "DLQDiscard of an unknown entry", err, klaxontype.ErrNotFound)
	})
}
