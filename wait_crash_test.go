package klaxon_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

const waitWorkerRole = "wait-worker"

// napPipeline sleeps between two steps with side effects, each appending its
// idempotency key and the worker's PID to a sink file.
func napPipeline(sinkPath string) *klaxon.Workflow[int, int] {
	var mu sync.Mutex
	sideEffect := func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		sink, err := os.OpenFile(sinkPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		defer sink.Close()
		_, err = fmt.Fprintf(sink, "%s %d\n", klaxon.IdempotencyKey(ctx), os.Getpid())
		return err
	}
	return klaxon.NewWorkflow("nap-pipeline", func(ctx context.Context, napMillis int) (int, error) {
		if _, err := klaxon.Step(ctx, "before", func(ctx context.Context) (int, error) { return 1, sideEffect(ctx) }); err != nil {
			return 0, err
		}
		if err := klaxon.Sleep(ctx, "nap", time.Duration(napMillis)*time.Millisecond); err != nil {
			return 0, err
		}
		return klaxon.Step(ctx, "after", func(ctx context.Context) (int, error) { return 2, sideEffect(ctx) })
	}, klaxon.ExpectSteps("before", "nap", "after"))
}

// runWaitWorker works nap-pipeline runs until every run is terminal.
func runWaitWorker() int {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, os.Getenv("KLAXON_TEST_DB"), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer st.Close()
	client, err := klaxon.NewClient(st, &klaxon.Config{Concurrency: 8, LeaseDuration: time.Second, PollInterval: 20 * time.Millisecond})
	if err == nil {
		err = client.Register(napPipeline(os.Getenv("KLAXON_TEST_SINK")))
	}
	if err == nil {
		err = client.Start(ctx)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for {
		counts, err := st.RunCountByStatus(ctx, &store.RunCountByStatusParams{Workflow: "nap-pipeline"})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if counts[klaxontype.RunStatusCompleted]+counts[klaxontype.RunStatusDead] == sumCounts(counts) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = client.Stop(ctx)
	return 0
}

// TestWaitingRunsSurviveTheirWorkersSIGKILL kills the only worker while its
// runs sleep, with their timers coming due while no process runs. A new
// worker fires every due timer once: each run completes, each side effect
// before the sleep ran once in the first process and each after it once in
// the second, no wait is lost or doubled, and no wake-up counted an attempt.
func TestWaitingRunsSurviveTheirWorkersSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test starts and kills worker processes; skipped in -short mode")
	}
	const runs = 20
	dir := t.TempDir()
	dbPath, sinkPath := filepath.Join(dir, "waits.db"), filepath.Join(dir, "sink.log")
	ctx := context.Background()
	st, err := sqlite.Open(ctx, dbPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	producer, _ := klaxon.NewClient(st, nil)
	pipeline := napPipeline(sinkPath)
	_ = producer.Register(pipeline)
	ids := make([]string, runs)
	for i := range runs {
		result, err := pipeline.Enqueue(ctx, producer, 700+i*20)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = result.Run.ID
	}

	first := startChild(t, waitWorkerRole, dbPath, sinkPath)
	deadline := time.Now().Add(20 * time.Second)
	for {
		counts, err := st.RunCountByStatus(ctx, &store.RunCountByStatusParams{Workflow: "nap-pipeline"})
		if err != nil {
			t.Fatal(err)
		}
		if counts[klaxontype.RunStatusWaiting] == runs {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("runs never all waited: %v", counts)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.cmd.Wait()
	// Every timer comes due while no worker runs.
	time.Sleep(1200 * time.Millisecond)

	second := startChild(t, waitWorkerRole, dbPath, sinkPath)
	// A lost timer would keep the worker waiting for its run forever.
	hung := time.AfterFunc(30*time.Second, func() { _ = second.cmd.Process.Kill() })
	defer hung.Stop()
	for range second.lines {
	}
	if err := second.cmd.Wait(); err != nil {
		t.Fatalf("second worker: %v", err)
	}

	executions := sideEffects(t, sinkPath)
	firstPID, secondPID := first.cmd.Process.Pid, second.cmd.Process.Pid
	for _, id := range ids {
		run, err := st.RunGet(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if run.Status != klaxontype.RunStatusCompleted || run.Attempt != 1 {
			t.Errorf("run %s ended %s at attempt %d; want completed at attempt 1", id, run.Status, run.Attempt)
		}
		steps, err := st.StepList(ctx, id)
		if err != nil || len(steps) != 3 || steps[1].Name != "nap" {
			t.Errorf("run %s has steps %v (%v); want before, nap, after", id, steps, err)
		}
		waits, err := st.WaitList(ctx, &store.WaitListParams{RunID: id})
		if err != nil || len(waits) != 1 || waits[0].State != klaxontype.WaitSatisfied {
			t.Errorf("run %s has waits %+v (%v); want its one nap, satisfied", id, waits, err)
		}
		before, after := id+"/1/before", id+"/3/after"
		if got := executions[before]; len(got) != 1 || got[0] != firstPID {
			t.Errorf("step before of run %s ran in processes %v; want once, in the first", id, got)
		}
		if got := executions[after]; len(got) != 1 || got[0] != secondPID {
			t.Errorf("step after of run %s ran in processes %v; want once, in the second", id, got)
		}
	}
	for key := range executions {
		if !strings.HasSuffix(key, "/before") && !strings.HasSuffix(key, "/after") {
			t.Errorf("unexpected side effect %s", key)
		}
	}
}
