package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

func testClose(t *testing.T, h *harness) {
	t.Run("CloseTwice", func(t *testing.T) {
		t.Parallel()
		f := h.unmanagedFixture(t)
		if err := f.store.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := f.store.Close(); err != nil {
			t.Fatalf("a second Close: %v; want nothing done", err)
		}
	})
	t.Run("ClosedStoreRefusesUse", func(t *testing.T) {
		t.Parallel()
		f := h.unmanagedFixture(t)
		held := f.runIn(klaxontype.RunStatusRunning, nil)
		if err := f.store.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		_, _, err := f.store.RunEnqueue(f.ctx, &store.RunEnqueueParams{
			ID: newRunID(), Workflow: testWorkflow, WorkflowVersion: 1, Input: []byte(`{}`), Actor: "client",
		})
		checkErrorIs(t, "RunEnqueue after Close", err, klaxontype.ErrClosed)
		err = f.checkpoint(held, holderA, 1, "fetch", `{}`)
		checkErrorIs(t, "StepCheckpoint after Close", err, klaxontype.ErrClosed)
		_, err = f.store.RunGet(f.ctx, held.ID)
		checkErrorIs(t, "RunGet after Close", err, klaxontype.ErrClosed)
		_, err = f.store.RunsClaim(f.ctx, &store.RunsClaimParams{Holder: holderB, Workflows: []string{testWorkflow}, Limit: 1, LeaseDuration: longLease})
		checkErrorIs(t, "RunsClaim after Close", err, klaxontype.ErrClosed)
	})

	t.Run("CloseDuringWrites", func(t *testing.T) {
		t.Parallel()
		f := h.unmanagedFixture(t)
		held := f.runIn(klaxontype.RunStatusRunning, nil)
		var wg sync.WaitGroup
		for worker := range 8 {
			wg.Go(func() {
				for i := range 20 {
					err := f.checkpoint(held, holderA, worker*100+i+1, "step", `{}`)
					if errors.Is(err, klaxontype.ErrClosed) {
						return
					}
					if err != nil {
						t.Errorf("StepCheckpoint while closing: %v; want success or ErrClosed", err)
						return
					}
				}
			})
		}
		time.Sleep(5 * time.Millisecond)
		if err := f.store.Close(); err != nil {
			t.Errorf("Close during writes: %v", err)
		}
		wg.Wait()
	})
}
