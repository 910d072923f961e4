package klaxon_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

func TestStepsWaitForRateLimitCapacityInsteadOfExceedingIt(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var ran []time.Time
	wf := klaxon.NewWorkflow("limited", func(ctx context.Context, _ int) (int, error) {
		for _, name := range []string{"a", "b", "c", "d", "e"} {
			if _, err := klaxon.Step(ctx, name, func(ctx context.Context) (int, error) {
				mu.Lock()
				ran = append(ran, time.Now())
				mu.Unlock()
				klaxon.RecordSpend(ctx, klaxontype.Spend{Usage: klaxontype.TokenUsage{InputTokens: 30, OutputTokens: 10}, ModelCalls: 1})
				return 1, nil
			}, klaxon.DrawOn("acme/model", 0), klaxon.DrawOn("acme/tokens", 100)); err != nil {
				return 0, err
			}
		}
		return 5, nil
	})
	st := openStore(t)
	client := startClient(t, st, nil, wf)
	if err := client.DeclareRateLimits(t.Context(),
		klaxon.RateLimit{Key: "acme/model", Requests: 2, Per: time.Second},
		klaxon.RateLimit{Key: "acme/tokens", Requests: 1000, Tokens: 100_000, Per: time.Hour}); err != nil {
		t.Fatal(err)
	}
	id := enqueue(t, client, "limited", "1")
	if run := awaitRun(t, client, id); run.Status != klaxontype.RunStatusCompleted {
		t.Fatalf("run is %s (%+v)", run.Status, run.Failure)
	}
	// A burst of two, then one every half second (less the skew of the
	// first step, which ran a round trip after its grant was decided).
	for i := 2; i < len(ran); i++ {
		if since, least := ran[i].Sub(ran[0]), time.Duration(i-1)*500*time.Millisecond-60*time.Millisecond; since < least {
			t.Errorf("step %d ran %s after the first under a limit of 2 per second; want at least %s", i+1, since, least)
		}
	}
	steps, err := st.StepList(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	// The first step's wait is its acquisition's round trip; later ones
	// waited for capacity (how long depends on how fast the steps cycle).
	if waited := steps[2].RateLimitWait + steps[3].RateLimitWait + steps[4].RateLimitWait; steps[0].RateLimitWait > 300*time.Millisecond || waited < 50*time.Millisecond {
		t.Errorf("recorded waits %s for the first step and %s for the last three; want little, then some",
			steps[0].RateLimitWait, waited)
	}
	// Each step reserved 100 tokens and used 40: the limit was charged 40
	// each (200, not 500), less what refilled meanwhile (28 tokens a second).
	limits, err := client.RateLimits(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := limits[1].State.TokensAvailable; got < 100_000-205 || got > 100_000-50 {
		t.Errorf("tokens available after 5 steps of 40 tokens: %d; want about %d", got, 100_000-200)
	}
}

func TestALongRateLimitWaitReleasesTheWorker(t *testing.T) {
	t.Parallel()
	var runs sync.Map
	wf := klaxon.NewWorkflow("patient", func(ctx context.Context, _ int) (string, error) {
		return klaxon.Step(ctx, "call", func(ctx context.Context) (string, error) {
			runs.Store(time.Now(), true)
			return "ok", nil
		}, klaxon.DrawOn("slow/model", 0))
	})
	st := openStore(t)
	client := startClient(t, st, nil, wf)
	per := klaxon.RateLimitMaxWait + 1500*time.Millisecond
	if err := client.DeclareRateLimits(t.Context(), klaxon.RateLimit{Key: "slow/model", Requests: 1, Per: per}); err != nil {
		t.Fatal(err)
	}
	// Another process spent the limit's one request just now.
	if grant, err := st.RateLimitAcquire(t.Context(), &store.RateLimitAcquireParams{Key: "slow/model"}); err != nil || !grant.Granted {
		t.Fatalf("%+v %v", grant, err)
	}
	spent := time.Now()
	id := enqueue(t, client, "patient", "1")
	waiting := awaitStatus(t, client, id, klaxontype.RunStatusWaiting)
	if waiting.LeaseHolder != "" {
		t.Errorf("a run waiting for capacity holds a lease of %s", waiting.LeaseHolder)
	}
	run := awaitRun(t, client, id)
	if run.Status != klaxontype.RunStatusCompleted {
		t.Fatalf("run is %s (%+v)", run.Status, run.Failure)
	}
	runs.Range(func(key, _ any) bool {
		if at := key.(time.Time); at.Sub(spent) < per-50*time.Millisecond {
			t.Errorf("the step ran %s after the limit was spent; its period is %s", at.Sub(spent), per)
		}
		return true
	})
}

func TestDeclaringABadRateLimitChangesNothing(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	client, err := klaxon.NewClient(st, fastConfig())
	if err != nil {
		t.Fatal(err)
	}
	err = client.DeclareRateLimits(t.Context(),
		klaxon.RateLimit{Key: "good", Requests: 5, Per: time.Second},
		klaxon.RateLimit{Key: "bad", Requests: 0, Per: time.Second})
	if !errors.Is(err, klaxontype.ErrInvalid) {
		t.Fatalf("declaring a limit of zero requests: %v; want ErrInvalid", err)
	}
	if limits, err := client.RateLimits(t.Context()); err != nil || len(limits) != 0 {
		t.Errorf("after a refused declaration the store has %+v (%v); want none", limits, err)
	}
}

func TestAStepDrawingOnAnUndeclaredLimitFailsNamingIt(t *testing.T) {
	t.Parallel()
	wf := klaxon.NewWorkflow("undeclared", func(ctx context.Context, _ int) (int, error) {
		return klaxon.Step(ctx, "call", func(ctx context.Context) (int, error) { return 1, nil }, klaxon.DrawOn("nobody/model", 0))
	})
	client := startClient(t, openStore(t), nil, wf)
	run := awaitRun(t, client, enqueue(t, client, "undeclared", "1"))
	if run.Status != klaxontype.RunStatusDead || run.Failure == nil || run.Failure.Class != klaxontype.ClassPermanent {
		t.Fatalf("run is %s (%+v); want dead, permanent", run.Status, run.Failure)
	}
}
