package storetest

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// testDLQReplay checks the three replay modes, what each keeps and discards,
// and that one entry is replayed once however many ask at the same time.
func testDLQReplay(t *testing.T, h *harness) {
	t.Run("Resume", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		// The run fails once, is retried, and dies in its third step.
		run := f.enqueue(&store.RunEnqueueParams{Input: []byte(`{"document_id": 42}`)})
		held := f.claimRun(run, holderA, longLease).Run
		f.mustCheckpoint(held, holderA, 1, "fetch", `{"pages": 3}`)
		f.fail(held, klaxontype.RunStatusRetrying, failedAttempt(held, holderA))
		held = f.claimRun(run, holderA, longLease).Run
		f.mustCheckpoint(held, holderA, 2, "chunk", `{"chunks": 9}`)
		failure := &klaxontype.RunFailure{Class: klaxontype.ClassContextOverflow, Reason: "prompt of 140k tokens exceeds 128k", Step: "summarize", StepSeq: 3}
		entryID := f.kill(held, failure, nil, attemptFailing(held, failure))
		dead, stepsBefore := f.get(run.ID), f.steps(run.ID)

		before := time.Now()
		replayed, err := f.store.DLQReplay(f.ctx, &store.DLQReplayParams{EntryID: entryID, Mode: klaxontype.ReplayResume, Actor: "alice@example.com"})
		after := time.Now()
		if err != nil {
			t.Fatalf("DLQReplay resume: %v", err)
		}
		checkReplayed(t, replayed, klaxontype.ReplayResume, run.ID, "alice@example.com", before, after)
		checkEntryUnchanged(t, "DLQGet after the replay", withoutDetails(f.entry(entryID)), withoutDetails(replayed))

		got := f.get(run.ID)
		checkReopened(t, got, dead)
		if got.AttemptOffset != 2 || got.Attempt != 2 {
			t.Errorf("resumed run: attempt %d, attempt offset %d; want 2 and 2, a new retry budget", got.Attempt, got.AttemptOffset)
		}
		if got.StepGeneration != dead.StepGeneration {
			t.Errorf("resumed run is at step generation %d; want %d, the same idempotency keys", got.StepGeneration, dead.StepGeneration)
		}
		checkJSON(t, "resumed run's input", got.Input, []byte(`{"document_id": 42}`))
		checkStepLogEqual(t, "resume", f.steps(run.ID), stepsBefore)
		checkEvent(t, "resume", checkOneEvent(t, "resume", f.events(run.ID), klaxontype.EventDLQReplayed),
			klaxontype.Event{RunID: run.ID, Actor: "alice@example.com"})

		// The run is claimable again, with the steps it completed.
		c := f.claimRun(run, holderB, longLease)
		if c.Run.Attempt != 3 || c.Run.Epoch <= dead.Epoch {
			t.Errorf("resumed run claimed at attempt %d, epoch %d; want attempt 3, epoch above %d", c.Run.Attempt, c.Run.Epoch, dead.Epoch)
		}
		checkStepLogEqual(t, "claim after the resume", c.Steps, stepsBefore)
	})

	t.Run("ResumeWithInput", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		run, entryID := f.deadRun(death{Run: store.RunEnqueueParams{Input: []byte(`{"document_id": 42}`)}, Steps: []string{"fetch"}})
		edited := []byte(`{"document_id": 42, "max_tokens": 2000}`)
		if _, err := f.store.DLQReplay(f.ctx, &store.DLQReplayParams{
			EntryID: entryID, Mode: klaxontype.ReplayResume, Input: edited, Actor: "alice",
		}); err != nil {
			t.Fatalf("DLQReplay resume with input: %v", err)
		}
		got := f.get(run.ID)
		checkJSON(t, "resumed run's input", got.Input, edited)
		if got.Status != klaxontype.RunStatusPending {
			t.Errorf("run is %s; want pending", got.Status)
		}
		// The entry keeps the input the run died with.
		checkJSON(t, "entry input after the replay", f.entry(entryID).Input, []byte(`{"document_id": 42}`))
		if steps := f.steps(run.ID); len(steps) != 1 {
			t.Errorf("resumed run has %d steps; want the one it completed", len(steps))
		}
	})

	t.Run("FromStep", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		run, entryID := f.deadRun(death{
			Steps:   []string{"fetch", "chunk", "summarize"},
			Failure: &klaxontype.RunFailure{Class: klaxontype.ClassSemantic, Reason: "SKU X-99 is not in the catalogue", Step: "publish", StepSeq: 4},
		})
		dead, stepsBefore, eventsBefore := f.get(run.ID), f.steps(run.ID), f.events(run.ID)

		before := time.Now()
		replayed, err := f.store.DLQReplay(f.ctx, &store.DLQReplayParams{
			EntryID: entryID, Mode: klaxontype.ReplayFromStep, Step: "chunk", Actor: "bob",
		})
		after := time.Now()
		if err != nil {
			t.Fatalf("DLQReplay from-step: %v", err)
		}
		checkReplayed(t, replayed, klaxontype.ReplayFromStep, run.ID, "bob", before, after)
		got := f.get(run.ID)
		checkReopened(t, got, dead)
		if got.StepGeneration != dead.StepGeneration+1 {
			t.Errorf("run is at step generation %d after a from-step replay; want %d", got.StepGeneration, dead.StepGeneration+1)
		}
		if got.AttemptOffset != dead.Attempt {
			t.Errorf("attempt offset %d; want %d", got.AttemptOffset, dead.Attempt)
		}
		// The steps before chunk stay; chunk and every later one are gone.
		checkStepLogEqual(t, "from-step", f.steps(run.ID), stepsBefore[:1])
		checkEvent(t, "from-step", checkOneEvent(t, "from-step", f.events(run.ID), klaxontype.EventDLQReplayed),
			klaxontype.Event{RunID: run.ID, Actor: "bob"})

		// The next attempt runs chunk again, in the sequence number it had.
		c := f.claimRun(run, holderB, longLease)
		checkStepLogEqual(t, "claim after from-step", c.Steps, stepsBefore[:1])
		f.mustCheckpoint(c.Run, holderB, 2, "chunk", `{"chunks": 11}`)
		if steps := f.steps(run.ID); len(steps) != 2 {
			t.Errorf("step log after chunk ran again has %d steps; want 2", len(steps))
		} else {
			checkJSON(t, "chunk's new output", steps[1].Output, []byte(`{"chunks": 11}`))
		}
		// The replay discarded steps, not their history: the event log keeps
		// every event it had, in its order, and the step run again adds its own.
		eventsAfter := f.events(run.ID)
		if len(eventsAfter) < len(eventsBefore) || !reflect.DeepEqual(eventsAfter[:len(eventsBefore)], eventsBefore) {
			t.Errorf("the event log after a from-step replay does not begin with the log before it:\nbefore %s\nafter  %s",
				eventTypes(eventsBefore), eventTypes(eventsAfter))
		}
		if completed := eventsOfType(eventsAfter, klaxontype.EventStepCompleted); len(completed) != 4 {
			t.Errorf("%d step.completed events after chunk ran again; want 4 (fetch, chunk, summarize, chunk): %s",
				len(completed), eventTypes(eventsAfter))
		}
		for i := 1; i < len(eventsAfter); i++ {
			if eventsAfter[i].ID <= eventsAfter[i-1].ID {
				t.Errorf("event %d has ID %d after %d: the log is not in ID order", i, eventsAfter[i].ID, eventsAfter[i-1].ID)
			}
		}
	})

	t.Run("Restart", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		entities := map[string]string{"document_id": "42", "tenant": "acme"}
		run, entryID := f.deadRun(death{
			Run:   store.RunEnqueueParams{WorkflowVersion: 3, Input: []byte(`{"document_id": 42}`), Entities: entities},
			Steps: []string{"fetch", "chunk"},
		})
		dead, stepsBefore := f.get(run.ID), f.steps(run.ID)

		newID := newRunID()
		edited := []byte(`{"document_id": 42, "model": "larger"}`)
		before := time.Now()
		replayed, err := f.store.DLQReplay(f.ctx, &store.DLQReplayParams{
			EntryID: entryID, Mode: klaxontype.ReplayRestart, Input: edited, NewRunID: newID, Actor: "carol",
		})
		after := time.Now()
		if err != nil {
			t.Fatalf("DLQReplay restart: %v", err)
		}
		checkReplayed(t, replayed, klaxontype.ReplayRestart, newID, "carol", before, after)

		restarted := f.get(newID)
		if restarted.Status != klaxontype.RunStatusPending || restarted.ReplayOf != run.ID {
			t.Errorf("new run is %s, a replay of %q; want pending, a replay of %s", restarted.Status, restarted.ReplayOf, run.ID)
		}
		if restarted.Workflow != testWorkflow || restarted.WorkflowVersion != 3 {
			t.Errorf("new run of %s version %d; want %s version 3", restarted.Workflow, restarted.WorkflowVersion, testWorkflow)
		}
		if restarted.Attempt != 0 || restarted.Failure != nil || restarted.IdempotencyKey != "" {
			t.Errorf("new run: attempt %d, failure %+v, idempotency key %q; want a fresh run", restarted.Attempt, restarted.Failure, restarted.IdempotencyKey)
		}
		checkJSON(t, "new run's input", restarted.Input, edited)
		checkEntities(t, "new run's entities", restarted.Entities, entities)
		if steps := f.steps(newID); len(steps) != 0 {
			t.Errorf("new run has %d steps; want none", len(steps))
		}
		// The entities are searchable on the new run as on the old.
		checkIDs(t, "runs with the entities", runIDs(f.list(&store.RunListParams{Entities: entities})), newID, run.ID)

		// The dead run stays as it was, and records the replay.
		checkRunUnchanged(t, "restart", f.get(run.ID), dead)
		checkStepLogEqual(t, "dead run after the restart", f.steps(run.ID), stepsBefore)
		checkEvent(t, "restart", checkOneEvent(t, "restart", f.events(run.ID), klaxontype.EventDLQReplayed),
			klaxontype.Event{RunID: run.ID, Actor: "carol"})

		c := f.claimRun(restarted, holderB, longLease)
		if len(c.Steps) != 0 || c.Run.Attempt != 1 {
			t.Errorf("new run claimed at attempt %d with %d steps; want attempt 1, no steps", c.Run.Attempt, len(c.Steps))
		}
	})

	t.Run("RestartKeepsInput", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		_, entryID := f.deadRun(death{Run: store.RunEnqueueParams{Input: []byte(`{"document_id": 7}`)}})
		newID := newRunID()
		if _, err := f.store.DLQReplay(f.ctx, &store.DLQReplayParams{
			EntryID: entryID, Mode: klaxontype.ReplayRestart, NewRunID: newID, Actor: "carol",
		}); err != nil {
			t.Fatalf("DLQReplay restart: %v", err)
		}
		checkJSON(t, "new run's input", f.get(newID).Input, []byte(`{"document_id": 7}`))
	})

	t.Run("RefusedReplays", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		run, entryID := f.deadRun(death{Steps: []string{"fetch", "chunk"}})
		dead, stepsBefore, entryBefore := f.get(run.ID), f.steps(run.ID), f.entry(entryID)
		for _, tc := range []struct {
			name   string
			params store.DLQReplayParams
			want   error
		}{
			{"from an unknown step", store.DLQReplayParams{Mode: klaxontype.ReplayFromStep, Step: "translate"}, klaxontype.ErrInvalid},
			{"from no step", store.DLQReplayParams{Mode: klaxontype.ReplayFromStep}, klaxontype.ErrInvalid},
			{"in an unknown mode", store.DLQReplayParams{Mode: "rewind"}, klaxontype.ErrInvalid},
			{"with input that is not JSON", store.DLQReplayParams{Mode: klaxontype.ReplayResume, Input: []byte(`{"document_id": `)}, klaxontype.ErrInvalid},
			{"of an unknown entry", store.DLQReplayParams{EntryID: newEntryID(), Mode: klaxontype.ReplayResume}, klaxontype.ErrNotFound},
		} {
			params := tc.params
			if params.EntryID == "" {
				params.EntryID = entryID
			}
			params.Actor = "alice"
			_, err := f.store.DLQReplay(f.ctx, &params)
			checkErrorIs(t, "DLQReplay "+tc.name, err, tc.want)
		}
		checkRunUnchanged(t, "refused replays", f.get(run.ID), dead)
		checkStepLogEqual(t, "refused replays", f.steps(run.ID), stepsBefore)
		checkEntryUnchanged(t, "refused replays", f.entry(entryID), entryBefore)
		if n := len(eventsOfType(f.events(run.ID), klaxontype.EventDLQReplayed)); n != 0 {
			t.Errorf("refused replays recorded %d dlq.replayed events", n)
		}
	})

	for _, mode := range []klaxontype.ReplayMode{klaxontype.ReplayResume, klaxontype.ReplayRestart} {
		t.Run("ConcurrentReplays/"+string(mode), func(t *testing.T) {
			t.Parallel()
			f := h.fixture(t)
			run, entryID := f.deadRun(death{Steps: []string{"fetch"}})
			const replays = 8
			newIDs := newRunIDs(replays)
			var (
				mu      sync.Mutex
				winners []int
				wg      sync.WaitGroup
				start   = make(chan struct{})
			)
			for i := range replays {
				wg.Go(func() {
					<-start
					params := &store.DLQReplayParams{EntryID: entryID, Mode: mode, Actor: fmt.Sprintf("operator-%d", i)}
					if mode == klaxontype.ReplayRestart {
						params.NewRunID = newIDs[i]
					}
					_, err := f.store.DLQReplay(f.ctx, params)
					if err == nil {
						mu.Lock()
						winners = append(winners, i)
						mu.Unlock()
					} else {
						checkErrorIs(t, "a losing concurrent DLQReplay", err, klaxontype.ErrEntryNotOpen)
					}
				})
			}
			close(start)
			wg.Wait()
			if len(winners) != 1 {
				t.Fatalf("%d concurrent replays of one entry succeeded: %v; want exactly one", replays, winners)
			}
			winner := fmt.Sprintf("operator-%d", winners[0])
			entry := f.entry(entryID)
			if entry.State != klaxontype.DeadLetterReplayed || entry.ClosedBy != winner {
				t.Errorf("entry is %s, closed by %q; want replayed by %s", entry.State, entry.ClosedBy, winner)
			}
			checkEvent(t, "concurrent replays", checkOneEvent(t, "concurrent replays", f.events(run.ID), klaxontype.EventDLQReplayed),
				klaxontype.Event{RunID: run.ID, Actor: winner})
			if mode == klaxontype.ReplayRestart {
				checkIDs(t, "runs after concurrent restarts", runIDs(f.list(&store.RunListParams{})), newIDs[winners[0]], run.ID)
				if entry.ReplayRunID != newIDs[winners[0]] {
					t.Errorf("entry links to run %s; want the winner's %s", entry.ReplayRunID, newIDs[winners[0]])
				}
			} else if got := f.get(run.ID); got.Status != klaxontype.RunStatusPending || got.AttemptOffset != 1 {
				t.Errorf("run is %s with attempt offset %d; want pending, offset 1 (resumed once)", got.Status, got.AttemptOffset)
			}
		})
	}

	t.Run("DiesAgainAfterResume", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		run, firstID := f.deadRun(death{Run: store.RunEnqueueParams{Input: []byte(`{"document_id": 42}`)}, Steps: []string{"fetch"}})
		edited := []byte(`{"document_id": 42, "max_tokens": 2000}`)
		first, err := f.store.DLQReplay(f.ctx, &store.DLQReplayParams{EntryID: firstID, Mode: klaxontype.ReplayResume, Input: edited, Actor: "alice"})
		if err != nil {
			t.Fatalf("DLQReplay: %v", err)
		}

		held := f.claimRun(run, holderB, longLease).Run
		failure := &klaxontype.RunFailure{Class: klaxontype.ClassSemantic, Reason: "summary names no figures", Step: "summarize", StepSeq: 2}
		secondID := f.kill(held, failure, nil, attemptFailing(held, failure))

		checkIDs(t, "entries of a run that died twice", entryIDs(f.dlqList(&store.DLQListParams{})), secondID, firstID)
		checkIDs(t, "open entries", entryIDs(f.dlqList(&store.DLQListParams{States: []klaxontype.DeadLetterState{klaxontype.DeadLetterOpen}})), secondID)
		checkEntryUnchanged(t, "the second death", withoutDetails(f.entry(firstID)), withoutDetails(first))
		second := f.entry(secondID)
		if second.RunID != run.ID || second.State != klaxontype.DeadLetterOpen || second.Class != klaxontype.ClassSemantic {
			t.Errorf("second entry of run %s is %s of class %s; want run %s, open, semantic", second.RunID, second.State, second.Class, run.ID)
		}
		checkJSON(t, "second entry's input", second.Input, edited)
		if len(second.Attempts) != 2 {
			t.Errorf("second entry has %d attempts; want both of the run's", len(second.Attempts))
		}

		// The new entry is replayable in turn.
		if _, err := f.store.DLQReplay(f.ctx, &store.DLQReplayParams{EntryID: secondID, Mode: klaxontype.ReplayResume, Actor: "alice"}); err != nil {
			t.Fatalf("DLQReplay of the second entry: %v", err)
		}
		if got := f.get(run.ID); got.Status != klaxontype.RunStatusPending || got.AttemptOffset != 2 {
			t.Errorf("run is %s with attempt offset %d; want pending, offset 2", got.Status, got.AttemptOffset)
		}
	})

	t.Run("CompensatedStepsRefuseResume", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		run := f.enqueue(nil)
		held := f.claimRun(run, holderA, longLease).Run
		f.mustCheckpoint(held, holderA, 1, "reserve_stock", `{"reservation": "R-1"}`)
		f.mustCheckpoint(held, holderA, 2, "charge_card", `{"charge": "ch_1"}`)
		failure := &klaxontype.RunFailure{Class: klaxontype.ClassPermanent, Reason: "address rejected by carrier", Step: "ship", StepSeq: 3}
		err := f.store.RunFail(f.ctx, &store.RunFailParams{
			Lease: leaseOf(held), Holder: holderA, Attempt: attemptFailing(held, failure),
			Next: klaxontype.RunStatusCompensating, Failure: failure,
		})
		if err != nil {
			t.Fatalf("RunFail to compensating: %v", err)
		}
		f.compensate(held, 2, "", time.Now())
		f.compensate(held, 1, "", time.Now())
		entryID := f.kill(held, failure, nil)
		dead, stepsBefore, entryBefore := f.get(run.ID), f.steps(run.ID), f.entry(entryID)

		// Resuming would build on a reservation and a charge that were undone.
		_, err = f.store.DLQReplay(f.ctx, &store.DLQReplayParams{EntryID: entryID, Mode: klaxontype.ReplayResume, Actor: "alice"})
		checkErrorIs(t, "DLQReplay resume of a compensated run", err, klaxontype.ErrInvalid)
		_, err = f.store.DLQReplay(f.ctx, &store.DLQReplayParams{EntryID: entryID, Mode: klaxontype.ReplayFromStep, Step: "charge_card", Actor: "alice"})
		checkErrorIs(t, "DLQReplay from a step after a compensated one", err, klaxontype.ErrInvalid)
		_, err = f.store.DLQResolve(f.ctx, &store.DLQResolveParams{
			EntryID: entryID, Step: "ship", Output: []byte(`{"tracking": "1Z"}`), IdempotencyKey: stepKey(run.ID, 3, "ship"), Actor: "alice",
		})
		checkErrorIs(t, "DLQResolve of a compensated run", err, klaxontype.ErrInvalid)
		checkRunUnchanged(t, "refused replays of a compensated run", f.get(run.ID), dead)
		checkStepLogEqual(t, "refused replays of a compensated run", f.steps(run.ID), stepsBefore)
		checkEntryUnchanged(t, "refused replays of a compensated run", f.entry(entryID), entryBefore)

		// A restart starts from scratch, so it is allowed.
		newID := newRunID()
		if _, err := f.store.DLQReplay(f.ctx, &store.DLQReplayParams{
			EntryID: entryID, Mode: klaxontype.ReplayRestart, NewRunID: newID, Actor: "alice",
		}); err != nil {
			t.Fatalf("DLQReplay restart of a compensated run: %v", err)
		}
		if got := f.get(newID); got.Status != klaxontype.RunStatusPending {
			t.Errorf("restart of a compensated run is %s; want pending", got.Status)
		}
	})
}

