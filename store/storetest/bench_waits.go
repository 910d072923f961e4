package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// BenchWaitingWorkflow is the workflow of the waiting runs a store's
// benchmark seeds, and of the pending runs BenchClaimsPastWaitingRuns claims:
// the same, so that a claim walks the index where they all are.
const BenchWaitingWorkflow = testWorkflow

// BenchSeed fills a store, straight in SQL, with n runs of
// BenchWaitingWorkflow: waiting on a sleep due at dueAt, or (waiting false)
// completed, the control of the same size that no claim looks at.
type BenchSeed func(b *testing.B, st store.Store, n int, waiting bool, dueAt time.Time)

// BenchClaimsPastWaitingRuns measures claiming pending runs, 32 a claim, in
// a store that also holds a million runs waiting on timers an hour away, and
// in one that holds a million completed runs instead: a claim must not walk
// waiting rows, so it should cost what it costs beside completed ones. (A
// bigger table costs every write a little: deeper B-trees, more pages per
// commit; that is the table's size, not the waiting rows.)
func BenchClaimsPastWaitingRuns(b *testing.B, open func(b *testing.B) store.Store, seed BenchSeed, size int) {
	for _, variant := range []struct {
		name    string
		n       int
		waiting bool
	}{{"none", 0, false}, {fmt.Sprintf("waiting=%d", size), size, true}, {fmt.Sprintf("completed=%d", size), size, false}} {
		b.Run(variant.name, func(b *testing.B) {
			st := open(b)
			defer st.Close()
			ctx := context.Background()
			if variant.n > 0 {
				seed(b, st, variant.n, variant.waiting, time.Now().Add(time.Hour))
			}
			const chunk, batch = 2048, 32
			pending := 0
			claimed := 0
			b.ResetTimer()
			for b.Loop() {
				if pending == 0 {
					b.StopTimer()
					for range chunk {
						if _, _, err := st.RunEnqueue(ctx, &store.RunEnqueueParams{
							ID: newRunID(), Workflow: BenchWaitingWorkflow, WorkflowVersion: 1, Input: []byte(`{}`),
						}); err != nil {
							b.Fatal(err)
						}
					}
					pending = chunk
					b.StartTimer()
				}
				runs, err := st.RunsClaim(ctx, &store.RunsClaimParams{
					Holder: holderA, Workflows: []string{BenchWaitingWorkflow}, Limit: batch, LeaseDuration: time.Hour,
				})
				if err != nil || len(runs) != batch {
					b.Fatalf("claimed %d runs, %v; want %d pending runs", len(runs), err, batch)
				}
				for _, run := range runs {
					if run.Run.Status != klaxontype.RunStatusRunning || run.Run.Attempt != 1 || run.Run.ID[:6] == "01WAIT" {
						b.Fatalf("claimed %s at attempt %d; want pending runs only", run.Run.ID, run.Run.Attempt)
					}
				}
				pending -= batch
				claimed += batch
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(max(claimed, 1)), "µs/claim")
		})
	}
}
