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
	"github.com/klaxonhq/klaxon/store"
)

// fakeCall stands for a model call that used the given tokens.
func fakeCall(ctx context.Context, in, out int64, usd float64) {
	klaxon.RecordSpend(ctx, klaxontype.Spend{
		Usage: klaxontype.TokenUsage{InputTokens: in, OutputTokens: out}, Cost: klaxontype.KnownCost(usd), ModelCalls: 1,
	})
}

// A step's spend is stored with its checkpoint and counted once in the run's
// totals, even when a later failure makes the run replay it; a failed step's
// spend is recorded with its attempt and counted too.
func TestSpendIsCountedOnceAcrossRetries(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var judged atomic.Int32
	wf := klaxon.NewWorkflow("spender", func(ctx context.Context, _ int) (string, error) {
		draft, err := klaxon.Step(ctx, "draft", func(ctx context.Context) (string, error) {
			fakeCall(ctx, 1000, 200, 0.01)
			return "draft", nil
		})
		if err != nil {
			return "", err
		}
		return klaxon.Step(ctx, "judge", func(ctx context.Context) (string, error) {
			fakeCall(ctx, 300, 50, 0.002)
			if judged.Add(1) == 1 {
				return "", errors.New("gateway timeout after the answer was billed")
			}
			return draft + " approved", nil
		})
	}, fastRetry)
	client := startClient(t, st, nil, wf)
	result, _ := wf.Enqueue(context.Background(), client, 0)
	if _, err := wf.Await(context.Background(), client, result.Run.ID); err != nil {
		t.Fatal(err)
	}
	run, _ := client.Run(context.Background(), result.Run.ID)
	want := klaxontype.Spend{Usage: klaxontype.TokenUsage{InputTokens: 1600, OutputTokens: 300}, ModelCalls: 3}
	if run.Spend.Usage != want.Usage || run.Spend.ModelCalls != 3 || run.Spend.Cost.Unknown || !near(run.Spend.Cost.USD, 0.014) {
		t.Fatalf("run spend = %+v; want draft once and judge twice: %+v, $0.014", run.Spend, want)
	}
	steps, _ := st.StepList(context.Background(), run.ID)
	attempts, _ := st.AttemptList(context.Background(), run.ID)
	if steps[0].Spend.Usage.InputTokens != 1000 || steps[1].Spend.Usage.InputTokens != 300 || attempts[0].Spend.Usage.InputTokens != 300 {
		t.Fatalf("step spends %+v %+v, attempt spend %+v", steps[0].Spend, steps[1].Spend, attempts[0].Spend)
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

// A run that reaches its token budget stops at its next model call with class
// budget_exceeded, the totals in the reason, and is not retried.
func TestTokenBudgetStopsRunawayLoop(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var calls atomic.Int32
	agent := klaxon.NewWorkflow("agent", func(ctx context.Context, _ int) (int, error) {
		for i := 0; ; i++ { // an agent that never decides it is done
			_, err := klaxon.Step(ctx, "think", func(ctx context.Context) (int, error) {
				if err := klaxon.CheckBudget(ctx); err != nil {
					return 0, err
				}
				calls.Add(1)
				fakeCall(ctx, 400, 100, 0.001)
				return i, nil
			})
			if err != nil {
				return 0, err
			}
		}
	}, klaxon.WithBudget(klaxontype.Budget{Tokens: 2000}), fastRetry)
	client := startClient(t, st, nil, agent)
	result, _ := agent.Enqueue(context.Background(), client, 0)
	run := awaitRun(t, client, result.Run.ID)
	if run.Status != klaxontype.RunStatusDead || run.Failure.Class != klaxontype.ClassBudgetExceeded || calls.Load() != 4 {
		t.Fatalf("run %s, failure %+v after %d calls; want dead budget_exceeded after 4", run.Status, run.Failure, calls.Load())
	}
	if !strings.Contains(run.Failure.Reason, "2000 of a budget of 2000 tokens") || run.Spend.Usage.Total() != 2000 {
		t.Fatalf("reason %q, spend %+v", run.Failure.Reason, run.Spend)
	}

	// The same workflow with a larger budget for one run goes further.
	calls.Store(0)
	bigger, _ := agent.Enqueue(context.Background(), client, 1, klaxon.WithRunBudget(klaxontype.Budget{Tokens: 5000}))
	if run := awaitRun(t, client, bigger.Run.ID); run.Failure.Class != klaxontype.ClassBudgetExceeded || calls.Load() != 10 {
		t.Fatalf("with a run budget: %+v after %d calls; want 10", run.Failure, calls.Load())
	}
}

// An unknown cost makes the run's cost unknown, never zero, and a cost budget
// cannot be kept with it.
func TestUnknownCostStaysUnknown(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	wf := klaxon.NewWorkflow("unpriced", func(ctx context.Context, _ int) (int, error) {
		for i := range 2 {
			_, err := klaxon.Step(ctx, "call", func(ctx context.Context) (int, error) {
				if err := klaxon.CheckBudget(ctx); err != nil {
					return 0, err
				}
				klaxon.RecordSpend(ctx, klaxontype.Spend{Usage: klaxontype.TokenUsage{InputTokens: 10}, Cost: klaxontype.UnknownCost(), ModelCalls: 1})
				return i, nil
			})
			if err != nil {
				return 0, err
			}
		}
		return 0, nil
	}, klaxon.WithBudget(klaxontype.Budget{CostUSD: 1}))
	client := startClient(t, st, nil, wf)
	result, _ := wf.Enqueue(context.Background(), client, 0)
	run := awaitRun(t, client, result.Run.ID)
	if !run.Spend.Cost.Unknown || run.Spend.Cost.String() != "unknown" {
		t.Fatalf("run cost = %+v; want unknown", run.Spend.Cost)
	}
	if run.Failure == nil || run.Failure.Class != klaxontype.ClassBudgetExceeded || !strings.Contains(run.Failure.Reason, "unknown") {
		t.Fatalf("failure = %+v; a cost budget with an unknown cost must stop the run", run.Failure)
	}
}

// The engine enforces a run's budget itself, at the start of every step,
// whether or not the step calls CheckBudget: a step that records spend and
// keeps failing transiently is stopped with budget_exceeded once the run is
// past its budget, having overrun it by at most one step's spend.
func TestBudgetIsEnforcedWithoutCheckBudget(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var calls atomic.Int32
	wf := klaxon.NewWorkflow("flaky-spender", func(ctx context.Context, _ int) (int, error) {
		return klaxon.Step(ctx, "call-model", func(ctx context.Context) (int, error) {
			calls.Add(1)
			fakeCall(ctx, 300, 100, 0.001) // billed, then the answer is lost
			return 0, klaxon.Transient(errors.New("connection reset after the answer was billed"))
		})
	}, klaxon.WithBudget(klaxontype.Budget{Tokens: 1000}), klaxon.WithRetryPolicy(klaxontype.RetryPolicy{
		MaxAttempts: 10, InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
	}))
	client := startClient(t, st, nil, wf)
	result, _ := wf.Enqueue(context.Background(), client, 0)
	run := awaitRun(t, client, result.Run.ID)
	if run.Status != klaxontype.RunStatusDead || run.Failure == nil || run.Failure.Class != klaxontype.ClassBudgetExceeded {
		t.Fatalf("run %s, failure %+v after %d calls; want dead budget_exceeded", run.Status, run.Failure, calls.Load())
	}
	if calls.Load() != 3 || run.Spend.Usage.Total() != 1200 {
		t.Fatalf("%d calls, %d tokens spent against a budget of 1000; want 3 calls and 1200 tokens (one step's overrun)",
			calls.Load(), run.Spend.Usage.Total())
	}
	if !strings.Contains(run.Failure.Reason, "1200 of a budget of 1000 tokens") || run.Failure.Step != "call-model" {
		t.Fatalf("reason %q, step %q", run.Failure.Reason, run.Failure.Step)
	}
}

// Spend a step's function records after its timeout, when the engine has
// stopped waiting for it, is still counted: on the run, on the attempt the
// step failed in, and in the workflow's store-wide tally, with a spend.late
// event saying it arrived after the step's deadline.
func TestSpendAfterStepTimeoutIsCounted(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	lateRecorded := make(chan struct{})
	var calls atomic.Int32
	wf := klaxon.NewWorkflow("slow-biller", func(ctx context.Context, _ int) (string, error) {
		return klaxon.Step(ctx, "generate", func(ctx context.Context) (string, error) {
			if calls.Add(1) > 1 {
				return "", klaxon.Permanent(errors.New("give up"))
			}
			fakeCall(ctx, 100, 10, 0.001)
			time.Sleep(300 * time.Millisecond) // ignores ctx, like a stuck client
			fakeCall(ctx, 5000, 390, 0.5)      // billed all the same
			close(lateRecorded)
			return "late answer", nil
		}, klaxon.StepTimeout(30*time.Millisecond))
	}, fastRetry)
	client := startClient(t, st, nil, wf)
	result, _ := wf.Enqueue(context.Background(), client, 0)
	awaitRun(t, client, result.Run.ID)
	<-lateRecorded
	ctx := context.Background()
	var run *klaxontype.Run
	for deadline := time.Now().Add(5 * time.Second); ; {
		run, _ = client.Run(ctx, result.Run.ID)
		if run.Spend.Usage.Total() >= 5500 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if run.Spend.Usage.Total() != 5500 || run.Spend.ModelCalls != 2 || !near(run.Spend.Cost.USD, 0.501) {
		t.Fatalf("run spend %+v; want 5500 tokens, 2 calls, $0.501, the late call included", run.Spend)
	}
	attempts, _ := st.AttemptList(ctx, run.ID)
	if len(attempts) == 0 || attempts[0].Spend.Usage.Total() != 5500 {
		t.Fatalf("attempts %+v; want the timed-out attempt to carry 5500 tokens", attempts)
	}
	tally, err := st.BreakerTally(ctx, &store.BreakerTallyParams{Workflow: "slow-biller", SpendSince: time.Now().Add(-time.Hour)})
	if err != nil || !near(tally.Cost.USD, 0.501) {
		t.Fatalf("tally %+v, %v; want $0.501", tally, err)
	}
	events, _ := st.EventList(ctx, run.ID)
	var late []*klaxontype.Event
	for _, event := range events {
		if event.Type == klaxontype.EventSpendLate {
			late = append(late, event)
		}
	}
	if len(late) != 1 || late[0].Step != "generate" || !strings.Contains(late[0].Message, "after the step's deadline") ||
		!strings.Contains(late[0].Message, "5390 tokens") {
		t.Fatalf("spend.late events %+v; want one for generate", late)
	}
}
