package klaxon_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// BenchmarkBulkReplay measures replaying 10,000 dead-letter entries selected by
// a class filter, in resume mode, the way an operator would after a fix. One
// op is the whole bulk replay; the 10,000 runs are made to die before the
// timer starts. Run with -benchtime 1x (see docs/benchmarks.md).
func BenchmarkBulkReplay(b *testing.B) {
	const entries = 10_000
	b.StopTimer()
	for range b.N {
		st := openStore(b)
		ctx := context.Background()
		wf := klaxon.NewWorkflow("bulk-bench", func(ctx context.Context, _ int) (int, error) {
			return klaxon.Step(ctx, "call", func(context.Context) (int, error) {
				return 0, klaxon.Permanent(errors.New("bug fixed by the next deploy"))
			})
		})
		deaths := make(chan struct{}, entries)
		worker, err := klaxon.NewClient(st, &klaxon.Config{
			Concurrency: 256, PollInterval: 5 * time.Millisecond,
			OnAttempt: func(o *klaxontype.AttemptOutcome) {
				if o.Result == klaxontype.AttemptDead {
					deaths <- struct{}{}
				}
			},
		})
		if err != nil {
			b.Fatal(err)
		}
		_ = worker.Register(wf)
		enqueueConcurrentlyTo(b, worker, wf, entries)
		if err := worker.Start(ctx); err != nil {
			b.Fatal(err)
		}
		for range entries {
			<-deaths
		}
		_ = worker.Stop(ctx)
		operator, _ := klaxon.NewClient(st, nil)
		filter := &klaxon.DeadLetterFilter{Classes: []klaxontype.FailureClass{klaxontype.ClassPermanent}}

		b.StartTimer()
		result, err := operator.ReplayMatching(ctx, filter, klaxon.ReplayOptions{Actor: "bench"}, false)
		b.StopTimer()
		if err != nil || result.Replayed != entries {
			b.Fatalf("replayed %+v, %v", result.Replayed, err)
		}
	}
	b.ReportMetric(float64(entries)/(b.Elapsed().Seconds()/float64(b.N)), "entries/s")
}

// enqueueConcurrentlyTo enqueues n runs of wf from many goroutines.
func enqueueConcurrentlyTo(b *testing.B, client *klaxon.Client, wf *klaxon.Workflow[int, int], n int) {
	b.Helper()
	errs := make(chan error, 64)
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	for range 64 {
		go func() {
			for i := range next {
				if _, err := wf.Enqueue(context.Background(), client, i); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 64 {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
}
