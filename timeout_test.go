package klaxon_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

var errFlaky = errors.New("flaky")

// A step that runs past its timeout fails with class timeout, even if its
// function ignores the context, and is retried.
func TestStepTimeout(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var calls atomic.Int32
	wf := klaxon.NewWorkflow("slow-model", func(ctx context.Context, _ int) (string, error) {
		return klaxon.Step(ctx, "generate", func(ctx context.Context) (string, error) {
			if calls.Add(1) == 1 {
				time.Sleep(300 * time.Millisecond) // ignores ctx, like a stuck client
				return "late answer", nil
			}
			return "answer", nil
		}, klaxon.StepTimeout(30*time.Millisecond))
	}, fastRetry)
	client := startClient(t, st, nil, wf)
	result, _ := wf.Enqueue(context.Background(), client, 0)
	out, err := wf.Await(context.Background(), client, result.Run.ID)
	if err != nil || out != "answer" {
		t.Fatalf("output %q, %v; want the second attempt's answer", out, err)
	}
	attempts, _ := st.AttemptList(context.Background(), result.Run.ID)
	if len(attempts) != 1 || attempts[0].Class != klaxontype.ClassTimeout || attempts[0].ClassifiedBy != "deadline" ||
		!strings.Contains(attempts[0].Message, "timeout of 30ms") || attempts[0].Step != "generate" {
		t.Fatalf("attempts = %+v", attempts)
	}
}

// A run that runs past its run timeout fails with class timeout.
func TestRunTimeout(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	wf := klaxon.NewWorkflow("slow-run", func(ctx context.Context, _ int) (int, error) {
		for i := 0; ; i++ {
			if _, err := klaxon.Step(ctx, "tick", func(ctx context.Context) (int, error) {
				time.Sleep(10 * time.Millisecond)
				return i, nil
			}); err != nil {
				return 0, err
			}
		}
	}, klaxon.RunTimeout(50*time.Millisecond), klaxon.WithRetryPolicy(klaxontype.RetryPolicy{MaxAttempts: 1}))
	client := startClient(t, st, nil, wf)
	result, _ := wf.Enqueue(context.Background(), client, 0)
	run := awaitRun(t, client, result.Run.ID)
	if run.Status != klaxontype.RunStatusDead || run.Failure.Class != klaxontype.ClassTimeout ||
		!strings.Contains(run.Failure.Reason, "run ran past its timeout of 50ms") {
		t.Fatalf("run %s failure %+v", run.Status, run.Failure)
	}
}

// A panic in a step is a permanent failure with the stack in the attempt.
func TestPanicIsPermanentWithStack(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	wf := klaxon.NewWorkflow("panicky", func(ctx context.Context, _ int) (int, error) {
		return klaxon.Step(ctx, "parse", func(ctx context.Context) (int, error) {
			var m map[string]int
			m["boom"] = 1 // nil map write
			return 0, nil
		})
	}, fastRetry)
	client := startClient(t, st, nil, wf)
	result, _ := wf.Enqueue(context.Background(), client, 0)
	run := awaitRun(t, client, result.Run.ID)
	if run.Status != klaxontype.RunStatusDead || run.Failure.Class != klaxontype.ClassPermanent || run.Failure.Step != "parse" {
		t.Fatalf("run %s failure %+v", run.Status, run.Failure)
	}
	attempts, _ := st.AttemptList(context.Background(), run.ID)
	if len(attempts) != 1 || attempts[0].ClassifiedBy != "panic" || !strings.Contains(attempts[0].Stack, "timeout_test.go") {
		t.Fatalf("attempts = %+v", attempts)
	}
}

// slowDown is a rate limit whose provider asks for an absurd wait.
type slowDown struct{ wait time.Duration }

func (e slowDown) Error() string                         { return "429 Too Many Requests" }
func (e slowDown) FailureClass() klaxontype.FailureClass { return klaxontype.ClassRateLimited }
func (e slowDown) RetryAfter() time.Duration             { return e.wait }

// A Retry-After of days is capped by the retry policy's MaxRetryAfter: the
// run is retried within the cap, and the attempt record says the provider's
// wait was capped.
func TestRetryAfterIsCappedByPolicy(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var calls atomic.Int32
	wf := klaxon.NewWorkflow("impatient", func(ctx context.Context, _ int) (string, error) {
		return klaxon.Step(ctx, "call", func(ctx context.Context) (string, error) {
			if calls.Add(1) == 1 {
				return "", slowDown{wait: 72 * time.Hour}
			}
			return "answer", nil
		})
	}, klaxon.WithRetryPolicy(klaxontype.RetryPolicy{
		MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxRetryAfter: 50 * time.Millisecond,
	}))
	client := startClient(t, st, nil, wf)
	result, _ := wf.Enqueue(context.Background(), client, 0)
	if run := awaitRun(t, client, result.Run.ID); run.Status != klaxontype.RunStatusCompleted {
		t.Fatalf("run %s, failure %+v; want completed after a capped wait", run.Status, run.Failure)
	}
	attempts, _ := st.AttemptList(context.Background(), result.Run.ID)
	if len(attempts) != 1 || !strings.Contains(attempts[0].Message, "Retry-After of 72h0m0s capped at 50ms") {
		t.Fatalf("attempts %+v; want the cap in the attempt record", attempts)
	}
}
