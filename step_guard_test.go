package klaxon_test

import (
	"bufio"
	"context"
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
