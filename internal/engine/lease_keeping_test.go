package engine

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// When the same worker claims a run again (short backoff) before the previous
// attempt's slot is returned, the old attempt's end must not drop the new
// lease, which would then stop being renewed.
func TestSameWorkerReclaimKeepsItsLease(t *testing.T) {
	st := openTestStore(t)
	var executions atomic.Int32
	var mu sync.Mutex
	var attempts []int
	definition := &Definition{
		Name:  "flaky",
		Retry: klaxontype.RetryPolicy{MaxAttempts: 5, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond},
		Execute: func(ctx context.Context, _ []byte) ([]byte, error) {
			exec := ExecutionFrom(ctx)
			mu.Lock()
			attempts = append(attempts, exec.run.Attempt)
			mu.Unlock()
			if exec.run.Attempt == 1 {
				return nil, errors.New("transient blip")
			}
			step, err := BeginStep(ctx, StepCall{Name: "slow", Code: &rawCode{}})
			if err != nil {
				return nil, err
			}
			if !step.Recorded() {
				executions.Add(1)
				select {
				case <-time.After(1500 * time.Millisecond):
				case <-ctx.Done():
				}
				now := time.Now()
				if _, err := step.Finish(ctx, StepResult{Output: []byte(`"x"`), Started: now, Finished: now}); err != nil {
					return nil, err
				}
			}
			return []byte(`"done"`), nil
		},
	}
	_, _, err := st.RunEnqueue(context.Background(), &store.RunEnqueueParams{ID: "01FLAKY", Workflow: "flaky", Input: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	startWorker(t, Config{NewID: testID, Store: st, ID: "w", Concurrency: 4, LeaseDuration: time.Second,
		HeartbeatInterval: 50 * time.Millisecond,
		Workflows:         map[string]*Definition{"flaky": definition},
		OnAttempt: func(o *klaxontype.AttemptOutcome) {
			if o.Result == klaxontype.AttemptRetrying {
				time.Sleep(100 * time.Millisecond) // a metrics hook that takes a while
			}
		}})
	var run *klaxontype.Run
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		run, _ = st.RunGet(context.Background(), "01FLAKY")
		if run.Status.Terminal() {
			break
		}
	}
	t.Logf("final status %s failure %+v", run.Status, run.Failure)
	events, _ := st.EventList(context.Background(), run.ID)
	var types []string
	for _, e := range events {
		types = append(types, string(e.Type))
	}
	history, _ := st.AttemptList(context.Background(), run.ID)
	for _, a := range history {
		t.Logf("attempt %d %s by %s: %s", a.Attempt, a.Class, a.ClassifiedBy, a.Message)
	}
	mu.Lock()
	t.Logf("attempts started: %v; slow step executed %d times; events: %s", attempts, executions.Load(), strings.Join(types, " "))
	mu.Unlock()
	if strings.Contains(strings.Join(types, " "), "lease.reclaimed") {
		t.Fatalf("a healthy worker lost its own lease; the slow step ran %d times", executions.Load())
	}
}

// flakyHeartbeats fails LeasesExtend until a moment, like a store briefly
// locked by another process or a process stalled past its lease.
type flakyHeartbeats struct {
	store.Store
	until time.Time
}

func (f *flakyHeartbeats) LeasesExtend(ctx context.Context, p *store.LeasesExtendParams) ([]string, error) {
	if time.Now().Before(f.until) {
		return nil, errors.New("database is locked")
	}
	return f.Store.LeasesExtend(ctx, p)
}

// One worker whose heartbeats fail for a little longer than the lease reclaims
// its own run; the old attempt is stopped, and the run completes instead of
// losing its lease again and again.
func TestHeartbeatOutageDoesNotCascade(t *testing.T) {
	st := openTestStore(t)
	var executions atomic.Int32
	definition := &Definition{
		Name:  "long",
		Retry: klaxontype.RetryPolicy{MaxAttempts: 5},
		Execute: func(ctx context.Context, _ []byte) ([]byte, error) {
			step, err := BeginStep(ctx, StepCall{Name: "slow", Code: &rawCode{}})
			if err != nil {
				return nil, err
			}
			if !step.Recorded() {
				executions.Add(1)
				select {
				case <-time.After(1200 * time.Millisecond):
				case <-ctx.Done():
				}
				now := time.Now()
				if _, err := step.Finish(ctx, StepResult{Output: []byte(`"x"`), Started: now, Finished: now}); err != nil {
					return nil, err
				}
			}
			return []byte(`"done"`), nil
		},
	}
	_, _, err := st.RunEnqueue(context.Background(), &store.RunEnqueueParams{ID: "01LONG", Workflow: "long", Input: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	flaky := &flakyHeartbeats{Store: st, until: time.Now().Add(500 * time.Millisecond)}
	startWorker(t, Config{NewID: testID, Store: flaky, ID: "only", Concurrency: 4, LeaseDuration: 300 * time.Millisecond,
		HeartbeatInterval: 50 * time.Millisecond, Workflows: map[string]*Definition{"long": definition}})
	var run *klaxontype.Run
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		run, _ = st.RunGet(context.Background(), "01LONG")
		if run.Status.Terminal() {
			break
		}
	}
	history, _ := st.AttemptList(context.Background(), run.ID)
	for _, a := range history {
		t.Logf("attempt %d %s by %s", a.Attempt, a.Class, a.ClassifiedBy)
	}
	t.Logf("final %s %+v; step executed %d times", run.Status, run.Failure, executions.Load())
	if run.Status != klaxontype.RunStatusCompleted {
		t.Fatalf("a 0.5s heartbeat outage on a single healthy worker ended the run %s", run.Status)
	}
}
