package klaxon_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

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

// A dry run agrees with the replay it describes: for a run whose completed step
// was compensated, PlanReplay does not promise a resume that Replay then refuses.
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
