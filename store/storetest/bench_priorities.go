package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/store"
)

// BenchClaimsPastPrioritizedRuns measures claiming due runs, 32 a claim,
// in a store that also holds size runs of priority 100 that become due in
// five minutes, against one that holds none. It is the case the claim's
// rule pays for: a prioritized run not yet due but within 1,000 s has an
// aged time in the past, so the prioritized walk steps over it. The due
// runs are of priority 1, so that they are in the same index; a claim of
// runs of priority 0 never walks that index's rows at all.
func BenchClaimsPastPrioritizedRuns(b *testing.B, open func(b *testing.B) store.Store, size int) {
	for _, n := range []int{0, size} {
		b.Run(fmt.Sprintf("not_yet_due=%d", n), func(b *testing.B) {
			st := open(b)
			defer st.Close()
			ctx := context.Background()
			soon := time.Now().Add(5 * time.Minute)
			for range n {
				if _, _, err := st.RunEnqueue(ctx, &store.RunEnqueueParams{
					ID: newRunID(), Workflow: testWorkflow, WorkflowVersion: 1, Input: []byte(`{}`),
					AvailableAt: soon, Priority: 100,
				}); err != nil {
					b.Fatal(err)
				}
			}
			measureClaims(b, st, 1, testWorkflow)
		})
	}
}

// measureClaims measures claims of 32 due runs of workflows[0], enqueued
// 2,048 at a time with priority outside the timing, and reports µs/claim.
func measureClaims(b *testing.B, st store.Store, priority int, workflows ...string) {
	b.Helper()
	ctx := context.Background()
	const chunk, batch = 2048, 32
	pending, claimed := 0, 0
	b.ResetTimer()
	for b.Loop() {
		if pending == 0 {
			b.StopTimer()
			for range chunk {
				if _, _, err := st.RunEnqueue(ctx, &store.RunEnqueueParams{
					ID: newRunID(), Workflow: workflows[0], WorkflowVersion: 1, Input: []byte(`{}`), Priority: priority,
				}); err != nil {
					b.Fatal(err)
				}
			}
			pending = chunk
			b.StartTimer()
		}
		runs, err := st.RunsClaim(ctx, &store.RunsClaimParams{
			Holder: holderA, Workflows: workflows, Limit: batch, LeaseDuration: time.Hour,
		})
		if err != nil || len(runs) != batch {
			b.Fatalf("claimed %d runs, %v; want %d due runs", len(runs), err, batch)
		}
		pending -= batch
		claimed += batch
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(max(claimed, 1)), "µs/claim")
}
