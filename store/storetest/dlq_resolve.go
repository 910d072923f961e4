package storetest

import (
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// testDLQResolve checks that a person's output for a failed step is recorded
// as the completed step and lets the run continue after it.
func testDLQResolve(t *testing.T, h *harness) {
	t.Run("Resolve", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		run, entryID := f.deadRun(death{Steps: []string{"fetch"}})
		dead, stepsBefore := f.get(run.ID), f.steps(run.ID)
		key := stepKey(run.ID, 2, "summarize")

		before := time.Now()
		resolved, err := f.store.DLQResolve(f.ctx, &store.DLQResolveParams{
			EntryID: entryID, Step: "summarize", Output: []byte(`{"summary": "Revenue grew 12%."}`),
			IdempotencyKey: key, Actor: "bob",
		})
		after := time.Now()
		if err != nil {
			t.Fatalf("DLQResolve: %v", err)
		}
		if resolved == nil {
			t.Fatal("DLQResolve returned no entry")
		}
		if resolved.State != klaxontype.DeadLetterResolved || resolved.ClosedBy != "bob" || resolved.ReplayMode != "" {
			t.Errorf("entry is %s by %q, replay %q; want resolved by bob, no replay", resolved.State, resolved.ClosedBy, resolved.ReplayMode)
		}
		checkTimeBetween(t, "entry ClosedAt", resolved.ClosedAt, before, after)
		checkEntryUnchanged(t, "DLQGet after resolving", withoutDetails(f.entry(entryID)), withoutDetails(resolved))

		steps := f.steps(run.ID)
		if len(steps) != 2 {
			t.Fatalf("step log has %d steps after resolving; want fetch and the resolved summarize", len(steps))
		}
		checkStepLogEqual(t, "resolve", steps[:1], stepsBefore)
		step := steps[1]
		if step.RunID != run.ID || step.Seq != 2 || step.Name != "summarize" || step.Status != klaxontype.StepStatusCompleted {
			t.Errorf("resolved step is %d %q of run %s, %s; want 2 \"summarize\" of run %s, completed",
				step.Seq, step.Name, step.RunID, step.Status, run.ID)
		}
		if step.ResolvedBy != "bob" || step.IdempotencyKey != key {
			t.Errorf("resolved step by %q with key %q; want by bob with key %q", step.ResolvedBy, step.IdempotencyKey, key)
		}
		if stepsBefore[0].ResolvedBy != "" {
			t.Errorf("a step that ran is resolved by %q", stepsBefore[0].ResolvedBy)
		}
		checkJSON(t, "resolved step's output", step.Output, []byte(`{"summary": "Revenue grew 12%."}`))
		checkTimeBetween(t, "resolved step's FinishedAt", step.FinishedAt, before, after)

		checkReopened(t, f.get(run.ID), dead)
		checkEvent(t, "resolve", checkOneEvent(t, "resolve", f.events(run.ID), klaxontype.EventDLQResolved),
			klaxontype.Event{RunID: run.ID, Actor: "bob", Step: "summarize", StepSeq: 2})

		// The next attempt finds both steps and carries on after them.
		c := f.claimRun(run, holderB, longLease)
		checkStepLogEqual(t, "claim after resolving", c.Steps, steps)
		f.mustCheckpoint(c.Run, holderB, 3, "publish", `{"url": "https://example.com/r/42"}`)
		if err := f.store.RunComplete(f.ctx, &store.RunCompleteParams{Lease: leaseOf(c.Run), Holder: holderB, Output: []byte(`{}`)}); err != nil {
			t.Errorf("RunComplete after resolving: %v", err)
		}
	})

	t.Run("RefusedResolves", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		inStep, inStepID := f.deadRun(death{Steps: []string{"fetch"}})
		outside, outsideID := f.deadRun(death{
			Steps:   []string{"fetch", "summarize"},
			Failure: &klaxontype.RunFailure{Class: klaxontype.ClassPartialCompletion, Reason: `expected steps missing: ["publish"]`},
		})
		// The workflow called summarize where the log has chunk: the failed
		// step's place is taken, and a resolve cannot put an output there.
		taken, takenID := f.deadRun(death{
			Steps:   []string{"fetch", "chunk"},
			Failure: &klaxontype.RunFailure{Class: klaxontype.ClassNondeterminism, Reason: `step 2 is "summarize", the log has "chunk"`, Step: "summarize", StepSeq: 2},
		})
		type reading struct {
			run   *klaxontype.Run
			steps []*klaxontype.StepRecord
			entry *klaxontype.DeadLetter
		}
		read := func(runID, entryID string) reading {
			return reading{f.get(runID), f.steps(runID), f.entry(entryID)}
		}
		before := map[string]reading{
			inStepID: read(inStep.ID, inStepID), outsideID: read(outside.ID, outsideID), takenID: read(taken.ID, takenID),
		}

		output := []byte(`{"summary": "by hand"}`)
		for _, tc := range []struct {
			name   string
			params store.DLQResolveParams
			want   error
		}{
			{"naming a completed step", store.DLQResolveParams{EntryID: inStepID, Step: "fetch", Output: output}, klaxontype.ErrInvalid},
			{"naming a step not in the run", store.DLQResolveParams{EntryID: inStepID, Step: "translate", Output: output}, klaxontype.ErrInvalid},
			{"naming no step", store.DLQResolveParams{EntryID: inStepID, Output: output}, klaxontype.ErrInvalid},
			{"with output that is not JSON", store.DLQResolveParams{EntryID: inStepID, Step: "summarize", Output: []byte(`{"summary": `)}, klaxontype.ErrInvalid},
			{"of an entry without a step", store.DLQResolveParams{EntryID: outsideID, Step: "publish", Output: output}, klaxontype.ErrInvalid},
			{"of an entry without a step, naming none", store.DLQResolveParams{EntryID: outsideID, Output: output}, klaxontype.ErrInvalid},
			{"of a step whose place in the log is taken", store.DLQResolveParams{EntryID: takenID, Step: "summarize", Output: output}, klaxontype.ErrInvalid},
			{"of an unknown entry", store.DLQResolveParams{EntryID: newEntryID(), Step: "summarize", Output: output}, klaxontype.ErrNotFound},
		} {
			params := tc.params
			params.Actor, params.IdempotencyKey = "bob", "key-by-hand"
			_, err := f.store.DLQResolve(f.ctx, &params)
			checkErrorIs(t, "DLQResolve "+tc.name, err, tc.want)
		}
		for entryID, was := range before {
			now := read(was.run.ID, entryID)
			checkRunUnchanged(t, "refused resolves", now.run, was.run)
			checkStepLogEqual(t, "refused resolves", now.steps, was.steps)
			checkEntryUnchanged(t, "refused resolves", now.entry, was.entry)
			if n := len(eventsOfType(f.events(was.run.ID), klaxontype.EventDLQResolved)); n != 0 {
				t.Errorf("refused resolves recorded %d dlq.resolved events", n)
			}
		}
	})
}
