package klaxon_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// Stop lets a step that finishes within the grace period checkpoint, cancels
// one that does not, and releases its run so another worker takes it at once,
// without counting a failed attempt.
func TestStopReleasesUnfinishedRuns(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var firstWorker atomic.Bool
	firstWorker.Store(true)
	started := make(chan struct{}, 2)
	wf := klaxon.NewWorkflow("long", func(ctx context.Context, slow bool) (string, error) {
		return klaxon.Step(ctx, "work", func(ctx context.Context) (string, error) {
			if !firstWorker.Load() {
				return "finished by the second worker", nil
			}
			started <- struct{}{}
			if !slow {
				time.Sleep(50 * time.Millisecond) // finishes within the grace period
				return "finished in grace", nil
			}
			<-ctx.Done() // outlasts the grace period
			return "", ctx.Err()
		})
	})
	config := fastConfig()
	// Long enough for the quick run's 50 ms step and its commits on a loaded
	// machine; the slow run waits it out either way.
	config.ShutdownGrace = 2 * time.Second
	client, _ := klaxon.NewClient(st, config)
	_ = client.Register(wf)
	ctx := context.Background()
	quick, _ := wf.Enqueue(ctx, client, false)
	slow, _ := wf.Enqueue(ctx, client, true)
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	<-started
	<-started
	if err := client.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	firstWorker.Store(false)

	if run, _ := client.Run(ctx, quick.Run.ID); run.Status != klaxontype.RunStatusCompleted {
		t.Fatalf("the run that finished within grace is %s", run.Status)
	}
	released, _ := client.Run(ctx, slow.Run.ID)
	if released.Status != klaxontype.RunStatusPending || released.Attempt != 0 || released.LeaseHolder != "" {
		t.Fatalf("released run: status %s attempt %d holder %q; want pending, 0, none", released.Status, released.Attempt, released.LeaseHolder)
	}
	if events := eventTypes(t, st, slow.Run.ID); !containsInOrder(events, "run.claimed", "lease.released") {
		t.Fatalf("events = %v", events)
	}

	second := startClient(t, st, nil, wf)
	out, err := wf.Await(ctx, second, slow.Run.ID)
	if err != nil || out != "finished by the second worker" {
		t.Fatalf("after release: %q, %v", out, err)
	}
	if run, _ := second.Run(ctx, slow.Run.ID); run.Attempt != 1 {
		t.Fatalf("attempt = %d after release and one more claim, want 1", run.Attempt)
	}
}
