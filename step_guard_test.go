package klaxon_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

// guardWorkerRole makes the test binary the worker process of
// TestUserCodePanicInParallelStepKeepsTheWorkerAlive.
const guardWorkerRole = "guard-worker"

// explodingJSON is a step output whose encoding panics, as a MarshalJSON with
// a bug does.
type explodingJSON struct{}

func (explodingJSON) MarshalJSON() ([]byte, error) { panic("MarshalJSON exploded") }

// guardWorkflows are the child's workflows: each runs a step with Go whose
// user code (a validator, an output's encoder) panics.
func guardWorkflows() []*klaxon.Workflow[int, int] {
	validator := klaxon.NewWorkflow("go-validator-panics", func(ctx context.Context, _ int) (int, error) {
		return klaxon.Go(ctx, "check", func(ctx context.Context) (int, error) { return 7, nil },
			klaxon.Validate(func(int) error {
				var m map[string]int
				m["validator"] = 1 // nil map write
				return nil
			})).Await()
	}, fastRetry)
	encoder := klaxon.NewWorkflow("go-encoder-panics", func(ctx context.Context, _ int) (int, error) {
		_, err := klaxon.Go(ctx, "encode", func(ctx context.Context) (explodingJSON, error) { return explodingJSON{}, nil }).Await()
		return 0, err
	}, fastRetry)
	return []*klaxon.Workflow[int, int]{validator, encoder}
}

// runGuardWorker works every run in the database, prints "ended" once all are
// terminal and exits 0; a panic that escapes the engine kills it first.
func runGuardWorker() int {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, os.Getenv("KLAXON_TEST_DB"), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer st.Close()
	client, err := klaxon.NewClient(st, fastConfig())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, wf := range guardWorkflows() {
		if err := client.Register(wf); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	if err := client.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for {
		runs, err := st.RunList(ctx, &store.RunListParams{})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		terminal := 0
		for _, run := range runs {
			if run.Status.Terminal() {
				terminal++
			}
		}
		if len(runs) > 0 && terminal == len(runs) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	stopCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_ = client.Stop(stopCtx)
	stdout := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(stdout, "ended")
	_ = stdout.Flush()
	return 0
}

// User code that panics in a step started with Go (its validator, its
// output's encoder) fails that run, dead and permanent with the panic's stack,
// and leaves the worker process alive for every other run.
func TestUserCodePanicInParallelStepKeepsTheWorkerAlive(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts a worker process; skipped in -short mode")
	}
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "guard.db")
	st, err := sqlite.Open(ctx, dbPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var runIDs []string
	for i, wf := range guardWorkflows() {
		id := fmt.Sprintf("01GUARD%d", i)
		if _, _, err := st.RunEnqueue(ctx, &store.RunEnqueueParams{ID: id, Workflow: wf.Name(), Input: []byte(`0`)}); err != nil {
			t.Fatal(err)
		}
		runIDs = append(runIDs, id)
	}

	child := startChild(t, guardWorkerRole, dbPath, "")
	exited := make(chan error, 1)
	go func() {
		for range child.lines {
		}
		exited <- child.cmd.Wait()
	}()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("the worker process died: %v", err)
		}
	case <-time.After(30 * time.Second):
		_ = child.cmd.Process.Kill()
		t.Fatal("the worker process did not finish its runs")
	}

	for i, id := range runIDs {
		run, err := st.RunGet(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		step := []string{"check", "encode"}[i]
		if run.Status != klaxontype.RunStatusDead || run.Failure.Class != klaxontype.ClassPermanent || run.Failure.Step != step {
			t.Fatalf("run %s (%s) is %s with failure %+v; want dead, permanent, in step %q", id, run.Workflow, run.Status, run.Failure, step)
		}
		attempts, _ := st.AttemptList(ctx, id)
		if len(attempts) != 1 || attempts[0].ClassifiedBy != "panic" || !strings.Contains(attempts[0].Stack, "step_guard_test.go") {
			t.Fatalf("run %s: attempts = %+v; want one, classified by panic, with the stack", id, attempts)
		}
	}
}

// A plain step whose validator panics is that step's failure: the
// dead-letter entry names it and has its output schema, so a person can
// resolve it.
func TestPanickingValidatorNamesItsStep(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	var validated atomic.Int32
	wf := klaxon.NewWorkflow("validator-panics", func(ctx context.Context, _ string) (string, error) {
		summary, err := klaxon.Step(ctx, "summarize", func(ctx context.Context) (string, error) { return "draft", nil },
			klaxon.Validate(func(string) error {
				validated.Add(1)
				panic("validator bug")
			}))
		if err != nil {
			return "", err
		}
		return summary + ">published", nil
	}, fastRetry)
	client := startClient(t, st, nil, wf)
	ctx := context.Background()
	entry := deadEntry(t, client, wf, "doc")
	if entry.Class != klaxontype.ClassPermanent || entry.Step == nil || entry.Step.Name != "summarize" || len(entry.OutputSchema) == 0 {
		t.Fatalf("entry: class %s, step %+v, output schema %s; want permanent in step summarize with a schema", entry.Class, entry.Step, entry.OutputSchema)
	}
	full, err := client.DeadLetter(ctx, entry.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Attempts) != 1 || !strings.Contains(full.Attempts[0].Stack, "step_guard_test.go") {
		t.Fatalf("attempts = %+v; want the validator's stack", full.Attempts)
	}
	if _, err := client.Resolve(ctx, entry.ID, "summarize", []byte(`"written by hand"`), "carol"); err != nil {
		t.Fatal(err)
	}
	out, err := wf.Await(ctx, client, entry.RunID)
	if err != nil || out != "written by hand>published" {
		t.Fatalf("output %q, %v", out, err)
	}
}

