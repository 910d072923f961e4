// Package pipelinebench is the pipeline benchmark that the adapters measure
// their cost against: five-step no-op workflows on SQLite with
// synchronous=FULL, worked at a given concurrency, with the adapter's hooks
// installed or not. It is the workflow and the measurement of the root
// package's BenchmarkPipeline, through the public API, so that metrics and
// tracing benchmark themselves in their own packages and compare with that
// baseline in one test binary.
//
// It may import only the standard library, the root package, klaxontype and
// sqlite: it is for benchmarks, never for programs.
package pipelinebench

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
)

// Concurrencies are the numbers of concurrent runs each benchmark measures,
// one sub-benchmark each ("concurrency=256").
var Concurrencies = []int{1, 16, 256}

// steps are the names of the pipeline's steps, and its expected manifest.
var steps = []string{"extract", "classify", "enrich", "transform", "store"}

// pipeline is the benchmark workflow: five checkpointed steps that do nothing,
// so what is measured is the engine, the store and the hooks.
var pipeline = klaxon.NewWorkflow("noop-pipeline", func(ctx context.Context, n int) (int, error) {
	for _, name := range steps {
		var err error
		n, err = klaxon.Step(ctx, name, func(context.Context) (int, error) { return n + 1, nil })
		if err != nil {
			return 0, err
		}
	}
	return n, nil
}, klaxon.ExpectSteps(steps...))

// Benchmark runs one sub-benchmark per concurrency of Concurrencies.
// instrument, when set, adds hooks to each worker's configuration, to measure
// what they cost; a nil instrument is the baseline.
func Benchmark(b *testing.B, instrument func(b *testing.B, config *klaxon.Config)) {
	for _, concurrency := range Concurrencies {
		b.Run(fmt.Sprintf("concurrency=%d", concurrency), func(b *testing.B) {
			Run(b, concurrency, instrument)
		})
	}
}

// Run measures 5-step no-op workflows at one concurrency. One op is one step;
// the runs are enqueued before the timer starts. It reports steps/s and the
// p50 and p99 latency of a step's checkpoint (queued to durable).
func Run(b *testing.B, concurrency int, instrument func(b *testing.B, config *klaxon.Config)) {
	RunWorkflow(b, pipeline, concurrency, instrument)
}

// RunWorkflow is Run with wf, a five-step workflow that takes and returns an
// int (the pipeline with policies of its own, say), in place of the pipeline.
func RunWorkflow(b *testing.B, wf *klaxon.Workflow[int, int], concurrency int, instrument func(b *testing.B, config *klaxon.Config)) {
	runWorkflow(b, wf, concurrency, instrument, nil)
}

// RunOnStore is Run without hooks on a SQLite store opened with opts (a
// key ring, to measure encryption at rest).
func RunOnStore(b *testing.B, concurrency int, opts *sqlite.Options) {
	runWorkflow(b, pipeline, concurrency, nil, opts)
}

func runWorkflow(b *testing.B, wf *klaxon.Workflow[int, int], concurrency int, instrument func(b *testing.B, config *klaxon.Config), opts *sqlite.Options) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "klaxon.db"), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	runs := max(b.N/len(steps), 1)
	client, err := klaxon.NewClient(st, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := client.Register(wf); err != nil {
		b.Fatal(err)
	}
	enqueueConcurrently(b, client, wf, runs)

	var (
		mu        sync.Mutex
		latencies = make([]time.Duration, 0, runs*len(steps))
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
		instrument(b, config)
	}
	worker, err := klaxon.NewClient(st, config)
	if err != nil {
		b.Fatal(err)
	}
	if err := worker.Register(wf); err != nil {
		b.Fatal(err)
	}
	cpuBegan, _ := MachineCPU()
	b.ResetTimer()
	if err := worker.Start(ctx); err != nil {
		b.Fatal(err)
	}
	<-allDone
	b.StopTimer()
	elapsed := b.Elapsed()
	ReportCPUPerStep(b, cpuBegan, runs*len(steps))
	_ = worker.Stop(ctx)

	b.ReportMetric(float64(runs*len(steps))/elapsed.Seconds(), "steps/s")
	slices.Sort(latencies)
	if len(latencies) > 0 {
		b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
	}
}

// enqueueConcurrently enqueues runs from many goroutines, so that the store
// group-commits them.
func enqueueConcurrently(b *testing.B, client *klaxon.Client, wf *klaxon.Workflow[int, int], runs int) {
	b.Helper()
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range 64 {
		wg.Go(func() {
			for next.Add(1) <= int64(runs) {
				if _, err := wf.Enqueue(context.Background(), client, 0); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
