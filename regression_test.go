package klaxon_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// A workflow body that ignores its context is abandoned at its run timeout: a
// hung body cannot hold its run forever.
func TestRunTimeoutAbandonsHungBody(t *testing.T) {
	st := openStore(t)
	release := make(chan struct{})
	defer close(release)
	wf := klaxon.NewWorkflow("hangs", func(ctx context.Context, _ struct{}) (string, error) {
		<-release // ignores ctx, outside any step
		return "late", nil
	}, klaxon.RunTimeout(100*time.Millisecond), fastRetry)
	client := startClient(t, st, nil, wf)
	result, err := wf.Enqueue(context.Background(), client, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	run, _ := client.Run(context.Background(), result.Run.ID)
	t.Logf("1.5s after enqueue, with RunTimeout 100ms: status %s attempt %d", run.Status, run.Attempt)
	if run.Status == klaxontype.RunStatusRunning {
		t.Fatalf("run still running 15x past its RunTimeout; the hung body is not abandoned")
	}
}

// A resume is refused when any kept step was compensated, even one after the
// failed step: its work was undone and must not be replayed as completed.
func TestResumeRefusesCompensatedSteps(t *testing.T) {
	st := openStore(t)
	var attempt atomic.Int32
	var mu sync.Mutex
	var undone []string
	wf := klaxon.NewWorkflow("fanout", func(ctx context.Context, _ struct{}) (string, error) {
		n := attempt.Add(1)
		_, errA := klaxon.Step(ctx, "charge", func(context.Context) (string, error) {
			if n == 1 {
				return "", klaxon.Permanent(errors.New("card declined"))
			}
			return "charged", nil
		})
		b, errB := klaxon.Step(ctx, "reserve", func(context.Context) (string, error) { return "R1", nil },
			klaxon.Compensate(func(_ context.Context, out string) error {
				mu.Lock()
				undone = append(undone, out)
				mu.Unlock()
				return nil
			}))
		if errA != nil {
			return "", errA
		}
		if errB != nil {
			return "", errB
		}
		return b, nil
	}, fastRetry)
	client := startClient(t, st, nil, wf)
	result, _ := wf.Enqueue(context.Background(), client, struct{}{})
	run := awaitRun(t, client, result.Run.ID)
	if run.Status != klaxontype.RunStatusDead {
		t.Fatalf("first: %s", run.Status)
	}
	entries, _ := client.DeadLetters(context.Background(), &klaxon.DeadLetterFilter{})
	steps, _ := st.StepList(context.Background(), run.ID)
	for _, s := range steps {
		t.Logf("before replay: step %d %s %s", s.Seq, s.Name, s.Status)
	}
	if _, err := client.Replay(context.Background(), entries[0].ID, klaxon.ReplayOptions{Mode: klaxontype.ReplayResume}); err != nil {
		t.Logf("resume refused: %v", err)
		return
	}
	run = awaitRun(t, client, run.ID)
	steps, _ = st.StepList(context.Background(), run.ID)
	for _, s := range steps {
		t.Logf("after replay: step %d %s %s", s.Seq, s.Name, s.Status)
	}
	t.Logf("run %s output %s; compensations ran: %v", run.Status, run.Output, undone)
	if run.Status == klaxontype.RunStatusCompleted {
		t.Fatalf("resume accepted and the run completed on a step whose work was compensated (undone)")
	}
}

// Client.Start checks its configuration before it writes anything: a refused
// Start leaves no workflow registered that nobody will run.
func TestStartRefusesBeforeRegistering(t *testing.T) {
	st := openStore(t)
	wf := klaxon.NewWorkflow("registered-anyway", func(ctx context.Context, _ struct{}) (string, error) { return "", nil })
	client, _ := klaxon.NewClient(st, &klaxon.Config{Channels: map[string]klaxon.DeadLetterHandler{"ops": nil}})
	_ = client.Register(wf)
	err := client.Start(context.Background())
	t.Logf("Start: %v", err)
	list, _ := st.WorkflowList(context.Background())
	if err != nil && len(list) > 0 {
		t.Fatalf("Start refused (%v) but left workflow %q registered in the store", err, list[0].Name)
	}
}

func TestDryRunAgreesWithReplay(t *testing.T) {
	st := openStore(t)
	wf := klaxon.NewWorkflow("undo", func(ctx context.Context, _ struct{}) (string, error) {
		if _, err := klaxon.Step(ctx, "reserve", func(context.Context) (string, error) { return "R", nil },
			klaxon.Compensate(func(context.Context, string) error { return nil })); err != nil {
			return "", err
		}
		return klaxon.Step(ctx, "charge", func(context.Context) (string, error) { return "", klaxon.Permanent(errors.New("declined")) })
	}, fastRetry)
	client := startClient(t, st, nil, wf)
	result, _ := wf.Enqueue(context.Background(), client, struct{}{})
	awaitRun(t, client, result.Run.ID)
	entries, _ := client.DeadLetters(context.Background(), &klaxon.DeadLetterFilter{})
	plan, planErr := client.PlanReplay(context.Background(), entries[0].ID, klaxon.ReplayOptions{})
	_, replayErr := client.Replay(context.Background(), entries[0].ID, klaxon.ReplayOptions{})
	t.Logf("plan=%+v planErr=%v replayErr=%v", plan, planErr, replayErr)
	if planErr == nil && replayErr != nil {
		t.Fatalf("dry run promised a resume the replay then refused")
	}
}

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
