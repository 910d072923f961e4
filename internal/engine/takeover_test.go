package engine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

var testIDs atomic.Int64

// testID makes unique, increasing IDs for dead-letter entries.
func testID() string { return fmt.Sprintf("01TEST%020d", testIDs.Add(1)) }

func openTestStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "engine.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// startWorker runs a worker until the test ends.
func startWorker(t *testing.T, config Config) {
	t.Helper()
	if config.PollInterval == 0 {
		config.PollInterval = 10 * time.Millisecond
	}
	worker, err := NewWorker(config)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = worker.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func awaitStatus(t *testing.T, st store.Store, runID string, want klaxontype.RunStatus) *klaxontype.Run {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		run, err := st.RunGet(context.Background(), runID)
		if err != nil {
			t.Fatal(err)
		}
		if run.Status == want {
			return run
		}
		time.Sleep(10 * time.Millisecond)
	}
	run, _ := st.RunGet(context.Background(), runID)
	t.Fatalf("run %s is %s, never became %s", runID, run.Status, want)
	return nil
}

// step checkpoints a step whose output was produced elsewhere, as a remote
// worker's is, with an optional compensation.
func step(ctx context.Context, name string, output string, compensate func(context.Context) error) error {
	pending, err := BeginStep(ctx, StepCall{Name: name, Compensates: compensate != nil, Code: &rawCode{compensate: compensate}})
	if err != nil {
		return err
	}
	now := time.Now()
	_, err = pending.Finish(ctx, StepResult{Output: []byte(`"` + output + `"`), Started: now, Finished: now})
	return err
}

// A run whose every attempt lost its worker is not started again once its
// attempts are used up: it is dead-lettered with a reason that says so.
func TestRunThatKeepsLosingItsWorkerIsDeadLettered(t *testing.T) {
	t.Parallel()
	st := openTestStore(t)
	hung := make(chan struct{})
	defer close(hung)
	definition := &Definition{
		Name:  "crashy",
		Retry: klaxontype.RetryPolicy{MaxAttempts: 1},
		Execute: func(ctx context.Context, _ []byte) ([]byte, error) {
			if err := step(ctx, "prepare", "ok", nil); err != nil {
				return nil, err
			}
			if _, err := BeginStep(ctx, StepCall{Name: "crash", Code: &rawCode{}}); err != nil {
				return nil, err
			}
			<-hung // the step's function kills its worker, every time
			return nil, errors.New("unreachable")
		},
	}
	_, _, err := st.RunEnqueue(context.Background(), &store.RunEnqueueParams{ID: "01CRASHY", Workflow: "crashy", Input: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	startWorker(t, Config{NewID: testID, Store: st, ID: "doomed", Concurrency: 1, LeaseDuration: 100 * time.Millisecond,
		Workflows: map[string]*Definition{"crashy": definition}, heartbeatsDisabled: true})
	awaitStatus(t, st, "01CRASHY", klaxontype.RunStatusRunning)
	startWorker(t, Config{NewID: testID, Store: st, ID: "survivor", LeaseDuration: time.Second,
		Workflows: map[string]*Definition{"crashy": definition}})

	run := awaitStatus(t, st, "01CRASHY", klaxontype.RunStatusDead)
	if run.Failure.Class != klaxontype.ClassTransient || !strings.Contains(run.Failure.Reason, "worker was lost on 1 attempts") {
		t.Fatalf("failure = %+v", run.Failure)
	}
}

// A worker that dies while compensating leaves the run to another worker,
// which replays the log to find the compensations and runs only those not yet
// recorded.
func TestCompensationResumesAfterWorkerLoss(t *testing.T) {
	t.Parallel()
	st := openTestStore(t)
	var mu sync.Mutex
	ran := map[string][]string{} // compensation -> workers that ran it
	hang := make(chan struct{})
	defer close(hang)
	definition := func(worker string) *Definition {
		undo := func(name string) func(context.Context) error {
			return func(context.Context) error {
				mu.Lock()
				ran[name] = append(ran[name], worker)
				mu.Unlock()
				if worker == "first" && name == "reserve" {
					<-hang // the first worker dies in the middle of compensating
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
	if run.Failure.Class != klaxontype.ClassPermanent || run.Failure.Step != "ship" {
		t.Fatalf("failure = %+v", run.Failure)
	}
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(ran["charge"], ","); got != "first" {
		t.Fatalf("charge was compensated by %q; want once, by the first worker", got)
	}
	if got := strings.Join(ran["reserve"], ","); got != "first,second" {
		t.Fatalf("reserve was compensated by %q; want the interrupted try, then the second worker", got)
	}
	steps, _ := st.StepList(context.Background(), "01TRIP")
	for _, s := range steps {
		if s.Status != klaxontype.StepStatusCompensated {
			t.Fatalf("step %s is %s, want compensated", s.Name, s.Status)
		}
	}
}

type permanentError struct{ error }

func (permanentError) FailureClass() klaxontype.FailureClass { return klaxontype.ClassPermanent }
