package storetest

import (
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

func testSteps(t *testing.T, h *harness) {
	t.Run("CheckpointStoresStep", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		held := f.runIn(klaxontype.RunStatusRunning, nil)
		started := time.Now().Add(-1500 * time.Millisecond)
		finished := started.Add(1234567 * time.Microsecond)
		err := f.store.StepCheckpoint(f.ctx, &store.StepCheckpointParams{
			Lease: leaseOf(held), Holder: holderA, Seq: 1, Name: "extract", Attempt: held.Attempt,
			IdempotencyKey: "run-key/1/extract", Output: []byte(`{"entities": ["ACME", "Globex"], "confidence": 0.93}`),
			StartedAt: started, FinishedAt: finished,
		})
		if err != nil {
			t.Fatalf("StepCheckpoint: %v", err)
		}
		steps := f.steps(held.ID)
		if len(steps) != 1 {
			t.Fatalf("step log has %d steps; want 1", len(steps))
		}
		step := steps[0]
		if step.RunID != held.ID || step.Seq != 1 || step.Name != "extract" || step.Status != klaxontype.StepStatusCompleted {
			t.Errorf("step: run %s seq %d %q %s; want run %s seq 1 \"extract\" completed", step.RunID, step.Seq, step.Name, step.Status, held.ID)
		}
		if step.Attempt != held.Attempt || step.Epoch != held.Epoch || step.IdempotencyKey != "run-key/1/extract" {
			t.Errorf("step: attempt %d epoch %d key %q; want attempt %d epoch %d key run-key/1/extract",
				step.Attempt, step.Epoch, step.IdempotencyKey, held.Attempt, held.Epoch)
		}
		checkJSON(t, "step output", step.Output, []byte(`{"entities": ["ACME", "Globex"], "confidence": 0.93}`))
		checkTimeNear(t, "StartedAt", step.StartedAt, started, precision)
		checkTimeNear(t, "FinishedAt", step.FinishedAt, finished, precision)
		if d := step.Duration(); (d - 1234567*time.Microsecond).Abs() > precision {
			t.Errorf("step duration %s; want 1.234567s", d)
		}
		if !step.CompensatedAt.IsZero() || step.CompensationError != "" {
			t.Errorf("a completed step shows compensation at %s with error %q", step.CompensatedAt, step.CompensationError)
		}

		events := f.events(held.ID)
		completed := checkOneEvent(t, "checkpoint", events, klaxontype.EventStepCompleted)
		checkEvent(t, "checkpoint", completed, klaxontype.Event{RunID: held.ID, Actor: holderA, Step: "extract", StepSeq: 1})
		if got := f.get(held.ID); got.Status != klaxontype.RunStatusRunning || got.LeaseHolder != holderA || got.Epoch != held.Epoch {
			t.Errorf("after a checkpoint the run is %s held by %q at epoch %d; want it still running under the lease", got.Status, got.LeaseHolder, got.Epoch)
		}
	})

	t.Run("StepListBySeq", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		held := f.runIn(klaxontype.RunStatusRunning, nil)
		other := f.runIn(klaxontype.RunStatusRunning, nil)
		// Parallel steps take their numbers in program order and finish in
		// any order.
		f.mustCheckpoint(held, holderA, 3, "store", `"stored"`)
		f.mustCheckpoint(held, holderA, 1, "fetch", `{"pages": 3}`)
		f.mustCheckpoint(other, holderA, 1, "fetch", `{"pages": 9}`)
		f.mustCheckpoint(held, holderA, 2, "summarize", `null`)

		steps := f.steps(held.ID)
		if len(steps) != 3 {
			t.Fatalf("step log has %d steps; want 3", len(steps))
		}
		for i, want := range []struct{ name, output string }{{"fetch", `{"pages": 3}`}, {"summarize", `null`}, {"store", `"stored"`}} {
			if steps[i].Seq != i+1 || steps[i].Name != want.name || steps[i].RunID != held.ID {
				t.Errorf("step %d: run %s seq %d %q; want run %s seq %d %q", i, steps[i].RunID, steps[i].Seq, steps[i].Name, held.ID, i+1, want.name)
			}
			checkJSON(t, want.name+" output", steps[i].Output, []byte(want.output))
		}
		if steps := f.steps(f.enqueue(nil).ID); len(steps) != 0 {
			t.Errorf("a new run's step log has %d steps", len(steps))
		}
	})

	t.Run("CheckpointWithStaleEpoch", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		stale, current := f.takeOver()

		// holderA, unaware that its lease ran out, finishes its second step.
		err := f.checkpoint(stale, holderA, 2, "summarize", `{"summary": "late"}`)
		checkErrorIs(t, "checkpoint under a stale epoch", err, klaxontype.ErrLeaseLost)
		steps := f.steps(stale.ID)
		if len(steps) != 1 || steps[0].Seq != 1 {
			t.Errorf("step log after a stale checkpoint: %d steps; want only the first", len(steps))
		}
		f.checkSuppressed("stale checkpoint", stale.ID, holderA, 1)
		if suppressed := eventsOfType(f.events(stale.ID), klaxontype.EventDuplicateSuppressed); len(suppressed) == 1 && suppressed[0].StepSeq != 2 {
			t.Errorf("duplicate.suppressed names step %d; want 2", suppressed[0].StepSeq)
		}

		// The current holder writes the same step as its own.
		f.mustCheckpoint(current, holderB, 2, "summarize", `{"summary": "on time"}`)
		steps = f.steps(stale.ID)
		if len(steps) != 2 {
			t.Fatalf("step log has %d steps; want 2", len(steps))
		}
		checkJSON(t, "the current holder's output", steps[1].Output, []byte(`{"summary": "on time"}`))
		if steps[1].Epoch != current.Epoch || steps[1].Attempt != current.Attempt {
			t.Errorf("step 2 written at epoch %d attempt %d; want %d and %d", steps[1].Epoch, steps[1].Attempt, current.Epoch, current.Attempt)
		}
		if n := len(eventsOfType(f.events(stale.ID), klaxontype.EventStepCompleted)); n != 2 {
			t.Errorf("%d step.completed events; want 2 (the refused writes have none)", n)
		}

		// A late write of a step that is already in the log is still, first of
		// all, a write by a holder that lost the run.
		err = f.checkpoint(stale, holderA, 2, "summarize", `{"summary": "later still"}`)
		checkErrorIs(t, "stale checkpoint of a step already in the log", err, klaxontype.ErrLeaseLost)
		checkJSON(t, "step 2 after a stale duplicate", f.steps(stale.ID)[1].Output, []byte(`{"summary": "on time"}`))
		f.checkSuppressed("stale checkpoints", stale.ID, holderA, 2)
	})

	t.Run("CheckpointByAnotherHolder", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		held := f.runIn(klaxontype.RunStatusRunning, nil)
		// Right epoch, wrong worker.
		err := f.checkpoint(held, holderC, 1, "fetch", `{}`)
		checkErrorIs(t, "checkpoint by a worker that does not hold the run", err, klaxontype.ErrLeaseLost)
		if steps := f.steps(held.ID); len(steps) != 0 {
			t.Errorf("step log after a refused checkpoint has %d steps", len(steps))
		}
		f.checkSuppressed("checkpoint by another holder", held.ID, holderC, 1)
	})

	t.Run("CheckpointTwiceKeepsFirst", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		held := f.runIn(klaxontype.RunStatusRunning, nil)
		f.mustCheckpoint(held, holderA, 1, "call_llm", `{"answer": "first"}`)

		err := f.checkpoint(held, holderA, 1, "call_llm", `{"answer": "second"}`)
		checkErrorIs(t, "second checkpoint of a step", err, klaxontype.ErrStepExists)
		err = f.checkpoint(held, holderA, 1, "other_name", `{"answer": "third"}`)
		checkErrorIs(t, "checkpoint of another step at a used seq", err, klaxontype.ErrStepExists)

		steps := f.steps(held.ID)
		if len(steps) != 1 {
			t.Fatalf("step log has %d steps; want 1", len(steps))
		}
		if steps[0].Name != "call_llm" {
			t.Errorf("step name %q; want the first call_llm", steps[0].Name)
		}
		checkJSON(t, "step output", steps[0].Output, []byte(`{"answer": "first"}`))
		f.checkSuppressed("second checkpoint", held.ID, holderA, 2)
		for _, event := range eventsOfType(f.events(held.ID), klaxontype.EventDuplicateSuppressed) {
			if event.StepSeq != 1 {
				t.Errorf("duplicate.suppressed names step %d; want 1", event.StepSeq)
			}
		}
		if n := len(eventsOfType(f.events(held.ID), klaxontype.EventStepCompleted)); n != 1 {
			t.Errorf("%d step.completed events; want 1", n)
		}
		// The run is still held: a refused duplicate does not cost the lease.
		f.mustCheckpoint(held, holderA, 2, "store", `{}`)
	})

	t.Run("CheckpointAfterRunEnded", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		for _, status := range []klaxontype.RunStatus{klaxontype.RunStatusCompleted, klaxontype.RunStatusDead, klaxontype.RunStatusRetrying} {
			run := f.runIn(status, nil)
			err := f.store.StepCheckpoint(f.ctx, &store.StepCheckpointParams{
				Lease: store.Lease{RunID: run.ID, Epoch: run.Epoch}, Holder: holderA, Seq: 1, Name: "fetch",
				Attempt: run.Attempt, IdempotencyKey: stepKey(run.ID, 1, "fetch"), Output: []byte(`{}`),
				StartedAt: time.Now(), FinishedAt: time.Now(),
			})
			checkErrorIs(t, "checkpoint of a "+string(status)+" run", err, klaxontype.ErrLeaseLost)
			if steps := f.steps(run.ID); len(steps) != 0 {
				t.Errorf("a %s run took a checkpoint", status)
			}
			f.checkSuppressed("checkpoint of a "+string(status)+" run", run.ID, holderA, 1)
		}
	})
}
