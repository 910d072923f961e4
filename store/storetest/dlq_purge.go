package storetest

import (
	"testing"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// testDLQPurge checks that a purge deletes exactly the entries its filter
// matches, with their notifications, and nothing else.
func testDLQPurge(t *testing.T, h *harness) {
	t.Run("Purge", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		kill := func(workflow string, class klaxontype.FailureClass) (*klaxontype.Run, string) {
			t.Helper()
			return f.deadRun(death{
				Run:     store.RunEnqueueParams{Workflow: workflow},
				Failure: &klaxontype.RunFailure{Class: class, Reason: "failed as " + string(class), Step: "summarize", StepSeq: 1},
			})
		}
		_, kept := kill(testWorkflow, klaxontype.ClassPermanent)
		refusedRun, refused1 := kill("classify", klaxontype.ClassPolicyViolation)
		_, refused2 := kill(testWorkflow, klaxontype.ClassPolicyViolation)
		_, wrong := kill(testWorkflow, klaxontype.ClassSemantic)
		if _, err := f.store.DLQDiscard(f.ctx, &store.DLQDiscardParams{EntryID: wrong, Reason: "known flake", Actor: "dave"}); err != nil {
			t.Fatalf("DLQDiscard: %v", err)
		}
		keptBefore, wrongBefore, refusedRunBefore := f.entry(kept), f.entry(wrong), f.get(refusedRun.ID)
		policy := store.DLQListParams{Classes: []klaxontype.FailureClass{klaxontype.ClassPolicyViolation}}

		// A purge is recorded with who did it: it needs an actor.
		_, err := f.store.DLQPurge(f.ctx, &store.DLQPurgeParams{Filter: policy})
		checkErrorIs(t, "DLQPurge without an actor", err, klaxontype.ErrInvalid)
		checkIDs(t, "entries after a refused purge", entryIDs(f.dlqList(&store.DLQListParams{})), wrong, refused2, refused1, kept)

		f.purge(policy, 2)
		for _, id := range []string{refused1, refused2} {
			_, err := f.store.DLQGet(f.ctx, id)
			checkErrorIs(t, "DLQGet of a purged entry", err, klaxontype.ErrNotFound)
			_, err = f.store.DLQReplay(f.ctx, &store.DLQReplayParams{EntryID: id, Mode: klaxontype.ReplayResume, Actor: "alice"})
			checkErrorIs(t, "DLQReplay of a purged entry", err, klaxontype.ErrNotFound)
		}
		checkIDs(t, "entries after the purge", entryIDs(f.dlqList(&store.DLQListParams{})), wrong, kept)
		checkEntryUnchanged(t, "purging other entries", f.entry(kept), keptBefore)
		checkEntryUnchanged(t, "purging other entries", f.entry(wrong), wrongBefore)
		// The run is history, not queue: a purge leaves it as it was.
		checkRunUnchanged(t, "purging its entry", f.get(refusedRun.ID), refusedRunBefore)

		// Nothing matches any more.
		f.purge(policy, 0)
		// The notifications of purged entries are gone with them.
		messages := f.outboxClaim(holderA, 10, longLease, reviewChannel)
		var notified []string
		for _, m := range messages {
			notified = append(notified, m.Delivery.EntryID)
		}
		checkIDSet(t, "entries notified after the purge", notified, kept, wrong)

		f.purge(store.DLQListParams{States: []klaxontype.DeadLetterState{klaxontype.DeadLetterDiscarded}}, 1)
		checkIDs(t, "entries after purging the discarded", entryIDs(f.dlqList(&store.DLQListParams{})), kept)
	})

	t.Run("PurgeHonoursCursorAndLimit", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		var ids []string
		for range 5 {
			_, id := f.deadRun(death{})
			ids = append(ids, id)
		}
		// The cursor filters: entries newer than it are not purged.
		f.purge(store.DLQListParams{BeforeID: ids[2]}, 2)
		checkIDs(t, "entries after purging before a cursor", entryIDs(f.dlqList(&store.DLQListParams{})), ids[4], ids[3], ids[2])
		// A limit caps the purge, newest first as DLQList would list them.
		f.purge(store.DLQListParams{Limit: 1}, 1)
		checkIDs(t, "entries after purging with a limit", entryIDs(f.dlqList(&store.DLQListParams{})), ids[3], ids[2])
	})
}

// purge runs a purge by "erin" that must succeed and delete want entries.
func (f *fixture) purge(filter store.DLQListParams, want int) {
	f.t.Helper()
	purged, err := f.store.DLQPurge(f.ctx, &store.DLQPurgeParams{Filter: filter, Actor: "erin"})
	if err != nil {
		f.t.Fatalf("DLQPurge %+v: %v", filter, err)
	}
	if purged != want {
		f.t.Errorf("DLQPurge %+v purged %d entries; want %d", filter, purged, want)
	}
}
