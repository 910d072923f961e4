package storetest

import (
	"bytes"
	"fmt"
	"maps"
	"reflect"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// testDeadLetters checks the entry a run gets when it goes dead, as DLQGet and
// DLQList show it.
func testDeadLetters(t *testing.T, h *harness) {
	t.Run("DeadRunGetsOneOpenEntry", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		run := f.enqueue(&store.RunEnqueueParams{
			WorkflowVersion: 7, Input: []byte(`{"document_id": 42, "language": "de"}`),
			Entities: map[string]string{"document_id": "42", "tenant": "acme"},
		})
		held := f.claimRun(run, holderA, longLease).Run
		f.mustCheckpoint(held, holderA, 1, "fetch", `{"pages": 3}`)
		f.mustCheckpoint(held, holderA, 2, "chunk", `{"chunks": 9}`)

		// A retry is not a death: no entry yet.
		f.fail(held, klaxontype.RunStatusRetrying, failedAttempt(held, holderA))
		if entries := f.dlqList(&store.DLQListParams{}); len(entries) != 0 {
			t.Errorf("a retrying run has entries %v; want none", entryIDs(entries))
		}
		held = f.claimRun(run, holderA, longLease).Run

		failure := &klaxontype.RunFailure{
			Class: klaxontype.ClassPolicyViolation, Reason: "the model refused: content policy", Step: "summarize", StepSeq: 3,
		}
		deadLetter := &store.DeadLetterParams{
			ID: newEntryID(), Channel: "security",
			OutputSchema: []byte(`{"type": "object", "required": ["summary"], "properties": {"summary": {"type": "string"}}}`),
		}
		before := time.Now()
		err := f.store.RunFail(f.ctx, &store.RunFailParams{
			Lease: leaseOf(held), Holder: holderA, Attempt: attemptFailing(held, failure),
			Next: klaxontype.RunStatusDead, Failure: failure, DeadLetter: deadLetter,
		})
		after := time.Now()
		if err != nil {
			t.Fatalf("RunFail to dead: %v", err)
		}

		entries := f.dlqList(&store.DLQListParams{})
		checkIDs(t, "entries after the run died", entryIDs(entries), deadLetter.ID)
		entry := f.entry(deadLetter.ID)
		if entry.RunID != run.ID || entry.State != klaxontype.DeadLetterOpen || entry.Channel != "security" {
			t.Errorf("entry of run %s in state %s on channel %q; want run %s, open, on security",
				entry.RunID, entry.State, entry.Channel, run.ID)
		}
		if entry.Workflow != testWorkflow || entry.WorkflowVersion != 7 {
			t.Errorf("entry of workflow %s version %d; want %s version 7", entry.Workflow, entry.WorkflowVersion, testWorkflow)
		}
		if entry.Class != failure.Class || entry.Reason != failure.Reason {
			t.Errorf("entry class %s, reason %q; want %s, %q", entry.Class, entry.Reason, failure.Class, failure.Reason)
		}
		if entry.Step == nil || *entry.Step != (klaxontype.FailedStep{Name: "summarize", Seq: 3}) {
			t.Errorf("entry failed step %+v; want summarize, seq 3", entry.Step)
		}
		checkJSON(t, "entry input", entry.Input, []byte(`{"document_id": 42, "language": "de"}`))
		checkJSON(t, "entry output schema", entry.OutputSchema, deadLetter.OutputSchema)
		checkEntities(t, "entry entities", entry.Entities, map[string]string{"document_id": "42", "tenant": "acme"})
		checkTimeBetween(t, "entry CreatedAt", entry.CreatedAt, before, after)
		checkTimeBetween(t, "entry UpdatedAt", entry.UpdatedAt, before, after)
		if entry.ClosedBy != "" || !entry.ClosedAt.IsZero() || entry.CloseReason != "" || entry.ReplayMode != "" || entry.ReplayRunID != "" {
			t.Errorf("open entry closed by %q at %s (%q), replay %q as %q; want none of it",
				entry.ClosedBy, entry.ClosedAt, entry.CloseReason, entry.ReplayMode, entry.ReplayRunID)
		}

		// DLQGet has every attempt of the run, oldest first, and the
		// notification to the entry's channel, not yet delivered.
		attempts := f.attempts(run.ID)
		if len(entry.Attempts) != 2 || len(attempts) != 2 {
			t.Errorf("entry has %d attempts, the run %d; want the retried one and the fatal one", len(entry.Attempts), len(attempts))
		} else {
			for i := range attempts {
				checkAttempt(t, entry.Attempts[i], attempts[i])
			}
			if entry.Attempts[1].Class != klaxontype.ClassPolicyViolation {
				t.Errorf("the entry's last attempt is %s; want the policy violation", entry.Attempts[1].Class)
			}
		}
		if len(entry.Deliveries) != 1 {
			t.Fatalf("entry has %d deliveries; want one notification", len(entry.Deliveries))
		}
		delivery := entry.Deliveries[0]
		if delivery.EntryID != entry.ID || delivery.Channel != "security" || delivery.State != klaxontype.DeliveryPending ||
			delivery.Attempts != 0 || !delivery.DeliveredAt.IsZero() {
			t.Errorf("delivery %+v; want a pending notification of entry %s to security, never attempted", delivery, entry.ID)
		}
		checkTimeBetween(t, "delivery CreatedAt", delivery.CreatedAt, before, after)

		// Listing has the same entry, without its attempts and deliveries.
		listed := entries[0]
		if len(listed.Attempts) != 0 || len(listed.Deliveries) != 0 {
			t.Errorf("listed entry has %d attempts and %d deliveries; want them left to DLQGet", len(listed.Attempts), len(listed.Deliveries))
		}
		checkEntryUnchanged(t, "listed entry", withoutDetails(listed), withoutDetails(entry))
	})

	t.Run("FailureOutsideAnyStep", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		failure := &klaxontype.RunFailure{
			Class: klaxontype.ClassPartialCompletion, Reason: `expected steps missing: ["publish"]`,
		}
		run, entryID := f.deadRun(death{Steps: []string{"fetch", "summarize"}, Failure: failure})
		entry := f.entry(entryID)
		if entry.Step != nil {
			t.Errorf("entry of a run that failed outside any step names step %+v; want nil", entry.Step)
		}
		if entry.Class != klaxontype.ClassPartialCompletion || entry.Reason != failure.Reason || entry.RunID != run.ID {
			t.Errorf("entry of run %s: %s, %q; want run %s, %s, %q", entry.RunID, entry.Class, entry.Reason, run.ID, failure.Class, failure.Reason)
		}
		if len(entry.OutputSchema) != 0 {
			t.Errorf("entry output schema %s; want none, as none was given", entry.OutputSchema)
		}
		if len(entry.Entities) != 0 {
			t.Errorf("entry entities %v; want none, as the run has none", entry.Entities)
		}
		checkJSON(t, "entry input", entry.Input, []byte(`{"document_id": 42}`))
		if entry.Channel != reviewChannel {
			t.Errorf("entry channel %q; want %q", entry.Channel, reviewChannel)
		}
	})

	t.Run("CompensatedRunGetsOneEntry", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		held := f.runIn(klaxontype.RunStatusRunning, nil)
		f.mustCheckpoint(held, holderA, 1, "reserve_stock", `{}`)
		f.fail(held, klaxontype.RunStatusCompensating, failedAttempt(held, holderA))
		if entries := f.dlqList(&store.DLQListParams{}); len(entries) != 0 {
			t.Errorf("a compensating run has entries %v; want none until it is dead", entryIDs(entries))
		}
		f.compensate(held, 1, "", time.Now())

		// Going dead after compensating records no new attempt; the entry
		// still has the one that started the compensation.
		entryID := f.kill(held, permanentFailure(), nil)
		checkIDs(t, "entries", entryIDs(f.dlqList(&store.DLQListParams{})), entryID)
		entry := f.entry(entryID)
		if entry.State != klaxontype.DeadLetterOpen || entry.Class != klaxontype.ClassPermanent {
			t.Errorf("entry is %s of class %s; want open, permanent", entry.State, entry.Class)
		}
		if len(entry.Attempts) != 1 {
			t.Errorf("entry has %d attempts; want 1", len(entry.Attempts))
		}
	})

	t.Run("StaleHolderCreatesNoEntry", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		stale, current := f.takeOver()
		deadLetter := newDeadLetter()
		err := f.store.RunFail(f.ctx, &store.RunFailParams{
			Lease: leaseOf(stale), Holder: holderA, Attempt: failedAttempt(stale, holderA),
			Next: klaxontype.RunStatusDead, Failure: permanentFailure(), DeadLetter: deadLetter,
		})
		checkErrorIs(t, "RunFail to dead by the stale holder", err, klaxontype.ErrLeaseLost)
		if entries := f.dlqList(&store.DLQListParams{}); len(entries) != 0 {
			t.Errorf("a fenced RunFail created entries %v", entryIDs(entries))
		}
		_, err = f.store.DLQGet(f.ctx, deadLetter.ID)
		checkErrorIs(t, "DLQGet of the fenced entry", err, klaxontype.ErrNotFound)
		if got := f.get(current.ID); got.Status != klaxontype.RunStatusRunning {
			t.Errorf("run is %s; want still running under holderB", got.Status)
		}
	})

	t.Run("DeadRunNeedsEntry", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		held := f.runIn(klaxontype.RunStatusRunning, nil)
		for _, deadLetter := range []*store.DeadLetterParams{nil, {Channel: reviewChannel}, {ID: newEntryID()}} {
			err := f.store.RunFail(f.ctx, &store.RunFailParams{
				Lease: leaseOf(held), Holder: holderA, Attempt: failedAttempt(held, holderA),
				Next: klaxontype.RunStatusDead, Failure: permanentFailure(), DeadLetter: deadLetter,
			})
			if err == nil {
				t.Errorf("RunFail to dead with entry %+v succeeded; want it refused without an entry ID and channel", deadLetter)
			}
		}
		checkRunUnchanged(t, "refused RunFail to dead", f.get(held.ID), held)
		if entries := f.dlqList(&store.DLQListParams{}); len(entries) != 0 {
			t.Errorf("refused RunFail to dead created entries %v", entryIDs(entries))
		}
		if attempts := f.attempts(held.ID); len(attempts) != 0 {
			t.Errorf("refused RunFail to dead recorded %d attempts", len(attempts))
		}
	})

	t.Run("GetUnknownEntry", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		_, err := f.store.DLQGet(f.ctx, newEntryID())
		checkErrorIs(t, "DLQGet of an unknown entry", err, klaxontype.ErrNotFound)
	})
}

