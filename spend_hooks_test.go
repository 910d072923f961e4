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

// OnSpend sees every model call as it is reported, a failed step's too, and
// the attempt that ends a run carries its retries and its total spend: what
// metrics need to count tokens, cost and retries per run.
func TestHooksReportSpendAndRunTotals(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var judged atomic.Int32
	wf := klaxon.NewWorkflow("spend-hooks", func(ctx context.Context, _ int) (string, error) {
		return klaxon.Step(ctx, "judge", func(ctx context.Context) (string, error) {
			fakeCall(ctx, 300, 50, 0.002)
			if judged.Add(1) == 1 {
				return "", errors.New("gateway timeout after the answer was billed")
			}
			return "approved", nil
		})
	}, fastRetry)
	var mu sync.Mutex
	var spends []*klaxontype.SpendOutcome
	var attempts []*klaxontype.AttemptOutcome
	config := fastConfig()
	config.OnSpend = func(o *klaxontype.SpendOutcome) { mu.Lock(); spends = append(spends, o); mu.Unlock() }
	config.OnAttempt = func(o *klaxontype.AttemptOutcome) { mu.Lock(); attempts = append(attempts, o); mu.Unlock() }
	client := startClient(t, st, config, wf)
	result, _ := wf.Enqueue(context.Background(), client, 0)
	if _, err := wf.Await(context.Background(), client, result.Run.ID); err != nil {
		t.Fatal(err)
	}
	// The run is completed once its completion is durable; the worker calls
	// OnAttempt right after, so Await may return first.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		n := len(attempts)
		mu.Unlock()
		if n >= 2 || time.Now().After(deadline) {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(spends) != 2 {
		t.Fatalf("OnSpend called %d times; want 2, the failed call and the good one", len(spends))
	}
	for _, s := range spends {
		if s.RunID != result.Run.ID || s.Workflow != "spend-hooks" || s.Step != "judge" || s.Seq != 1 || s.Spend.Usage.InputTokens != 300 {
			t.Errorf("OnSpend got %+v", s)
		}
	}
	if len(attempts) != 2 || attempts[0].Result != klaxontype.AttemptRetrying || attempts[1].Result != klaxontype.AttemptCompleted {
		t.Fatalf("attempts %+v; want retrying then completed", attempts)
	}
	if attempts[0].Retries != 1 || attempts[1].Retries != 1 {
		t.Errorf("retries %d then %d; want 1 and 1", attempts[0].Retries, attempts[1].Retries)
	}
	last := attempts[1].Spend
	if last.Usage.InputTokens != 600 || last.ModelCalls != 2 || last.Cost.Unknown || !near(last.Cost.USD, 0.004) {
		t.Errorf("spend at the end of the run %+v; want both calls", last)
	}
}
