package klaxon_test

import (
	"context"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// A run whose workflow returns without executing every expected step ends
// dead with class partial_completion, never completed.
func TestMissingExpectedStepIsPartialCompletion(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	wf := klaxon.NewWorkflow("pipeline", func(ctx context.Context, skipEnrich bool) (string, error) {
		for _, name := range []string{"extract", "classify", "enrich", "store"} {
			if name == "enrich" && skipEnrich {
				continue // the silent bug: a branch that forgets a step
			}
			if _, err := klaxon.Step(ctx, name, func(context.Context) (string, error) { return name, nil }); err != nil {
				return "", err
			}
		}
		return "done", nil
	}, klaxon.ExpectSteps("extract", "classify", "enrich", "store"), fastRetry)
	client := startClient(t, st, nil, wf)

	partial, _ := wf.Enqueue(context.Background(), client, true)
	whole, _ := wf.Enqueue(context.Background(), client, false)
	run := awaitRun(t, client, partial.Run.ID)
	if run.Status != klaxontype.RunStatusDead || run.Failure.Class != klaxontype.ClassPartialCompletion {
		t.Fatalf("run %s failure %+v; want dead partial_completion", run.Status, run.Failure)
	}
	if !strings.Contains(run.Failure.Reason, "missing: enrich") || !strings.Contains(run.Failure.Reason, "3 of 4") {
		t.Fatalf("reason %q should name the missing step", run.Failure.Reason)
	}
	if len(run.Output) != 0 {
		t.Fatalf("a partial run must not store an output, got %s", run.Output)
	}
	if run := awaitRun(t, client, whole.Run.ID); run.Status != klaxontype.RunStatusCompleted {
		t.Fatalf("complete run is %s", run.Status)
	}
}

// A step whose name differs from the one recorded at its sequence number fails
// the run with class nondeterminism, without retry.
func TestChangedStepOrderIsNondeterminism(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	attempt := 0
	wf := klaxon.NewWorkflow("drifting", func(ctx context.Context, _ int) (int, error) {
		attempt++
		first, second := "a", "b"
		if attempt > 1 {
			first, second = "b", "a" // code changed between attempts
		}
		if _, err := klaxon.Step(ctx, first, func(context.Context) (int, error) { return 1, nil }); err != nil {
			return 0, err
		}
		if attempt == 1 {
			_, err := klaxon.Step(ctx, second, func(context.Context) (int, error) { return 0, klaxon.Transient(errFlaky) })
			return 0, err
		}
		return 2, nil
	}, fastRetry)
	client := startClient(t, st, nil, wf)
	result, _ := wf.Enqueue(context.Background(), client, 0)
	run := awaitRun(t, client, result.Run.ID)
	if run.Status != klaxontype.RunStatusDead || run.Failure.Class != klaxontype.ClassNondeterminism || attempt != 2 {
		t.Fatalf("run %s failure %+v after %d attempts", run.Status, run.Failure, attempt)
	}
	if !strings.Contains(run.Failure.Reason, `recorded "a" but the workflow called "b"`) || run.Failure.StepSeq != 1 {
		t.Fatalf("failure %+v", run.Failure)
	}
}

// A workflow that swallows the nondeterminism error still fails.
func TestSwallowedNondeterminismStillFails(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	attempt := 0
	wf := klaxon.NewWorkflow("swallow", func(ctx context.Context, _ int) (int, error) {
		attempt++
		name := "first"
		if attempt > 1 {
			name = "renamed"
		}
		_, _ = klaxon.Step(ctx, name, func(context.Context) (int, error) { return 1, nil })
		if attempt == 1 {
			return 0, klaxon.Transient(errFlaky)
		}
		return 1, nil
	}, fastRetry)
	client := startClient(t, st, nil, wf)
	result, _ := wf.Enqueue(context.Background(), client, 0)
	run := awaitRun(t, client, result.Run.ID)
	if run.Status != klaxontype.RunStatusDead || run.Failure.Class != klaxontype.ClassNondeterminism {
		t.Fatalf("run %s failure %+v", run.Status, run.Failure)
	}
}