// A doomed run runs nothing more: once the engine knows the run cannot end
// well (nondeterminism, a budget exceeded, its timeout, a cancel), a body that
// swallows the error and calls another step gets an error at once, the step's
// function does not run, and the run ends with the original class.
func TestDoomedRunRunsNoMoreSteps(t *testing.T) {
	t.Parallel()
	type doomed struct {
		name    string
		options []klaxon.WorkflowOption
		// doom is the body up to the doom; it swallows the doom's error. An
		// error it returns is returned by the body before the doom.
		doom func(ctx context.Context, attempt int32, started chan<- struct{}) error
		// act, if set, does what dooms the run from outside once the body started.
		act       func(t *testing.T, client *klaxon.Client, runID string)
		status    klaxontype.RunStatus
		class     klaxontype.FailureClass
		afterDoom func(ctx context.Context) context.Context
	}
	cases := []doomed{{
		name: "nondeterminism",
		doom: func(ctx context.Context, attempt int32, _ chan<- struct{}) error {
			// The first attempt records "fetch" and fails; the second calls
			// another step at the same sequence number.
			if attempt == 1 {
				_, _ = klaxon.Step(ctx, "fetch", func(ctx context.Context) (int, error) { return 1, nil })
				return errors.New("connection reset")
			}
			_, _ = klaxon.Step(ctx, "fetch-v2", func(ctx context.Context) (int, error) { return 1, nil })
			return nil
		},
		status: klaxontype.RunStatusDead, class: klaxontype.ClassNondeterminism,
	}, {
		name: "budget",
		doom: func(ctx context.Context, _ int32, _ chan<- struct{}) error {
			_, _ = klaxon.Step(ctx, "ask", func(ctx context.Context) (int, error) {
				return 0, &klaxon.BudgetExceededError{Why: "100 of a budget of 100 tokens used"}
			})
			return nil
		},
		status: klaxontype.RunStatusDead, class: klaxontype.ClassBudgetExceeded,
	}, {
		name:    "run timeout",
		options: []klaxon.WorkflowOption{klaxon.RunTimeout(100 * time.Millisecond)},
		doom: func(ctx context.Context, _ int32, _ chan<- struct{}) error {
			_, _ = klaxon.Step(ctx, "slow", func(ctx context.Context) (int, error) {
				<-ctx.Done()
				return 0, ctx.Err()
			})
			return nil
		},
		// A body that goes on with a context of its own still carries the run.
		afterDoom: context.WithoutCancel,
		status:    klaxontype.RunStatusDead, class: klaxontype.ClassTimeout,
	}, {
		name: "cancel",
		doom: func(ctx context.Context, _ int32, started chan<- struct{}) error {
			_, _ = klaxon.Step(ctx, "slow", func(ctx context.Context) (int, error) {
				close(started)
				<-ctx.Done()
				return 0, ctx.Err()
			})
			return nil
		},
		act: func(t *testing.T, client *klaxon.Client, runID string) {
			if _, err := client.Cancel(context.Background(), runID, "not needed", "carol"); err != nil {
				t.Error(err)
			}
		},
		afterDoom: context.WithoutCancel,
		status:    klaxontype.RunStatusCancelled, class: klaxontype.ClassCancelled,
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			st := openStore(t)
			var attempts, sideEffects atomic.Int32
			started := make(chan struct{})
			laterErr := make(chan error, 4)
			options := append([]klaxon.WorkflowOption{fastRetry}, c.options...)
			wf := klaxon.NewWorkflow("doomed-"+strings.ReplaceAll(c.name, " ", "-"), func(ctx context.Context, _ int) (int, error) {
				if err := c.doom(ctx, attempts.Add(1), started); err != nil {
					return 0, err
				}
				if c.afterDoom != nil {
					ctx = c.afterDoom(ctx)
				}
				_, err := klaxon.Step(ctx, "charge", func(ctx context.Context) (int, error) {
					sideEffects.Add(1)
					return 1, nil
				})
				laterErr <- err
				return 0, nil // swallows that too
			}, options...)
			client := startClient(t, st, nil, wf)
			result, err := wf.Enqueue(context.Background(), client, 0)
			if err != nil {
				t.Fatal(err)
			}
			if c.act != nil {
				select {
				case <-started:
				case <-time.After(10 * time.Second):
					t.Fatal("the body never started")
				}
				c.act(t, client, result.Run.ID)
			}
			run := awaitRun(t, client, result.Run.ID)
			if n := sideEffects.Load(); n != 0 {
				t.Errorf("the step after the doom ran its side effect %d times", n)
			}
			if run.Status != c.status || run.Failure == nil || run.Failure.Class != c.class {
				t.Fatalf("run %s with failure %+v; want %s with class %s", run.Status, run.Failure, c.status, c.class)
			}
			steps, _ := st.StepList(context.Background(), run.ID)
			for _, s := range steps {
				if s.Name == "charge" {
					t.Fatalf("the step after the doom was checkpointed: %+v", s)
				}
			}
			select {
			case err := <-laterErr:
				if err == nil {
					t.Fatal("the step after the doom returned no error")
				}
			default:
			}
		})
	}
}
