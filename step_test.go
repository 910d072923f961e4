package klaxon_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// A step that completed is never run again: the retry of a run that failed
// after it returns the stored output.
func TestCompletedStepIsReplayedNotRerun(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var fetches, summaries atomic.Int32
	wf := klaxon.NewWorkflow("summarize", func(ctx context.Context, doc string) (string, error) {
		text, err := klaxon.Step(ctx, "fetch", func(ctx context.Context) (string, error) {
			fetches.Add(1)
			return "text of " + doc, nil
		})
		if err != nil {
			return "", err
		}
		return klaxon.Step(ctx, "summarize", func(ctx context.Context) (string, error) {
			if summaries.Add(1) == 1 {
				return "", errors.New("model unavailable")
			}
			return "summary of " + text, nil
		})
	}, fastRetry)
	client := startClient(t, st, nil, wf)

	result, err := wf.Enqueue(context.Background(), client, "doc-1")
	if err != nil {
		t.Fatal(err)
	}
	out, err := wf.Await(context.Background(), client, result.Run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if out != "summary of text of doc-1" {
		t.Fatalf("output = %q", out)
	}
	if fetches.Load() != 1 || summaries.Load() != 2 {
		t.Fatalf("fetch ran %d times and summarize %d; want 1 and 2", fetches.Load(), summaries.Load())
	}
	steps, err := st.StepList(context.Background(), result.Run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 2 || steps[0].Name != "fetch" || steps[0].Attempt != 1 || steps[1].Name != "summarize" || steps[1].Attempt != 2 {
		t.Fatalf("step log = %+v", steps)
	}
	run, _ := client.Run(context.Background(), result.Run.ID)
	if run.Attempt != 2 || run.Retries != 1 {
		t.Fatalf("run attempt %d retries %d; want 2 and 1", run.Attempt, run.Retries)
	}
}

// A step's idempotency key is derived from the run, sequence and name, and is
// the same on every attempt.
func TestIdempotencyKeyIsStableAcrossRetries(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var keys []string
	var calls atomic.Int32
	wf := klaxon.NewWorkflow("charge", func(ctx context.Context, _ struct{}) (string, error) {
		return klaxon.Step(ctx, "charge-card", func(ctx context.Context) (string, error) {
			keys = append(keys, klaxon.IdempotencyKey(ctx))
			if calls.Add(1) < 3 {
				return "", errors.New("gateway timeout")
			}
			return "charged", nil
		})
	}, fastRetry)
	client := startClient(t, st, nil, wf)
	result, err := wf.Enqueue(context.Background(), client, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wf.Await(context.Background(), client, result.Run.ID); err != nil {
		t.Fatal(err)
	}
	want := result.Run.ID + "/1/charge-card"
	if len(keys) != 3 {
		t.Fatalf("step ran %d times, want 3", len(keys))
	}
	for _, key := range keys {
		if key != want {
			t.Fatalf("keys = %v, want all %q", keys, want)
		}
	}
	steps, _ := st.StepList(context.Background(), result.Run.ID)
	if steps[0].IdempotencyKey != want {
		t.Fatalf("step log key = %q", steps[0].IdempotencyKey)
	}
}

// An error marked permanent is not retried; the run is dead with its class,
// reason, failed step and attempt history.
func TestPermanentErrorIsNotRetried(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var calls atomic.Int32
	wf := klaxon.NewWorkflow("validate", func(ctx context.Context, _ int) (int, error) {
		return klaxon.Step(ctx, "check", func(ctx context.Context) (int, error) {
			calls.Add(1)
			return 0, klaxon.Permanent(errors.New("document is encrypted"))
		})
	}, fastRetry)
	client := startClient(t, st, nil, wf)
	result, _ := wf.Enqueue(context.Background(), client, 7)
	run := awaitRun(t, client, result.Run.ID)
	if run.Status != klaxontype.RunStatusDead || calls.Load() != 1 {
		t.Fatalf("status %s after %d calls; want dead after 1", run.Status, calls.Load())
	}
	if run.Failure == nil || run.Failure.Class != klaxontype.ClassPermanent || run.Failure.Step != "check" || run.Failure.StepSeq != 1 ||
		!strings.Contains(run.Failure.Reason, "document is encrypted") {
		t.Fatalf("failure = %+v", run.Failure)
	}
	attempts, _ := st.AttemptList(context.Background(), run.ID)
	if len(attempts) != 1 || attempts[0].Class != klaxontype.ClassPermanent || attempts[0].ClassifiedBy != "error" || attempts[0].Step != "check" {
		t.Fatalf("attempts = %+v", attempts)
	}
}

// Transient failures are retried up to the maximum number of attempts, then
// the run is dead with every attempt in its history.
func TestRetriesStopAtMaxAttempts(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var calls atomic.Int32
	wf := klaxon.NewWorkflow("flaky", func(ctx context.Context, _ int) (int, error) {
		return klaxon.Step(ctx, "call", func(ctx context.Context) (int, error) {
			n := calls.Add(1)
			return 0, fmt.Errorf("connection refused (call %d)", n)
		})
	}, fastRetry)
	client := startClient(t, st, nil, wf)
	result, _ := wf.Enqueue(context.Background(), client, 1)
	run := awaitRun(t, client, result.Run.ID)
	if run.Status != klaxontype.RunStatusDead || calls.Load() != 3 {
		t.Fatalf("status %s after %d calls; want dead after 3", run.Status, calls.Load())
	}
	if run.Failure.Class != klaxontype.ClassTransient || !strings.Contains(run.Failure.Reason, "gave up after 3 attempts") {
		t.Fatalf("failure = %+v", run.Failure)
	}
	attempts, _ := st.AttemptList(context.Background(), run.ID)
	if len(attempts) != 3 {
		t.Fatalf("%d attempts recorded, want 3", len(attempts))
	}
	for i, a := range attempts {
		if a.Attempt != i+1 || a.ClassifiedBy != "default" || !strings.Contains(a.Message, fmt.Sprintf("call %d", i+1)) {
			t.Fatalf("attempt %d = %+v", i, a)
		}
	}
}
