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

// A retry storm trips the workflow's breaker: its runs wait instead of
// hammering a failing provider; after a reset they are worked again and none
// is lost.
func TestRetryStormBreakerPausesAndResetResumes(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var healthy atomic.Bool
	var calls atomic.Int32
	wf := klaxon.NewWorkflow("stormy", func(ctx context.Context, _ int) (string, error) {
		return klaxon.Step(ctx, "call", func(context.Context) (string, error) {
			calls.Add(1)
			if !healthy.Load() {
				return "", errors.New("provider down")
			}
			return "ok", nil
		})
	},
		klaxon.WithRetryPolicy(klaxontype.RetryPolicy{MaxAttempts: 100, InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}),
		klaxon.WithBreaker(klaxontype.BreakerPolicy{Window: time.Minute, MinAttempts: 6, FailureRate: 0.8, CoolDown: time.Hour}),
	)
	tripped := make(chan string, 1)
	told := &breakerRecorder{breakers: make(chan *klaxontype.Breaker, 4)}
	config := fastConfig()
	config.Concurrency = 2
	config.OnBreaker = func(workflow, reason string, _ time.Time) { tripped <- reason }
	config.Channels = map[string]klaxon.DeadLetterHandler{"ops": told}
	config.DeliveryPollInterval = 20 * time.Millisecond
	client := startClient(t, st, config, wf)
	ctx := context.Background()
	var ids []string
	for i := range 4 {
		result, _ := wf.Enqueue(ctx, client, i)
		ids = append(ids, result.Run.ID)
	}
	select {
	case reason := <-tripped:
		if !strings.Contains(reason, "retry storm") {
			t.Fatalf("reason %q", reason)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the breaker never tripped")
	}
	time.Sleep(200 * time.Millisecond) // let in-flight attempts settle
	before := calls.Load()
	time.Sleep(300 * time.Millisecond)
	if after := calls.Load(); after != before {
		t.Fatalf("the step ran %d more times while the breaker was open", after-before)
	}
	breakers, _ := client.Breakers(ctx)
	if len(breakers) != 1 || !breakers[0].Open || breakers[0].Workflow != "stormy" {
		t.Fatalf("breakers = %+v", breakers)
	}
	select {
	case b := <-told.breakers:
		if b.Workflow != "stormy" || !strings.Contains(b.Reason, "retry storm") {
			t.Fatalf("the ops channel was told %+v", b)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the ops channel (where transient failures go) was not told that the breaker opened")
	}
	for _, id := range ids {
		if run, _ := client.Run(ctx, id); run.Status.Terminal() {
			t.Fatalf("run %s is %s while the breaker is open; it must wait", id, run.Status)
		}
	}

	healthy.Store(true)
	if err := client.ResetBreaker(ctx, "stormy", "ops-oncall"); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if run := awaitRun(t, client, id); run.Status != klaxontype.RunStatusCompleted {
			t.Fatalf("run %s ended %s after the reset", id, run.Status)
		}
	}
	if err := client.ResetBreaker(ctx, "stormy", "ops-oncall"); err == nil {
		t.Fatal("resetting a closed breaker succeeded")
	}
	events := map[string]bool{}
	for _, id := range ids {
		for _, e := range eventTypes(t, st, id) {
			events[e] = true
		}
	}
	if !events["breaker.tripped"] {
		t.Fatal("no run recorded breaker.tripped")
	}
}

// Runs spending past the workflow's hourly limit trip its breaker.
func TestSpendRateLimitTripsBreaker(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	wf := klaxon.NewWorkflow("pricey", func(ctx context.Context, _ int) (int, error) {
		return klaxon.Step(ctx, "call", func(ctx context.Context) (int, error) {
			fakeCall(ctx, 1000, 1000, 1.00)
			return 1, nil
		})
	}, klaxon.WithSpendRateLimit(2.50))
	tripped := make(chan string, 1)
	config := fastConfig()
	config.Concurrency = 1
	config.OnBreaker = func(workflow, reason string, _ time.Time) { tripped <- reason }
	client := startClient(t, st, config, wf)
	ctx := context.Background()
	var ids []string
	for i := range 6 {
		result, _ := wf.Enqueue(ctx, client, i)
		ids = append(ids, result.Run.ID)
	}
	select {
	case reason := <-tripped:
		if !strings.Contains(reason, "exceeds the limit of $2.50/h") {
			t.Fatalf("reason %q", reason)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the breaker never tripped")
	}
	time.Sleep(200 * time.Millisecond)
	completed := 0
	for _, id := range ids {
		if run, _ := client.Run(ctx, id); run.Status == klaxontype.RunStatusCompleted {
			completed++
		}
	}
	if completed != 3 {
		t.Fatalf("%d runs completed; the third dollar past $2.50 should have stopped the rest", completed)
	}
}

// breakerRecorder is a channel handler that also takes breaker news.
type breakerRecorder struct {
	breakers chan *klaxontype.Breaker
}

func (r *breakerRecorder) HandleDeadLetter(context.Context, *klaxontype.DeadLetter) error { return nil }

func (r *breakerRecorder) HandleBreaker(_ context.Context, b *klaxontype.Breaker) error {
	r.breakers <- b
	return nil
}
