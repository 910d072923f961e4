package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// Rows reads every row of every table of a store as text, sorted, so that
// two reads of an unchanged database are equal. Each store's test supplies
// one, reading the database behind the store's back.
type Rows func(t *testing.T, s store.Store) []string

// testRefusals checks that a write a store refuses changes nothing at all:
// every row of every table reads the same before and after, whatever the
// rule had checked or written before it found the problem.
func testRefusals(t *testing.T, h *harness) {
	if h.rows == nil {
		t.Skip("this store's test gives no way to read its rows")
	}
	// refused runs act, which the store must refuse with an error matching
	// want (any error when want is nil), and checks that no row changed.
	refused := func(t *testing.T, f *fixture, what string, want error, act func() error) {
		t.Helper()
		before := h.rows(t, f.store)
		err := act()
		if err == nil {
			t.Fatalf("%s: accepted; want it refused", what)
		}
		if want != nil {
			checkErrorIs(t, what, err, want)
		}
		after := h.rows(t, f.store)
		if !slices.Equal(before, after) {
			t.Errorf("%s was refused (%v) but changed the database:\n%s", what, err, rowsDiff(before, after))
		}
	}

	t.Run("Replay", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		run, entryID := f.deadRun(death{Steps: []string{"fetch", "chunk"}})
		refused(t, f, "a from-step replay of a step not in the log", klaxontype.ErrInvalid, func() error {
			_, err := f.store.DLQReplay(f.ctx, &store.DLQReplayParams{EntryID: entryID, Mode: klaxontype.ReplayFromStep, Step: "translate", Actor: "alice"})
			return err
		})
		refused(t, f, "a restart as a run that exists", nil, func() error {
			_, err := f.store.DLQReplay(f.ctx, &store.DLQReplayParams{EntryID: entryID, Mode: klaxontype.ReplayRestart, NewRunID: run.ID, Actor: "alice"})
			return err
		})
		refused(t, f, "an unknown entry's replay", klaxontype.ErrNotFound, func() error {
			_, err := f.store.DLQReplay(f.ctx, &store.DLQReplayParams{EntryID: "no-such-entry", Mode: klaxontype.ReplayResume, Actor: "alice"})
			return err
		})
		if _, err := f.store.DLQReplay(f.ctx, &store.DLQReplayParams{EntryID: entryID, Mode: klaxontype.ReplayResume, Actor: "alice"}); err != nil {
			t.Fatalf("DLQReplay resume: %v", err)
		}
		refused(t, f, "a second replay of a replayed entry", klaxontype.ErrEntryNotOpen, func() error {
			_, err := f.store.DLQReplay(f.ctx, &store.DLQReplayParams{EntryID: entryID, Mode: klaxontype.ReplayFromStep, Step: "fetch", Actor: "bob"})
			return err
		})
	})

	t.Run("ReplayOfCompensatedRun", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		run := f.enqueue(nil)
		held := f.claimRun(run, holderA, longLease).Run
		f.mustCheckpoint(held, holderA, 1, "reserve_stock", `{"reservation": "R-1"}`)
		f.mustCheckpoint(held, holderA, 2, "charge_card", `{"charge": "ch_1"}`)
		failure := &klaxontype.RunFailure{Class: klaxontype.ClassPermanent, Reason: "address rejected by carrier", Step: "ship", StepSeq: 3}
		if err := f.store.RunFail(f.ctx, &store.RunFailParams{
			Lease: leaseOf(held), Holder: holderA, Attempt: attemptFailing(held, failure),
			Next: klaxontype.RunStatusCompensating, Failure: failure,
		}); err != nil {
			t.Fatalf("RunFail to compensating: %v", err)
		}
		f.compensate(held, 2, "", time.Now())
		f.compensate(held, 1, "", time.Now())
		entryID := f.kill(held, failure, nil)
		refused(t, f, "a resume of a compensated run", klaxontype.ErrInvalid, func() error {
			_, err := f.store.DLQReplay(f.ctx, &store.DLQReplayParams{EntryID: entryID, Mode: klaxontype.ReplayResume, Actor: "alice"})
			return err
		})
		refused(t, f, "a from-step replay after a compensated step", klaxontype.ErrInvalid, func() error {
			_, err := f.store.DLQReplay(f.ctx, &store.DLQReplayParams{EntryID: entryID, Mode: klaxontype.ReplayFromStep, Step: "charge_card", Actor: "alice"})
			return err
		})
		refused(t, f, "a resolve of a compensated run", klaxontype.ErrInvalid, func() error {
			_, err := f.store.DLQResolve(f.ctx, &store.DLQResolveParams{
				EntryID: entryID, Step: "ship", Output: []byte(`{"tracking": "1Z"}`), IdempotencyKey: stepKey(run.ID, 3, "ship"), Actor: "alice",
			})
			return err
		})
	})

	t.Run("Resolve", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		run, entryID := f.deadRun(death{Steps: []string{"fetch"}})
		refused(t, f, "a resolve naming another step", klaxontype.ErrInvalid, func() error {
			_, err := f.store.DLQResolve(f.ctx, &store.DLQResolveParams{
				EntryID: entryID, Step: "fetch", Output: []byte(`{}`), IdempotencyKey: stepKey(run.ID, 2, "fetch"), Actor: "alice",
			})
			return err
		})
		// A nondeterminism failure names a sequence number the log holds
		// under another name: the resolve's insert finds it taken.
		run, entryID = f.deadRun(death{
			Run:   store.RunEnqueueParams{Workflow: "other"},
			Steps: []string{"fetch"},
			Failure: &klaxontype.RunFailure{
				Class: klaxontype.ClassNondeterminism, Reason: "step 1 is fetch in the log, summarize in the code", Step: "summarize", StepSeq: 1,
			},
		})
		refused(t, f, "a resolve of a step whose number the log holds", klaxontype.ErrInvalid, func() error {
			_, err := f.store.DLQResolve(f.ctx, &store.DLQResolveParams{
				EntryID: entryID, Step: "summarize", Output: []byte(`{}`), IdempotencyKey: stepKey(run.ID, 1, "summarize"), Actor: "alice",
			})
			return err
		})
	})

	t.Run("DiscardAndPurge", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		_, entryID := f.deadRun(death{Steps: []string{"fetch"}})
		refused(t, f, "a discard without a reason", klaxontype.ErrInvalid, func() error {
			_, err := f.store.DLQDiscard(f.ctx, &store.DLQDiscardParams{EntryID: entryID, Actor: "alice"})
			return err
		})
		refused(t, f, "a purge without an actor", klaxontype.ErrInvalid, func() error {
			_, err := f.store.DLQPurge(f.ctx, &store.DLQPurgeParams{})
			return err
		})
		if _, err := f.store.DLQDiscard(f.ctx, &store.DLQDiscardParams{EntryID: entryID, Reason: "known bad batch", Actor: "alice"}); err != nil {
			t.Fatalf("DLQDiscard: %v", err)
		}
		refused(t, f, "a discard of a discarded entry", klaxontype.ErrEntryNotOpen, func() error {
			_, err := f.store.DLQDiscard(f.ctx, &store.DLQDiscardParams{EntryID: entryID, Reason: "again", Actor: "bob"})
			return err
		})
		refused(t, f, "a give-up of a channel without a reason", klaxontype.ErrInvalid, func() error {
			_, err := f.store.OutboxGiveUp(f.ctx, &store.OutboxGiveUpParams{Channel: reviewChannel, Actor: "alice"})
			return err
		})
	})

	t.Run("Cancel", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		completed := f.runIn(klaxontype.RunStatusCompleted, nil)
		refused(t, f, "a cancel of a completed run", klaxontype.ErrRunNotCancellable, func() error {
			_, err := f.store.RunCancel(f.ctx, &store.RunCancelParams{ID: completed.ID, Actor: "alice"})
			return err
		})
		dead, _ := f.deadRun(death{Run: store.RunEnqueueParams{Workflow: "other"}, Steps: []string{"fetch"}})
		refused(t, f, "a cancel of a dead run", klaxontype.ErrRunNotCancellable, func() error {
			_, err := f.store.RunCancel(f.ctx, &store.RunCancelParams{ID: dead.ID, Actor: "alice"})
			return err
		})
		refused(t, f, "a cancel of an unknown run", klaxontype.ErrNotFound, func() error {
			_, err := f.store.RunCancel(f.ctx, &store.RunCancelParams{ID: "01JUNKNOWNRUN0000000000000", Actor: "alice"})
			return err
		})
		refused(t, f, "a cancel without an actor", klaxontype.ErrInvalid, func() error {
			_, err := f.store.RunCancel(f.ctx, &store.RunCancelParams{ID: completed.ID})
			return err
		})
	})
}

// rowsDiff lists the rows only before or only after.
func rowsDiff(before, after []string) string {
	diff := ""
	for _, row := range before {
		if !slices.Contains(after, row) {
			diff += "  - " + row + "\n"
		}
	}
	for _, row := range after {
		if !slices.Contains(before, row) {
			diff += "  + " + row + "\n"
		}
	}
	return diff
}