// death describes how deadRun makes a run die.
type death struct {
	// Run is the run to enqueue: of testWorkflow with a small input unless it
	// says otherwise.
	Run store.RunEnqueueParams
	// Steps are checkpointed, from sequence 1, before the run fails.
	Steps []string
	// Failure is the run's terminal failure; nil means a permanent failure of
	// a step "summarize" right after Steps.
	Failure *klaxontype.RunFailure
	// DeadLetter is the new entry; nil means a new one on reviewChannel.
	DeadLetter *store.DeadLetterParams
}

// deadRun enqueues a run, lets holderA checkpoint its steps and fail for good,
// and returns the dead run and its entry's ID. No other run of the workflow
// may be claimable, as holderA claims the next one.
func (f *fixture) deadRun(d death) (*klaxontype.Run, string) {
	f.t.Helper()
	run := f.enqueue(&d.Run)
	held := f.claimRun(run, holderA, longLease).Run
	for i, name := range d.Steps {
		f.mustCheckpoint(held, holderA, i+1, name, fmt.Sprintf(`{"step": %q}`, name))
	}
	failure := d.Failure
	if failure == nil {
		failure = &klaxontype.RunFailure{
			Class: klaxontype.ClassPermanent, Reason: "400 Bad Request: prompt too long for the model",
			Step: "summarize", StepSeq: len(d.Steps) + 1,
		}
	}
	entryID := f.kill(held, failure, d.DeadLetter, attemptFailing(held, failure))
	return f.get(run.ID), entryID
}

