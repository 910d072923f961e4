package klaxon_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// Each failure class takes the path its default policy gives it: retried up to
// its attempt budget, or straight to the dead-letter queue, routed to its
// channel, with every attempt recorded.
func TestEachClassFollowsItsDefaultPolicy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		class    klaxontype.FailureClass
		attempts int
		channel  string
	}{
		{klaxontype.ClassTransient, 3, "ops"},
		{klaxontype.ClassTimeout, 3, "ops"},
		{klaxontype.ClassRateLimited, 3, "ops"},
		{klaxontype.ClassSemantic, 3, "review"},
		{klaxontype.ClassPermanent, 1, "review"},
		{klaxontype.ClassPolicyViolation, 1, "security"},
		{klaxontype.ClassContextOverflow, 1, "review"},
		{klaxontype.ClassBudgetExceeded, 1, "review"},
	}
	st := openStore(t)
	var workflows []klaxon.Registrable
	calls := make(map[klaxontype.FailureClass]*atomic.Int32)
	for _, tc := range cases {
		counter := &atomic.Int32{}
		calls[tc.class] = counter
		workflows = append(workflows, klaxon.NewWorkflow("fail-"+string(tc.class), func(ctx context.Context, _ int) (int, error) {
			return klaxon.Step(ctx, "call", func(context.Context) (int, error) {
				counter.Add(1)
				return 0, klaxon.WithClass(tc.class, fmt.Errorf("always %s", tc.class))
			})
		}, klaxon.WithRetryPolicy(klaxontype.RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})))
	}
	client := startClient(t, st, nil, workflows...)
	ctx := context.Background()
	ids := make(map[klaxontype.FailureClass]string)
	for i, tc := range cases {
		result, err := client.Enqueue(ctx, workflows[i].Name(), []byte("0"))
		if err != nil {
			t.Fatal(err)
		}
		ids[tc.class] = result.Run.ID
	}
	for _, tc := range cases {
		run := awaitRun(t, client, ids[tc.class])
		if run.Status != klaxontype.RunStatusDead || run.Failure.Class != tc.class {
			t.Errorf("%s: run %s with failure %+v", tc.class, run.Status, run.Failure)
			continue
		}
		if got := int(calls[tc.class].Load()); got != tc.attempts {
			t.Errorf("%s: step ran %d times, want %d", tc.class, got, tc.attempts)
		}
		entries, err := client.DeadLetters(ctx, &klaxon.DeadLetterFilter{Workflow: "fail-" + string(tc.class)})
		if err != nil || len(entries) != 1 {
			t.Fatalf("%s: %d entries, %v", tc.class, len(entries), err)
		}
		entry, err := client.DeadLetter(ctx, entries[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if entry.RunID != run.ID || entry.Class != tc.class || entry.Channel != tc.channel || entry.State != klaxontype.DeadLetterOpen ||
			entry.Step == nil || entry.Step.Name != "call" || entry.Step.Seq != 1 || len(entry.Attempts) != tc.attempts ||
			string(entry.Input) != "0" {
			t.Errorf("%s: entry = %+v", tc.class, entry)
		}
	}
}

// A per-class override in the workflow's policy wins over the default table.
func TestClassOverride(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var calls atomic.Int32
	wf := klaxon.NewWorkflow("override", func(ctx context.Context, _ int) (int, error) {
		return klaxon.Step(ctx, "call", func(context.Context) (int, error) {
			calls.Add(1)
			return 0, klaxon.Permanent(errors.New("flaky backend that says permanent"))
		})
	}, klaxon.WithRetryPolicy(klaxontype.RetryPolicy{
		MaxAttempts: 5, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond,
		Classes: map[klaxontype.FailureClass]int{klaxontype.ClassPermanent: 2},
	}))
	client := startClient(t, st, nil, wf)
	result, _ := wf.Enqueue(context.Background(), client, 0)
	if run := awaitRun(t, client, result.Run.ID); run.Status != klaxontype.RunStatusDead || calls.Load() != 2 {
		t.Fatalf("run %s after %d calls; want dead after 2", run.Status, calls.Load())
	}
}

// rateLimited is a provider's 429 with a Retry-After.
type rateLimited struct{ after time.Duration }

func (e rateLimited) Error() string                         { return "429 too many requests" }
func (e rateLimited) FailureClass() klaxontype.FailureClass { return klaxontype.ClassRateLimited }
func (e rateLimited) RetryAfter() time.Duration             { return e.after }

// A rate-limited attempt is retried no sooner than the provider's Retry-After.
func TestRateLimitWaitsForRetryAfter(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var calls atomic.Int32
	wf := klaxon.NewWorkflow("limited", func(ctx context.Context, _ int) (int, error) {
		return klaxon.Step(ctx, "call", func(context.Context) (int, error) {
			if calls.Add(1) == 1 {
				return 0, rateLimited{after: 300 * time.Millisecond}
			}
			return 1, nil
		})
	}, fastRetry)
	client := startClient(t, st, nil, wf)
	result, _ := wf.Enqueue(context.Background(), client, 0)
	run := awaitRun(t, client, result.Run.ID)
	attempts, _ := st.AttemptList(context.Background(), run.ID)
	steps, _ := st.StepList(context.Background(), run.ID)
	if run.Status != klaxontype.RunStatusCompleted || len(attempts) != 1 || len(steps) != 1 {
		t.Fatalf("run %s, %d attempts, %d steps", run.Status, len(attempts), len(steps))
	}
	if waited := steps[0].StartedAt.Sub(attempts[0].At); waited < 300*time.Millisecond {
		t.Fatalf("retried %s after the 429; Retry-After asked for 300ms", waited)
	}
}

// A step whose output fails a validator is a semantic failure: the output is
// not checkpointed, the step is retried, and a valid answer completes it.
func TestValidatorRejectsWrongOutput(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	catalogue := map[string]bool{"SKU-1001": true, "SKU-1002": true}
	answers := []string{"SKU-9999", "SKU-4242", "SKU-1002"}
	var calls atomic.Int32
	wf := klaxon.NewWorkflow("recommend", func(ctx context.Context, _ int) (string, error) {
		return klaxon.Step(ctx, "pick-product", func(context.Context) (string, error) {
			return answers[calls.Add(1)-1], nil
		}, klaxon.Validate(func(sku string) error {
			if !catalogue[sku] {
				return fmt.Errorf("%s is not in the catalogue", sku)
			}
			return nil
		}))
	}, fastRetry)
	client := startClient(t, st, nil, wf)
	result, _ := wf.Enqueue(context.Background(), client, 0)
	out, err := wf.Await(context.Background(), client, result.Run.ID)
	if err != nil || out != "SKU-1002" {
		t.Fatalf("output %q, %v; want the valid third answer", out, err)
	}
	attempts, _ := st.AttemptList(context.Background(), result.Run.ID)
	if len(attempts) != 2 || attempts[0].Class != klaxontype.ClassSemantic || attempts[1].Class != klaxontype.ClassSemantic {
		t.Fatalf("attempts = %+v", attempts)
	}
	steps, _ := st.StepList(context.Background(), result.Run.ID)
	if len(steps) != 1 || string(steps[0].Output) != `"SKU-1002"` || steps[0].Attempt != 3 {
		t.Fatalf("step log = %+v; rejected outputs must not be checkpointed", steps)
	}
}

// quotaError stands for a library's error type that knows nothing of Klaxon.
type quotaError struct{ code string }

func (e *quotaError) Error() string { return "provider said " + e.code }

// A classify rule in the client's configuration decides before the built-in
// rules, and the attempt record says so.
func TestClassifyRuleMapsLibraryErrors(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	wf := klaxon.NewWorkflow("mapped", func(ctx context.Context, _ int) (int, error) {
		return klaxon.Step(ctx, "call", func(context.Context) (int, error) {
			return 0, &quotaError{code: "insufficient_quota"}
		})
	}, fastRetry)
	config := fastConfig()
	config.ClassifyRules = []func(error) (klaxontype.FailureClass, bool){
		func(err error) (klaxontype.FailureClass, bool) {
			var quota *quotaError
			if errors.As(err, &quota) && quota.code == "insufficient_quota" {
				return klaxontype.ClassBudgetExceeded, true
			}
			return "", false
		},
	}
	client := startClient(t, st, config, wf)
	result, _ := wf.Enqueue(context.Background(), client, 0)
	run := awaitRun(t, client, result.Run.ID)
	attempts, _ := st.AttemptList(context.Background(), run.ID)
	if run.Failure.Class != klaxontype.ClassBudgetExceeded || len(attempts) != 1 || attempts[0].ClassifiedBy != "rule" {
		t.Fatalf("failure %+v, attempts %+v", run.Failure, attempts)
	}
}
