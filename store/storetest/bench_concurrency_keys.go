package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/store"
)

// BenchClaimsPastWaitingKeyRuns measures claiming due runs of one workflow,
// 32 a claim, in a store that also holds size runs of another workflow
// under one concurrency key limited to 1 (one holds the slot, the rest
// wait for it, parked by claims and RunsAdmit as workers park them),
// against a store that holds none.
func BenchClaimsPastWaitingKeyRuns(b *testing.B, open func(b *testing.B) store.Store, size int) {
	for _, n := range []int{0, size} {
		b.Run(fmt.Sprintf("waiting=%d", n), func(b *testing.B) {
			st := open(b)
			defer st.Close()
			parkUnderOneKey(b, st, n)
			measureClaims(b, st, 0, testWorkflow, "fulfil")
		})
	}
}

// parkUnderOneKey enqueues n runs of workflow fulfil, claims them and
// judges them under one key limited to 1: one holds the slot, the rest
// wait for it.
func parkUnderOneKey(b *testing.B, st store.Store, n int) {
	b.Helper()
	ctx := context.Background()
	for range n {
		if _, _, err := st.RunEnqueue(ctx, &store.RunEnqueueParams{
			ID: newRunID(), Workflow: "fulfil", WorkflowVersion: 1, Input: []byte(`{"customer": "acme"}`),
		}); err != nil {
			b.Fatal(err)
		}
	}
	parked := 0
	for parked < n {
		claimed, err := st.RunsClaim(ctx, &store.RunsClaimParams{
			Holder: holderB, Workflows: []string{"fulfil"}, Limit: 256, LeaseDuration: time.Hour,
		})
		if err != nil || len(claimed) == 0 {
			b.Fatalf("claiming runs to park: %d, %v; %d of %d judged", len(claimed), err, parked, n)
		}
		runs := make([]store.RunAdmission, len(claimed))
		for i, c := range claimed {
			runs[i] = store.RunAdmission{Lease: store.Lease{RunID: c.Run.ID, Epoch: c.Run.Epoch}, Key: "acme", Limit: 1}
		}
		if _, err := st.RunsAdmit(ctx, &store.RunsAdmitParams{Holder: holderB, Runs: runs}); err != nil {
			b.Fatal(err)
		}
		parked += len(claimed)
	}
}
