package storetest

import (
	"testing"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// testDLQClosed checks that an entry is acted on once: whether it was
// replayed, resolved or discarded, every further action is refused with
// klaxontype.ErrEntryNotOpen and changes nothing.
func testDLQClosed(t *testing.T, h *harness) {
	t.Run("EveryActionRefused", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		// Every run dies before any is reopened, so that each claim takes the run
		// just enqueued.
		replayedRun, replayedID := f.deadRun(death{Steps: []string{"fetch"}})
		resolvedRun, resolvedID := f.deadRun(death{Steps: []string{"fetch"}})
		discardedRun, discardedID := f.deadRun(death{Steps: []string{"fetch"}})
		if _, err := f.store.DLQReplay(f.ctx, &store.DLQReplayParams{EntryID: replayedID, Mode: klaxontype.ReplayResume, Actor: "alice"}); err != nil {
			t.Fatalf("DLQReplay: %v", err)
		}
		if _, err := f.store.DLQResolve(f.ctx, &store.DLQResolveParams{
			EntryID: resolvedID, Step: "summarize", Output: []byte(`{}`), IdempotencyKey: stepKey(resolvedRun.ID, 2, "summarize"), Actor: "bob",
		}); err != nil {
			t.Fatalf("DLQResolve: %v", err)
		}
		if _, err := f.store.DLQDiscard(f.ctx, &store.DLQDiscardParams{EntryID: discardedID, Reason: "test data", Actor: "dave"}); err != nil {
			t.Fatalf("DLQDiscard: %v", err)
		}

		for _, closed := range []struct {
			state   klaxontype.DeadLetterState
			runID   string
			entryID string
		}{
			{klaxontype.DeadLetterReplayed, replayedRun.ID, replayedID},
			{klaxontype.DeadLetterResolved, resolvedRun.ID, resolvedID},
			{klaxontype.DeadLetterDiscarded, discardedRun.ID, discardedID},
		} {
			t.Run(string(closed.state), func(t *testing.T) {
				run, steps, entry := f.get(closed.runID), f.steps(closed.runID), f.entry(closed.entryID)
				if entry.State != closed.state {
					t.Fatalf("entry is %s; want %s", entry.State, closed.state)
				}
				events := len(f.events(closed.runID))
				newID := newRunID()
				for _, action := range []struct {
					name string
					do   func() error
				}{
					{"resume", func() error {
						_, err := f.store.DLQReplay(f.ctx, &store.DLQReplayParams{EntryID: closed.entryID, Mode: klaxontype.ReplayResume, Actor: "erin"})
						return err
					}},
					{"from-step", func() error {
						_, err := f.store.DLQReplay(f.ctx, &store.DLQReplayParams{EntryID: closed.entryID, Mode: klaxontype.ReplayFromStep, Step: "fetch", Actor: "erin"})
						return err
					}},
					{"restart", func() error {
						_, err := f.store.DLQReplay(f.ctx, &store.DLQReplayParams{EntryID: closed.entryID, Mode: klaxontype.ReplayRestart, NewRunID: newID, Actor: "erin"})
						return err
					}},
					{"resolve", func() error {
						_, err := f.store.DLQResolve(f.ctx, &store.DLQResolveParams{
							EntryID: closed.entryID, Step: "summarize", Output: []byte(`{}`), IdempotencyKey: "by-hand", Actor: "erin",
						})
						return err
					}},
					{"discard", func() error {
						_, err := f.store.DLQDiscard(f.ctx, &store.DLQDiscardParams{EntryID: closed.entryID, Reason: "again", Actor: "erin"})
						return err
					}},
				} {
					checkErrorIs(t, action.name+" of a "+string(closed.state)+" entry", action.do(), klaxontype.ErrEntryNotOpen)
				}
				checkEntryUnchanged(t, "actions on a closed entry", f.entry(closed.entryID), entry)
				checkRunUnchanged(t, "actions on a closed entry", f.get(closed.runID), run)
				checkStepLogEqual(t, "actions on a closed entry", f.steps(closed.runID), steps)
				if n := len(f.events(closed.runID)); n != events {
					t.Errorf("actions on a closed entry added %d events to the run", n-events)
				}
				_, err := f.store.RunGet(f.ctx, newID)
				checkErrorIs(t, "RunGet of the refused restart's run", err, klaxontype.ErrNotFound)
			})
		}
	})
}
