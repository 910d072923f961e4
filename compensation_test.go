package klaxon_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// When a run fails for good, the compensations of its completed steps run in
// reverse order, each once, each recorded in the step log.
func TestCompensationsRunInReverseOnFinalFailure(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var mu sync.Mutex
	var undone []string
	var keys []string
	undo := func(name string) klaxon.StepOption {
		return klaxon.Compensate(func(ctx context.Context, out string) error {
			mu.Lock()
			defer mu.Unlock()
			undone = append(undone, name+":"+out)
			keys = append(keys, klaxon.IdempotencyKey(ctx))
			return nil
		})
	}
	wf := klaxon.NewWorkflow("book-trip", func(ctx context.Context, _ struct{}) (string, error) {
		if _, err := klaxon.Step(ctx, "reserve-flight", func(context.Context) (string, error) { return "F1", nil }, undo("flight")); err != nil {
			return "", err
		}
		if _, err := klaxon.Step(ctx, "reserve-hotel", func(context.Context) (string, error) { return "H7", nil }, undo("hotel")); err != nil {
			return "", err
		}
		if _, err := klaxon.Step(ctx, "notify", func(context.Context) (string, error) { return "sent", nil }); err != nil {
			return "", err
		}
		return klaxon.Step(ctx, "charge", func(context.Context) (string, error) {
			return "", klaxon.Permanent(errors.New("card declined"))
		})
	}, fastRetry)
	client := startClient(t, st, nil, wf)
	result, _ := wf.Enqueue(context.Background(), client, struct{}{})
	run := awaitRun(t, client, result.Run.ID)

	if run.Status != klaxontype.RunStatusDead || run.Failure.Class != klaxontype.ClassPermanent || run.Failure.Step != "charge" {
		t.Fatalf("run %s failure %+v", run.Status, run.Failure)
	}
	if strings.Join(undone, ",") != "hotel:H7,flight:F1" {
		t.Fatalf("compensations ran as %v, want hotel then flight", undone)
	}
	if keys[0] != run.ID+"/2/reserve-hotel/compensate" {
		t.Fatalf("compensation key = %q", keys[0])
	}
	steps, _ := st.StepList(context.Background(), run.ID)
	want := map[string]klaxontype.StepStatus{
		"reserve-flight": klaxontype.StepStatusCompensated,
		"reserve-hotel":  klaxontype.StepStatusCompensated,
		"notify":         klaxontype.StepStatusCompleted,
	}
	for _, step := range steps {
		if step.Status != want[step.Name] || (step.Status == klaxontype.StepStatusCompensated) == step.CompensatedAt.IsZero() {
			t.Fatalf("step %s: status %s compensated at %v", step.Name, step.Status, step.CompensatedAt)
		}
	}
	events := eventTypes(t, st, run.ID)
	if !containsInOrder(events, "run.compensating", "compensation.completed", "compensation.completed", "run.dead") {
		t.Fatalf("events = %v", events)
	}
}

// A compensation that fails does not stop the others, and the run's class
// becomes compensation_failed, naming the original failure.
func TestFailedCompensationMakesClassCompensationFailed(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var ranFirst bool
	wf := klaxon.NewWorkflow("two-undos", func(ctx context.Context, _ int) (int, error) {
		if _, err := klaxon.Step(ctx, "a", func(context.Context) (int, error) { return 1, nil },
			klaxon.Compensate(func(context.Context, int) error { ranFirst = true; return nil })); err != nil {
			return 0, err
		}
		if _, err := klaxon.Step(ctx, "b", func(context.Context) (int, error) { return 2, nil },
			klaxon.Compensate(func(context.Context, int) error { return errors.New("refund API down") })); err != nil {
			return 0, err
		}
		return 0, klaxon.Permanent(errors.New("bad document"))
	}, fastRetry)
	client := startClient(t, st, nil, wf)
	result, _ := wf.Enqueue(context.Background(), client, 0)
	run := awaitRun(t, client, result.Run.ID)
	if run.Status != klaxontype.RunStatusDead || run.Failure.Class != klaxontype.ClassCompensationFailed {
		t.Fatalf("run %s failure %+v", run.Status, run.Failure)
	}
	if !strings.Contains(run.Failure.Reason, "refund API down") || !strings.Contains(run.Failure.Reason, "bad document") {
		t.Fatalf("reason %q should name both failures", run.Failure.Reason)
	}
	if !ranFirst {
		t.Fatal("the first step's compensation did not run after the second failed")
	}
	steps, _ := st.StepList(context.Background(), run.ID)
	if steps[1].Status != klaxontype.StepStatusCompensationFailed || steps[1].CompensationError != "refund API down" {
		t.Fatalf("step b = %+v", steps[1])
	}
}

// A retryable failure does not compensate: compensations are for runs that
// failed for good.
func TestRetryDoesNotCompensate(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var compensated, attempts int
	var mu sync.Mutex
	wf := klaxon.NewWorkflow("retry-no-undo", func(ctx context.Context, _ int) (int, error) {
		if _, err := klaxon.Step(ctx, "a", func(context.Context) (int, error) { return 1, nil },
			klaxon.Compensate(func(context.Context, int) error { mu.Lock(); compensated++; mu.Unlock(); return nil })); err != nil {
			return 0, err
		}
		return klaxon.Step(ctx, "b", func(context.Context) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			attempts++
			if attempts < 2 {
				return 0, errors.New("temporary")
			}
			return 2, nil
		})
	}, fastRetry)
	client := startClient(t, st, nil, wf)
	result, _ := wf.Enqueue(context.Background(), client, 0)
	run := awaitRun(t, client, result.Run.ID)
	if run.Status != klaxontype.RunStatusCompleted || compensated != 0 {
		t.Fatalf("run %s with %d compensations; want completed with none", run.Status, compensated)
	}
}

func eventTypes(t *testing.T, st interface {
	EventList(context.Context, string) ([]*klaxontype.Event, error)
}, runID string) []string {
	t.Helper()
	events, err := st.EventList(context.Background(), runID)
	if err != nil {
		t.Fatal(err)
	}
	types := make([]string, len(events))
	for i, e := range events {
		types[i] = string(e.Type)
	}
	return types
}

// containsInOrder reports whether want appears in got as a subsequence.
func containsInOrder(got []string, want ...string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}
