package klaxon_test

import (
	"context"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/internal/pipelinebench"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

// BenchmarkPipeline measures 5-step no-op workflows on SQLite with
// synchronous=FULL at several concurrencies (internal/pipelinebench, which
// the metrics and tracing benchmarks measure their hooks against). One op is
// one step; the runs are enqueued before the timer starts. It reports steps/s
// and the p50 and p99 latency of a step's checkpoint (queued to durable).
func BenchmarkPipeline(b *testing.B) {
	pipelinebench.Benchmark(b, nil)
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

// BenchmarkPipelineEncryption measures the pipeline on SQLite at 256
// concurrent runs without keys and with a key ring (every input and output
// sealed with AES-256-GCM), side by side; run it with -count to alternate
// them.
func BenchmarkPipelineEncryption(b *testing.B) {
	ring, err := store.ParseKeyring("bench:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("keys=none", func(b *testing.B) { pipelinebench.RunOnStore(b, 256, nil) })
	b.Run("keys=aes256gcm", func(b *testing.B) {
		pipelinebench.RunOnStore(b, 256, &sqlite.Options{Keys: ring})
	})
}
