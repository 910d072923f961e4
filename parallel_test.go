package klaxon_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
)

// Steps started with Go take their sequence numbers in program order, so a
// retry replays them whatever order they finished in.
func TestParallelStepsReplayInProgramOrder(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var attempt, lefts, rights atomic.Int32
	wf := klaxon.NewWorkflow("fan-out", func(ctx context.Context, _ int) (string, error) {
		n := attempt.Add(1)
		// The first time "right" finishes first; on the retry "left" does.
		leftDelay, rightDelay := 30*time.Millisecond, time.Duration(0)
		if n > 1 {
			leftDelay, rightDelay = 0, 30*time.Millisecond
		}
		left := klaxon.Go(ctx, "left", func(context.Context) (string, error) {
			lefts.Add(1)
			time.Sleep(leftDelay)
			return "L", nil
		})
		right := klaxon.Go(ctx, "right", func(context.Context) (string, error) {
			rights.Add(1)
			time.Sleep(rightDelay)
			return "R", nil
		})
		l, err := left.Await()
		if err != nil {
			return "", err
		}
		r, err := right.Await()
		if err != nil {
			return "", err
		}
		return klaxon.Step(ctx, "join", func(context.Context) (string, error) {
			if n == 1 {
				return "", errors.New("join failed once")
			}
			return l + r, nil
		})
	}, fastRetry)
	client := startClient(t, st, nil, wf)
	result, _ := wf.Enqueue(context.Background(), client, 0)
	out, err := wf.Await(context.Background(), client, result.Run.ID)
	if err != nil || out != "LR" {
		t.Fatalf("output %q, %v", out, err)
	}
	if lefts.Load() != 1 || rights.Load() != 1 {
		t.Fatalf("left ran %d times, right %d; the retry must replay both", lefts.Load(), rights.Load())
	}
	steps, _ := st.StepList(context.Background(), result.Run.ID)
	if len(steps) != 3 || steps[0].Name != "left" || steps[1].Name != "right" {
		t.Fatalf("step log %+v; want left at 1 and right at 2", steps)
	}
}
