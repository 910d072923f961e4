package storetest

import (
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// hostileTexts are values no store can keep as text: PostgreSQL refused each
// with a 500 (SQLSTATE 22021) where SQLite accepted it.
var hostileTexts = map[string]string{"NUL": "a\x00b", "invalid UTF-8": "a\xffb"}

// testHostileText checks the one policy both stores hold for text they
// cannot keep (see store.CheckText): a caller's IDs, filters, reasons, labels
// and keys holding a NUL byte or invalid UTF-8 are refused with
// klaxontype.ErrInvalid, and the engine's own failure texts are recorded with
// those bytes replaced by U+FFFD.
func testHostileText(t *testing.T, h *harness) {
	for kind, bad := range hostileTexts {
		t.Run("Refused/"+strings.ReplaceAll(kind, " ", ""), func(t *testing.T) {
			t.Parallel()
			f := h.fixture(t)
			run, entryID := f.deadRun(death{})
			refusals := map[string]func() error{
				"an enqueue's workflow": func() error {
					_, _, err := f.store.RunEnqueue(f.ctx, &store.RunEnqueueParams{ID: newRunID(), Workflow: bad, Input: []byte("{}")})
					return err
				},
				"an enqueue's idempotency key": func() error {
					_, _, err := f.store.RunEnqueue(f.ctx, &store.RunEnqueueParams{ID: newRunID(), Workflow: testWorkflow, Input: []byte("{}"), IdempotencyKey: bad})
					return err
				},
				"an enqueue's entity key": func() error {
					_, _, err := f.store.RunEnqueue(f.ctx, &store.RunEnqueueParams{ID: newRunID(), Workflow: testWorkflow, Input: []byte("{}"), Entities: map[string]string{bad: "v"}})
					return err
				},
				"an enqueue's entity value": func() error {
					_, _, err := f.store.RunEnqueue(f.ctx, &store.RunEnqueueParams{ID: newRunID(), Workflow: testWorkflow, Input: []byte("{}"), Entities: map[string]string{"k": bad}})
					return err
				},
				"a cancel's reason": func() error {
					_, err := f.store.RunCancel(f.ctx, &store.RunCancelParams{ID: run.ID, Reason: bad, Actor: "alice"})
					return err
				},
				"a discard's reason": func() error {
					_, err := f.store.DLQDiscard(f.ctx, &store.DLQDiscardParams{EntryID: entryID, Reason: bad, Actor: "alice"})
					return err
				},
				"a resolve's idempotency key": func() error {
					_, err := f.store.DLQResolve(f.ctx, &store.DLQResolveParams{EntryID: entryID, Step: "summarize", Output: []byte("1"), IdempotencyKey: bad, Actor: "alice"})
					return err
				},
				"a give-up's reason": func() error {
					_, err := f.store.OutboxGiveUp(f.ctx, &store.OutboxGiveUpParams{Channel: reviewChannel, Reason: bad, Actor: "alice"})
					return err
				},
				"a run list's workflow filter": func() error {
					_, err := f.store.RunList(f.ctx, &store.RunListParams{Workflow: bad})
					return err
				},
				"a run list's entity filter": func() error {
					_, err := f.store.RunList(f.ctx, &store.RunListParams{Entities: map[string]string{"k": bad}})
					return err
				},
				"a DLQ list's channel filter": func() error {
					_, err := f.store.DLQList(f.ctx, &store.DLQListParams{Channel: bad})
					return err
				},
				"a DLQ list's run filter": func() error {
					_, err := f.store.DLQList(f.ctx, &store.DLQListParams{RunID: bad})
					return err
				},
				"a purge's workflow filter": func() error {
					_, err := f.store.DLQPurge(f.ctx, &store.DLQPurgeParams{Filter: store.DLQListParams{Workflow: bad}, Actor: "alice"})
					return err
				},
			}
			for what, act := range refusals {
				checkErrorIs(t, what+" with "+kind, act(), klaxontype.ErrInvalid)
			}
			if entry := f.entry(entryID); entry.State != klaxontype.DeadLetterOpen {
				t.Errorf("entry %s is %s after refused writes; want open", entryID, entry.State)
			}
		})
	}

	t.Run("FailureTextStored", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		reason := "upstream said: bad\x00byte \xff end"
		const want = "upstream said: bad\uFFFDbyte \uFFFD end"
		run, entryID := f.deadRun(death{Failure: &klaxontype.RunFailure{Class: klaxontype.ClassPermanent, Reason: reason, Step: "summarize", StepSeq: 1}})
		if run.Failure == nil || run.Failure.Reason != want {
			t.Errorf("run's failure %+v; want reason %q", run.Failure, want)
		}
		attempts, err := f.store.AttemptList(f.ctx, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(attempts) != 1 || attempts[0].Message != want {
			t.Errorf("attempts %+v; want one with message %q", attempts, want)
		}
		if entry := f.entry(entryID); entry.Reason != want {
			t.Errorf("entry's reason %q; want %q", entry.Reason, want)
		}
	})
}
