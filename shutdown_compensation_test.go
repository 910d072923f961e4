package klaxon_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// A graceful stop during a compensation does not record it as failed: the run
// is released and the next worker runs the compensation.
func TestShutdownLeavesCompensationToNextWorker(t *testing.T) {
	st := openStore(t)
	var mu sync.Mutex
	var calls []string
	inUndo := make(chan struct{}, 1)
	wf := klaxon.NewWorkflow("undo-slow", func(ctx context.Context, _ struct{}) (string, error) {
		if _, err := klaxon.Step(ctx, "reserve", func(context.Context) (string, error) { return "R", nil },
			klaxon.Compensate(func(ctx context.Context, _ string) error {
				mu.Lock()
				calls = append(calls, "undo")
				first := len(calls) == 1
				mu.Unlock()
				if first {
					inUndo <- struct{}{}
					<-ctx.Done() // a slow refund API, cut short by the stop
					return ctx.Err()
				}
				return nil
			})); err != nil {
			return "", err
		}
		return klaxon.Step(ctx, "charge", func(context.Context) (string, error) { return "", klaxon.Permanent(errors.New("declined")) })
	}, fastRetry)
	config := fastConfig()
	config.ShutdownGrace = 100 * time.Millisecond
	client, _ := klaxon.NewClient(st, config)
	_ = client.Register(wf)
	_ = client.Start(context.Background())
	result, _ := wf.Enqueue(context.Background(), client, struct{}{})
	<-inUndo
	_ = client.Stop(context.Background())
	run, _ := st.RunGet(context.Background(), result.Run.ID)
	steps, _ := st.StepList(context.Background(), run.ID)
	for _, s := range steps {
		t.Logf("after stop: run %s; step %s %s %q", run.Status, s.Name, s.Status, s.CompensationError)
	}
	second := startClient(t, st, nil, wf)
	run = awaitRun(t, second, run.ID)
	mu.Lock()
	t.Logf("final: %s %+v; compensation calls %v", run.Status, run.Failure, calls)
	mu.Unlock()
	if steps[0].Status == klaxontype.StepStatusCompensationFailed {
		t.Fatalf("graceful shutdown recorded the interrupted compensation as failed for good")
	}
}
