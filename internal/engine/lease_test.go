package engine

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

// A worker that hangs past its lease is overtaken by another worker with a
// higher epoch; its late checkpoint is rejected and recorded as
// duplicate.suppressed, and the step output written by the new holder stays.
func TestHungWorkerIsOvertakenAndItsLateWriteSuppressed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "lease.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	hungStarted := make(chan struct{})
	unblockHung := make(chan struct{})
	lateWrite := make(chan error, 1)
	var once sync.Once
	definition := func(holder string) *Definition {
		return &Definition{
			Name: "slow",
			Execute: func(ctx context.Context, _ []byte) ([]byte, error) {
				step, err := BeginStep(ctx, StepCall{Name: "generate", Code: &rawCode{}})
				if err != nil {
					return nil, err
				}
				if step.Recorded() {
					return step.Run(ctx)
				}
				started := time.Now()
				if holder == "hung" {
					once.Do(func() { close(hungStarted) })
					<-unblockHung // the process froze here
				}
				_, err = step.Finish(ctx, StepResult{Output: []byte(`"written by ` + holder + `"`), Started: started, Finished: time.Now()})
				if holder == "hung" {
					lateWrite <- err
				}
				if err != nil {
					return nil, err
				}
				return []byte(`"done"`), nil
			},
		}
	}
	_, _, err = st.RunEnqueue(ctx, &store.RunEnqueueParams{ID: "01RUN", Workflow: "slow", Input: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}

	hungOutcomes := make(chan *klaxontype.AttemptOutcome, 1)
	hung, err := NewWorker(Config{NewID: testID, Store: st, ID: "hung", Workflows: map[string]*Definition{"slow": definition("hung")},
		// One slot, busy with the hung run: a frozen process claims nothing more.
		Concurrency:   1,
		LeaseDuration: 200 * time.Millisecond, PollInterval: 10 * time.Millisecond,
		OnAttempt:          func(o *klaxontype.AttemptOutcome) { hungOutcomes <- o },
		heartbeatsDisabled: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	hungCtx, stopHung := context.WithCancel(ctx)
	hungDone := make(chan struct{})
	go func() { _ = hung.Run(hungCtx); close(hungDone) }()
	<-hungStarted

	healthyOutcomes := make(chan *klaxontype.AttemptOutcome, 1)
	healthy, err := NewWorker(Config{NewID: testID, Store: st, ID: "healthy", Workflows: map[string]*Definition{"slow": definition("healthy")},
		LeaseDuration: time.Second, PollInterval: 10 * time.Millisecond,
		OnAttempt: func(o *klaxontype.AttemptOutcome) { healthyOutcomes <- o },
	})
	if err != nil {
		t.Fatal(err)
	}
	healthyCtx, stopHealthy := context.WithCancel(ctx)
	defer stopHealthy()
	go func() { _ = healthy.Run(healthyCtx) }()

	select {
	case o := <-healthyOutcomes:
		if o.Result != klaxontype.AttemptCompleted || o.Attempt != 2 {
			t.Fatalf("healthy worker's attempt: %+v", o)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the healthy worker did not take over the expired lease")
	}

	close(unblockHung)
	if err := <-lateWrite; !errors.Is(err, klaxontype.ErrLeaseLost) {
		t.Fatalf("late checkpoint: err = %v, want ErrLeaseLost", err)
	}
	if o := <-hungOutcomes; o.Result != klaxontype.AttemptLeaseLost {
		t.Fatalf("hung worker's attempt ended %s, want lease_lost", o.Result)
	}
	stopHung()
	<-hungDone

	run, _ := st.RunGet(ctx, "01RUN")
	steps, _ := st.StepList(ctx, "01RUN")
	if run.Status != klaxontype.RunStatusCompleted || run.Epoch != 2 || len(steps) != 1 ||
		string(steps[0].Output) != `"written by healthy"` || steps[0].Epoch != 2 {
		t.Fatalf("run %s epoch %d, steps %+v", run.Status, run.Epoch, steps)
	}
	events, _ := st.EventList(ctx, "01RUN")
	var reclaimed, suppressed bool
	for _, e := range events {
		switch e.Type {
		case klaxontype.EventLeaseReclaimed:
			reclaimed = e.Actor == "healthy"
		case klaxontype.EventDuplicateSuppressed:
			suppressed = e.Actor == "hung" && e.Step == "generate" && e.StepSeq == 1
		}
	}
	if !reclaimed || !suppressed {
		t.Fatalf("want lease.reclaimed by healthy and duplicate.suppressed from hung; events: %+v", events)
	}
	attempts, _ := st.AttemptList(ctx, "01RUN")
	if len(attempts) != 1 || attempts[0].Worker != "hung" || attempts[0].ClassifiedBy != "lease" {
		t.Fatalf("attempts = %+v", attempts)
	}
}