// checkReplayed reports a replayed entry that is not linked to its replay as
// want says, or not closed by actor in the window the test measured.
func checkReplayed(t *testing.T, entry *klaxontype.DeadLetter, mode klaxontype.ReplayMode, replayRunID, actor string, before, after time.Time) {
	t.Helper()
	if entry == nil {
		t.Fatal("DLQReplay returned no entry")
	}
	if entry.State != klaxontype.DeadLetterReplayed || entry.ReplayMode != mode || entry.ReplayRunID != replayRunID || entry.ClosedBy != actor {
		t.Errorf("entry is %s by %q, replay %q as run %s; want replayed by %q, %s as run %s",
			entry.State, entry.ClosedBy, entry.ReplayMode, entry.ReplayRunID, actor, mode, replayRunID)
	}
	checkTimeBetween(t, "entry ClosedAt", entry.ClosedAt, before, after)
}

// checkReopened reports a run a replay or a resolve did not make pending and
// claimable, with its failure cleared.
func checkReopened(t *testing.T, got, dead *klaxontype.Run) {
	t.Helper()
	if got.Status != klaxontype.RunStatusPending || got.Failure != nil || got.LeaseHolder != "" {
		t.Errorf("run is %s with failure %+v, held by %q; want pending, no failure, held by nobody", got.Status, got.Failure, got.LeaseHolder)
	}
	if !got.FinishedAt.IsZero() {
		t.Errorf("run pending again still finished at %s", got.FinishedAt)
	}
	if got.ID != dead.ID || got.Workflow != dead.Workflow || got.WorkflowVersion != dead.WorkflowVersion || got.ReplayOf != "" {
		t.Errorf("reopened run %+v; want run %s of %s version %d, reopened in place", got, dead.ID, dead.Workflow, dead.WorkflowVersion)
	}
}

// checkStepLogEqual reports any difference between two readings of a step
// log.
func checkStepLogEqual(t *testing.T, what string, got, want []*klaxontype.StepRecord) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: step log has %d steps; want %d", what, len(got), len(want))
		return
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("%s: step %d:\n got  %+v\n want %+v", what, i+1, got[i], want[i])
		}
	}
}
