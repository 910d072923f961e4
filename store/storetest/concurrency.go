package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

func testConcurrency(t *testing.T, h *harness) {
	t.Run("CheckpointsOfManyRuns", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		const runs, stepsPerRun = 48, 5
		for range runs {
			f.enqueue(nil)
		}
		var held []*klaxontype.Run
		for len(held) < runs {
			claimed := f.claim(holderA, runs, longLease)
			if len(claimed) == 0 {
				t.Fatalf("claimed %d of %d available runs", len(held), runs)
			}
			for _, c := range claimed {
				held = append(held, c.Run)
			}
		}

		// Every run's steps go one after the other, as a workflow's do, while
		// all the runs go at once: the store sees many writes in flight.
		var wg sync.WaitGroup
		for _, run := range held {
			wg.Go(func() {
				for seq := 1; seq <= stepsPerRun; seq++ {
					output := fmt.Sprintf(`{"run": %q, "seq": %d}`, run.ID, seq)
					if err := f.checkpoint(run, holderA, seq, fmt.Sprintf("step-%d", seq), output); err != nil {
						t.Errorf("StepCheckpoint %d of run %s: %v", seq, run.ID, err)
						return
					}
				}
				err := f.store.RunComplete(f.ctx, &store.RunCompleteParams{
					Lease: leaseOf(run), Holder: holderA, Output: fmt.Appendf(nil, `{"run": %q}`, run.ID),
				})
				if err != nil {
					t.Errorf("RunComplete of run %s: %v", run.ID, err)
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}

		for _, run := range held {
			got := f.get(run.ID)
			if got.Status != klaxontype.RunStatusCompleted {
				t.Errorf("run %s is %s; want completed", run.ID, got.Status)
			}
			checkJSON(t, "run output", got.Output, fmt.Appendf(nil, `{"run": %q}`, run.ID))
			steps := f.steps(run.ID)
			if len(steps) != stepsPerRun {
				t.Errorf("run %s has %d steps; want %d", run.ID, len(steps), stepsPerRun)
				continue
			}
			for i, step := range steps {
				if step.RunID != run.ID || step.Seq != i+1 {
					t.Errorf("run %s step %d is seq %d of run %s", run.ID, i, step.Seq, step.RunID)
				}
				checkJSON(t, "step output", step.Output, fmt.Appendf(nil, `{"run": %q, "seq": %d}`, run.ID, i+1))
			}
			if n := len(eventsOfType(f.events(run.ID), klaxontype.EventStepCompleted)); n != stepsPerRun {
				t.Errorf("run %s has %d step.completed events; want %d", run.ID, n, stepsPerRun)
			}
		}
		f.checkCounts(testWorkflow, map[klaxontype.RunStatus]int{klaxontype.RunStatusCompleted: runs})
	})

	t.Run("ClaimsNeverShareRun", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		const runs, workers = 40, 4
		for range runs {
			f.enqueue(nil)
		}
		var (
			mu      sync.Mutex
			claims  = make(map[string][]string) // run ID → holders
			wg      sync.WaitGroup
			started = make(chan struct{})
		)
		for w := range workers {
			holder := fmt.Sprintf("worker-%d", w)
			wg.Go(func() {
				<-started
				for {
					claimed, err := f.store.RunsClaim(f.ctx, &store.RunsClaimParams{
						Holder: holder, Workflows: []string{testWorkflow}, Limit: 3, LeaseDuration: longLease,
					})
					if err != nil {
						t.Errorf("RunsClaim by %s: %v", holder, err)
						return
					}
					if len(claimed) == 0 {
						return
					}
					mu.Lock()
					for _, c := range claimed {
						claims[c.Run.ID] = append(claims[c.Run.ID], holder)
						if c.Run.LeaseHolder != holder || c.Run.Epoch != 1 {
							t.Errorf("run %s claimed by %s is held by %q at epoch %d", c.Run.ID, holder, c.Run.LeaseHolder, c.Run.Epoch)
						}
					}
					mu.Unlock()
				}
			})
		}
		close(started)
		wg.Wait()
		if leftover := f.claim(holderA, runs, longLease); len(leftover) != 0 {
			t.Errorf("%d runs were left for a later claim; every worker stopped while runs were available", len(leftover))
			for _, c := range leftover {
				claims[c.Run.ID] = append(claims[c.Run.ID], holderA)
			}
		}
		if len(claims) != runs {
			t.Errorf("%d runs claimed; want %d", len(claims), runs)
		}
		for id, holders := range claims {
			if len(holders) != 1 {
				t.Errorf("run %s claimed by %v; want one holder", id, holders)
			}
			if got := f.get(id); got.LeaseHolder != holders[0] || got.Epoch != 1 {
				t.Errorf("run %s is held by %q at epoch %d; want %q at 1", id, got.LeaseHolder, got.Epoch, holders[0])
			}
		}
	})

	t.Run("EnqueuesWithOneIdempotencyKey", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		const enqueues = 16
		var (
			mu      sync.Mutex
			created []string
			ids     = make(map[string]bool)
			wg      sync.WaitGroup
		)
		for range enqueues {
			wg.Go(func() {
				run, isNew, err := f.store.RunEnqueue(f.ctx, &store.RunEnqueueParams{
					ID: newRunID(), Workflow: testWorkflow, WorkflowVersion: 1, Input: []byte(`{}`),
					IdempotencyKey: "webhook-delivery-81", Actor: "client",
				})
				if err != nil {
					t.Errorf("RunEnqueue: %v", err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				ids[run.ID] = true
				if isNew {
					created = append(created, run.ID)
				}
			})
		}
		wg.Wait()
		if len(created) != 1 || len(ids) != 1 {
			t.Fatalf("%d concurrent enqueues with one key created %v and returned runs %v; want one run created and returned to all",
				enqueues, created, ids)
		}
		checkIDs(t, "runs", runIDs(f.list(&store.RunListParams{})), created[0])
		if events := f.events(created[0]); len(events) != 1 {
			t.Errorf("event log %v; want one run.enqueued", eventTypes(events))
		}
	})

	t.Run("ReadsBesideWrites", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		held := f.runIn(klaxontype.RunStatusRunning, nil)
		done := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			defer close(done)
			for seq := 1; seq <= 40; seq++ {
				if err := f.checkpoint(held, holderA, seq, "step", `{}`); err != nil {
					t.Errorf("StepCheckpoint %d: %v", seq, err)
					return
				}
			}
		})
		// A reader never sees a step log go backwards or a step without its
		// output.
		for range 2 {
			wg.Go(func() {
				seen := 0
				for {
					select {
					case <-done:
						return
					default:
					}
					steps, err := f.store.StepList(f.ctx, held.ID)
					if err != nil {
						t.Errorf("StepList: %v", err)
						return
					}
					if len(steps) < seen {
						t.Errorf("step log went from %d to %d steps", seen, len(steps))
					}
					seen = len(steps)
					for _, step := range steps {
						if step.Output == nil {
							t.Errorf("step %d read without its output", step.Seq)
						}
					}
					time.Sleep(time.Millisecond)
				}
			})
		}
		wg.Wait()
		if steps := f.steps(held.ID); len(steps) != 40 {
			t.Errorf("step log has %d steps; want 40", len(steps))
		}
	})
}
