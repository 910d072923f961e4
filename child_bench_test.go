package klaxon_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
)

// BenchmarkChildFanOut measures a parent that starts 1,000 children and
// awaits them all, on SQLite, from its enqueue to its completion: each
// operation is one whole fan-out and fan-in.
func BenchmarkChildFanOut(b *testing.B) {
	const children = 1000
	child := klaxon.NewWorkflow("bench-child", func(ctx context.Context, n int) (int, error) {
		return klaxon.Step(ctx, "echo", func(ctx context.Context) (int, error) { return n, nil })
	})
	parent := klaxon.NewWorkflow("bench-parent", func(ctx context.Context, n int) (int, error) {
		handles := make([]*klaxon.ChildRun[int], n)
		for i := range handles {
			handles[i] = klaxon.StartChild[int](ctx, "child", "bench-child", i)
		}
		outputs, err := klaxon.AwaitChildren(ctx, handles...)
		return len(outputs), err
	})
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	client, err := klaxon.NewClient(st, &klaxon.Config{Concurrency: 64, PollInterval: 5 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	if err := client.Register(child, parent); err != nil {
		b.Fatal(err)
	}
	if err := client.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = client.Stop(context.Background()) }()
	b.ResetTimer()
	for range b.N {
		result, err := parent.Enqueue(context.Background(), client, children)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		run, err := client.AwaitRun(ctx, result.Run.ID)
		cancel()
		if err != nil || run.Status != klaxontype.RunStatusCompleted {
			b.Fatalf("parent ended %v: %v", run, err)
		}
	}
}
