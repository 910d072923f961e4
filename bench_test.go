package klaxon_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// noopPipeline is the benchmark workflow: five checkpointed steps that do
// nothing, so what is measured is the engine and the store.
var noopPipeline = klaxon.NewWorkflow("noop-pipeline", func(ctx context.Context, n int) (int, error) {
	for _, name := range []string{"extract", "classify", "enrich", "transform", "store"} {
		var err error
		n, err = klaxon.Step(ctx, name, func(context.Context) (int, error) { return n + 1, nil })
		if err != nil {
			return 0, err
		}
	}
	return n, nil
}, klaxon.ExpectSteps("extract", "classify", "enrich", "transform", "store"))

// BenchmarkPipeline measures 5-step no-op workflows on SQLite with
// synchronous=FULL at several concurrencies. One op is one step; the runs are
// enqueued before the timer starts. It reports steps/s and the p50 and p99
// latency of a step's checkpoint (queued to durable).
func BenchmarkPipeline(b *testing.B) {
	for _, concurrency := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("concurrency=%d", concurrency), func(b *testing.B) {
			benchmarkPipeline(b, concurrency, nil)
		})
	}
}

// benchmarkPipeline runs the benchmark; instrument, when set, adds hooks to
// the worker's configuration, to measure what they cost.
func benchmarkPipeline(b *testing.B, concurrency int, instrument func(*klaxon.Config)) {
	benchmarkWorkflow(b, noopPipeline, concurrency, instrument)
}

// benchmarkWorkflow runs the benchmark with wf, a five-step workflow.
func benchmarkWorkflow(b *testing.B, wf *klaxon.Workflow[int, int], concurrency int, instrument func(*klaxon.Config)) {
	st := openStore(b)
	ctx := context.Background()
	runs := max(b.N/5, 1)
	client, err := klaxon.NewClient(st, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := client.Register(wf); err != nil {
		b.Fatal(err)
	}
	enqueueConcurrentlyTo(b, client, wf, runs)

	var (
		mu        sync.Mutex
		latencies = make([]time.Duration, 0, runs*5)
		finished  atomic.Int64
		allDone   = make(chan struct{})
	)
	config := &klaxon.Config{
		Concurrency:  concurrency,
		PollInterval: 5 * time.Millisecond,
		OnStep: func(o *klaxontype.StepOutcome) {
			mu.Lock()
			latencies = append(latencies, o.CheckpointLatency)
			mu.Unlock()
		},
		OnAttempt: func(o *klaxontype.AttemptOutcome) {
			if o.Result != klaxontype.AttemptCompleted {
				b.Errorf("run %s: %s %v", o.RunID, o.Result, o.Err)
			}
			if finished.Add(1) == int64(runs) {
				close(allDone)
			}
		},
	}
	if instrument != nil {
		instrument(config)
	}
	worker, err := klaxon.NewClient(st, config)
	if err != nil {
		b.Fatal(err)
	}
	if err := worker.Register(wf); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	if err := worker.Start(ctx); err != nil {
		b.Fatal(err)
	}
	<-allDone
	b.StopTimer()
	elapsed := b.Elapsed()
	_ = worker.Stop(ctx)

	steps := runs * 5
	b.ReportMetric(float64(steps)/elapsed.Seconds(), "steps/s")
	slices.Sort(latencies)
	if len(latencies) > 0 {
		b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
	}
}

// enqueueConcurrently enqueues runs from many goroutines, so that the store
// group-commits them.
func enqueueConcurrently(b *testing.B, client *klaxon.Client, runs int) {
	b.Helper()
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range 64 {
		wg.Go(func() {
			for next.Add(1) <= int64(runs) {
				if _, err := noopPipeline.Enqueue(context.Background(), client, 0); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkStepOverhead measures one checkpointed no-op step, one run at a
// time: the latency a single step adds when nothing shares its commit.
func BenchmarkStepOverhead(b *testing.B) {
	st := openStore(b)
	ctx := context.Background()
	release := make(chan struct{})
	stepped := make(chan struct{})
	wf := klaxon.NewWorkflow("one-step-loop", func(ctx context.Context, steps int) (int, error) {
		for i := range steps {
			if _, err := klaxon.Step(ctx, "noop", func(context.Context) (int, error) { return i, nil }); err != nil {
				return 0, err
			}
		}
		close(stepped)
		<-release
		return steps, nil
	})
	client, err := klaxon.NewClient(st, &klaxon.Config{Concurrency: 1, PollInterval: time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	if err := client.Register(wf); err != nil {
		b.Fatal(err)
	}
	if _, err := wf.Enqueue(ctx, client, b.N); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	if err := client.Start(ctx); err != nil {
		b.Fatal(err)
	}
	<-stepped
	b.StopTimer()
	close(release)
	_ = client.Stop(ctx)
}
