package postgres_test

import (
	"context"
	"fmt"
	"github.com/klaxonhq/klaxon/internal/pipelinebench"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/postgres"
	"github.com/klaxonhq/klaxon/postgres/pgtest"
	"github.com/klaxonhq/klaxon/store"
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

// countingStore counts claims, to report how many runs a claim takes.
type countingStore struct {
	*postgres.Store
	claims, claimed, claimTime atomic.Int64
}

func (c *countingStore) RunsClaim(ctx context.Context, params *store.RunsClaimParams) ([]*store.ClaimedRun, error) {
	start := time.Now()
	claimed, err := c.Store.RunsClaim(ctx, params)
	c.claimTime.Add(int64(time.Since(start)))
	c.claims.Add(1)
	c.claimed.Add(int64(len(claimed)))
	return claimed, err
}

// BenchmarkPipeline measures 5-step no-op workflows on PostgreSQL with its
// default durability (synchronous_commit=on) at several concurrencies. One op
// is one step; the runs are enqueued before the timer starts. It reports
// steps/s and the p50 and p99 latency of a step's checkpoint.
func BenchmarkPipeline(b *testing.B) {
	for _, concurrency := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("concurrency=%d", concurrency), func(b *testing.B) {
			benchmarkPipeline(b, concurrency)
		})
	}
}

func benchmarkPipeline(b *testing.B, concurrency int) {
	benchmarkPipelineOn(b, concurrency, &postgres.Options{MaxConns: 32})
}

// BenchmarkPipelineEncryption measures the pipeline at 256 concurrent runs
// without keys and with a key ring (every input and output sealed with
// AES-256-GCM), side by side; run it with -count to alternate them.
func BenchmarkPipelineEncryption(b *testing.B) {
	ring, err := store.ParseKeyring("bench:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("keys=none", func(b *testing.B) { benchmarkPipelineOn(b, 256, &postgres.Options{MaxConns: 32}) })
	b.Run("keys=aes256gcm", func(b *testing.B) { benchmarkPipelineOn(b, 256, &postgres.Options{MaxConns: 32, Keys: ring}) })
}

func benchmarkPipelineOn(b *testing.B, concurrency int, opts *postgres.Options) {
	st := openTestStore(b, opts)
	defer st.Close()
	ctx := context.Background()
	runs := max(b.N/5, 1)
	client, err := klaxon.NewClient(st, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := client.Register(noopPipeline); err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range 64 {
		wg.Go(func() {
			for next.Add(1) <= int64(runs) {
				if _, err := noopPipeline.Enqueue(ctx, client, 0); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	checkpointServer(b)

	var (
		mu        sync.Mutex
		latencies = make([]time.Duration, 0, runs*5)
		finished  atomic.Int64
		allDone   = make(chan struct{})
	)
	counted := &countingStore{Store: st}
	worker, err := klaxon.NewClient(counted, &klaxon.Config{
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
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := worker.Register(noopPipeline); err != nil {
		b.Fatal(err)
	}
	cpuBegan, _ := pipelinebench.MachineCPU()
	b.ResetTimer()
	if err := worker.Start(ctx); err != nil {
		b.Fatal(err)
	}
	<-allDone
	b.StopTimer()
	elapsed := b.Elapsed()
	pipelinebench.ReportCPUPerStep(b, cpuBegan, runs*5)
	_ = worker.Stop(ctx)

	b.ReportMetric(float64(runs*5)/elapsed.Seconds(), "steps/s")
	if n := counted.claims.Load(); n > 0 {
		b.ReportMetric(float64(counted.claimed.Load())/float64(n), "runs/claim")
		b.ReportMetric(float64(counted.claimTime.Load())/float64(n)/1e6, "ms/claim")
	}
	slices.Sort(latencies)
	if len(latencies) > 0 {
		b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
	}
}

// checkpointServer makes the server write out what the enqueues left in its
// WAL, so that every measured phase starts at the same point of PostgreSQL's
// checkpoint cycle instead of paying for the enqueues' pages at a moment that
// differs from run to run. CHECKPOINT needs a superuser (or pg_checkpoint);
// without one the benchmark goes on and says so.
func checkpointServer(b *testing.B) {
	conn, err := pgx.Connect(b.Context(), pgtest.DatabaseURL(b))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(b.Context(), "CHECKPOINT"); err != nil {
		b.Logf("CHECKPOINT before measuring: %v; the run may start mid-cycle", err)
	}
}