// kill moves a run its holder holds (running or compensating) to dead with the
// failure and the attempts given, and returns the new entry's ID.
func (f *fixture) kill(held *klaxontype.Run, failure *klaxontype.RunFailure, deadLetter *store.DeadLetterParams, attempt ...*klaxontype.Attempt) string {
	f.t.Helper()
	if deadLetter == nil {
		deadLetter = newDeadLetter()
	}
	params := &store.RunFailParams{
		Lease: leaseOf(held), Holder: held.LeaseHolder,
		Next: klaxontype.RunStatusDead, Failure: failure, DeadLetter: deadLetter,
	}
	if len(attempt) > 0 {
		params.Attempt = attempt[0]
	}
	if err := f.store.RunFail(f.ctx, params); err != nil {
		f.t.Fatalf("RunFail of run %s to dead: %v", held.ID, err)
	}
	return deadLetter.ID
}

// fail records a failed attempt of a held run and moves it to next, retrying
// at once or compensating.
func (f *fixture) fail(held *klaxontype.Run, next klaxontype.RunStatus, attempt *klaxontype.Attempt) {
	f.t.Helper()
	params := &store.RunFailParams{Lease: leaseOf(held), Holder: held.LeaseHolder, Attempt: attempt, Next: next}
	if next == klaxontype.RunStatusRetrying {
		params.RetryAt = time.Now()
	} else {
		params.Failure = permanentFailure()
	}
	if err := f.store.RunFail(f.ctx, params); err != nil {
		f.t.Fatalf("RunFail of run %s to %s: %v", held.ID, next, err)
	}
}

