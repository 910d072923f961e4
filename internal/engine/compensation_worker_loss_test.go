package engine

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// A compensation that failed on the first worker, before that worker died in
// the middle of compensating: the second worker finishes the rest, and the run
// is compensation_failed, routed to ops.
func TestCompensationFailureSurvivesWorkerLoss(t *testing.T) {
	st := openTestStore(t)
	hang := make(chan struct{})
	defer close(hang)
	definition := func(worker string) *Definition {
		undo := func(name string) func(context.Context) error {
			return func(context.Context) error {
				if worker == "first" && name == "charge" {
					return errors.New("refund API down")
				}
				if worker == "first" && name == "reserve" {
					<-hang
				}
				return nil
			}
		}
		return &Definition{
			Name: "trip",
			Execute: func(ctx context.Context, _ []byte) ([]byte, error) {
				if err := step(ctx, "reserve", "R1", undo("reserve")); err != nil {
					return nil, err
				}
				if err := step(ctx, "charge", "C1", undo("charge")); err != nil {
					return nil, err
				}
				return nil, &klaxontype.StepError{Name: "ship", Seq: 3, Err: permanentError{errors.New("address rejected")}}
			},
		}
	}
	_, _, err := st.RunEnqueue(context.Background(), &store.RunEnqueueParams{ID: "01TRIP", Workflow: "trip", Input: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	startWorker(t, Config{NewID: testID, Store: st, ID: "first", Concurrency: 1, LeaseDuration: 100 * time.Millisecond,
		Workflows: map[string]*Definition{"trip": definition("first")}, heartbeatsDisabled: true})
	awaitStatus(t, st, "01TRIP", klaxontype.RunStatusCompensating)
	startWorker(t, Config{NewID: testID, Store: st, ID: "second", LeaseDuration: time.Second,
		Workflows: map[string]*Definition{"trip": definition("second")}})
	run := awaitStatus(t, st, "01TRIP", klaxontype.RunStatusDead)
	steps, _ := st.StepList(context.Background(), "01TRIP")
	for _, s := range steps {
		t.Logf("step %d %s: %s %q", s.Seq, s.Name, s.Status, s.CompensationError)
	}
	entries, _ := st.DLQList(context.Background(), &store.DLQListParams{})
	for _, e := range entries {
		t.Logf("dlq entry class=%s channel=%s reason=%q", e.Class, e.Channel, e.Reason)
	}
	if run.Failure.Class != klaxontype.ClassCompensationFailed {
		t.Fatalf("run failure class = %s (%q), want compensation_failed: step charge's compensation failed", run.Failure.Class, run.Failure.Reason)
	}
}

// A compensation that kills its worker every time: once the attempts are used
// up the run is dead-lettered as compensation_failed, not reclaimed forever.
func TestCompensationThatKillsWorkersIsDeadLettered(t *testing.T) {
	st := openTestStore(t)
	hang := make(chan struct{})
	defer close(hang)
	definition := &Definition{
		Name:  "trip",
		Retry: klaxontype.RetryPolicy{MaxAttempts: 2},
		Execute: func(ctx context.Context, _ []byte) ([]byte, error) {
			if err := step(ctx, "reserve", "R1", func(context.Context) error { <-hang; return nil }); err != nil {
				return nil, err
			}
			return nil, &klaxontype.StepError{Name: "ship", Seq: 2, Err: permanentError{errors.New("address rejected")}}
		},
	}
	_, _, err := st.RunEnqueue(context.Background(), &store.RunEnqueueParams{ID: "01LOOP", Workflow: "trip", Input: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	startWorker(t, Config{NewID: testID, Store: st, ID: "doomed", Concurrency: 50, LeaseDuration: 50 * time.Millisecond,
		Workflows: map[string]*Definition{"trip": definition}, heartbeatsDisabled: true})
	time.Sleep(2 * time.Second)
	run, _ := st.RunGet(context.Background(), "01LOOP")
	t.Logf("after 2s: status=%s attempt=%d (MaxAttempts 2)", run.Status, run.Attempt)
	if run.Status == klaxontype.RunStatusCompensating && run.Attempt > 5 {
		t.Fatalf("compensating run reclaimed %d times with MaxAttempts 2, never dead-lettered", run.Attempt)
	}
}