// attemptFailing is the attempt of a held run that ended in failure.
func attemptFailing(held *klaxontype.Run, failure *klaxontype.RunFailure) *klaxontype.Attempt {
	return &klaxontype.Attempt{
		RunID: held.ID, Attempt: held.Attempt, At: time.Now(), Worker: held.LeaseHolder,
		Step: failure.Step, StepSeq: failure.StepSeq, Class: failure.Class,
		Message: failure.Reason, ClassifiedBy: "error", Duration: 120 * time.Millisecond,
	}
}

// entry returns an entry that must exist, with its attempts and deliveries.
func (f *fixture) entry(id string) *klaxontype.DeadLetter {
	f.t.Helper()
	entry, err := f.store.DLQGet(f.ctx, id)
	if err != nil {
		f.t.Fatalf("DLQGet %s: %v", id, err)
	}
	if entry.ID != id {
		f.t.Fatalf("DLQGet %s returned entry %s", id, entry.ID)
	}
	return entry
}

// dlqList returns the entries DLQList finds.
func (f *fixture) dlqList(params *store.DLQListParams) []*klaxontype.DeadLetter {
	f.t.Helper()
	entries, err := f.store.DLQList(f.ctx, params)
	if err != nil {
		f.t.Fatalf("DLQList %+v: %v", params, err)
	}
	return entries
}

// checkEntities reports got unless it holds exactly the labels of want; no
// labels may come back as nil or empty.
func checkEntities(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if !maps.Equal(got, want) {
		t.Errorf("%s: %v; want %v", what, got, want)
	}
}

// checkEntryUnchanged reports any difference between two readings of an entry,
// such as one a refused action must not have changed.
func checkEntryUnchanged(t *testing.T, what string, got, before *klaxontype.DeadLetter) {
	t.Helper()
	g, b := *got, *before
	if bytes.Equal(g.Input, b.Input) {
		g.Input = b.Input
	}
	if bytes.Equal(g.OutputSchema, b.OutputSchema) {
		g.OutputSchema = b.OutputSchema
	}
	if len(g.Entities) == 0 && len(b.Entities) == 0 {
		g.Entities = b.Entities
	}
	if !reflect.DeepEqual(g, b) {
		t.Errorf("%s changed the entry:\n got  %+v\n want %+v", what, g, b)
	}
}

// withoutDetails is an entry as DLQList returns it: without its attempts and
// deliveries.
func withoutDetails(entry *klaxontype.DeadLetter) *klaxontype.DeadLetter {
	e := *entry
	e.Attempts, e.Deliveries = nil, nil
	return &e
}

func entryIDs(entries []*klaxontype.DeadLetter) []string {
	ids := make([]string, len(entries))
	for i, entry := range entries {
		ids[i] = entry.ID
	}
	return ids
}
