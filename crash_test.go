package klaxon_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
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

// sinkPipeline is the crash test's workflow: five steps, each of which
// performs a side effect, appending its idempotency key and the worker's PID to
// a sink file, as a call to an external API would.
func sinkPipeline(sinkPath string) *klaxon.Workflow[int, int] {
	var (
		mu   sync.Mutex
		sink *os.File
	)
	sideEffect := func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if sink == nil {
			var err error
			if sink, err = os.OpenFile(sinkPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err != nil {
				return err
			}
		}
		// One small write with O_APPEND: the kernel keeps it whole even if the
		// process is killed right after.
		_, err := fmt.Fprintf(sink, "%s %d\n", klaxon.IdempotencyKey(ctx), os.Getpid())
		return err
	}
	return klaxon.NewWorkflow("sink-pipeline", func(ctx context.Context, n int) (int, error) {
		for _, name := range []string{"extract", "classify", "enrich", "transform", "store"} {
			var err error
			n, err = klaxon.Step(ctx, name, func(ctx context.Context) (int, error) {
				time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
				if err := sideEffect(ctx); err != nil {
					return 0, err
				}
				time.Sleep(time.Duration(rand.IntN(1000)) * time.Microsecond)
				return n + 1, nil
			})
			if err != nil {
				return 0, err
			}
		}
		return n, nil
	}, klaxon.ExpectSteps("extract", "classify", "enrich", "transform", "store"))
}

// runChild is the worker process: it works every sink-pipeline run in the
// database, printing "checkpoint KEY" and "replayed KEY" lines, and exits when
// every run is terminal. Role dead-letter-worker is the dead-letter crash
// test's process instead (runDeadLetterWorker).
func runChild(role string) int {
	switch role {
	case "sink-worker":
	case deadLetterWorkerRole:
		return runDeadLetterWorker()
	case guardWorkerRole:
		return runGuardWorker()
	case waitWorkerRole:
		return runWaitWorker()
	case childRunsWorkerRole:
		return runChildRunsWorker()
	case scheduleFirerRole:
		return runScheduleFirer()
	case rateLimitWorkerRole:
		return runRateLimitWorker()
	case retentionApplierRole:
		return runRetentionApplier()
	default:
		fmt.Fprintf(os.Stderr, "unknown child role %q\n", role)
		return 2
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, os.Getenv("KLAXON_TEST_DB"), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer st.Close()
	var out sync.Mutex
	stdout := bufio.NewWriter(os.Stdout)
	client, err := klaxon.NewClient(st, &klaxon.Config{
		Concurrency:   8,
		LeaseDuration: time.Second,
		PollInterval:  20 * time.Millisecond,
		OnStep: func(o *klaxontype.StepOutcome) {
			kind := "checkpoint"
			if o.Replayed {
				kind = "replayed"
			} else if o.Err != nil {
				return
			}
			out.Lock()
			fmt.Fprintf(stdout, "%s %s\n", kind, o.RunID+"/"+fmt.Sprint(o.Seq)+"/"+o.Name)
			stdout.Flush()
			out.Unlock()
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := client.Register(sinkPipeline(os.Getenv("KLAXON_TEST_SINK"))); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := client.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for {
		counts, err := st.RunCountByStatus(ctx, &store.RunCountByStatusParams{Workflow: "sink-pipeline"})
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

func sumCounts(counts map[klaxontype.RunStatus]int) int {
	total := 0
	for _, n := range counts {
		total += n
	}
	return total
}

// childProcess is a running worker process and the lines it printed.
type childProcess struct {
	cmd   *exec.Cmd
	lines chan string
}

func startChild(t *testing.T, role, dbPath, sinkPath string, extraEnv ...string) *childProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childRoleEnv+"="+role, "KLAXON_TEST_DB="+dbPath, "KLAXON_TEST_SINK="+sinkPath)
	cmd.Env = append(cmd.Env, extraEnv...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	child := &childProcess{cmd: cmd, lines: make(chan string, 1024)}
	go func() {
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			child.lines <- scanner.Text()
		}
		_, _ = io.Copy(io.Discard, stdout)
		close(child.lines)
	}()
	return child
}

// TestCrashRecoveryKeepsEverySideEffectOnce kills a worker process with
// SIGKILL at several points, restarts it, and checks what a user of durable
// execution relies on: every run completes, no step whose checkpoint had
// committed before the kill runs again, completed steps are replayed from the
// log on resume, and a step that was in flight at the kill runs again only with
// the same idempotency key.
func TestCrashRecoveryKeepsEverySideEffectOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test starts and kills worker processes; skipped in -short mode")
	}
	const runs = 30
	for _, killAfter := range []int{1, 37, 121} {
		t.Run(fmt.Sprintf("kill-after-%d-checkpoints", killAfter), func(t *testing.T) {
			dir := t.TempDir()
			dbPath, sinkPath := filepath.Join(dir, "crash.db"), filepath.Join(dir, "sink.log")
			ctx := context.Background()
			st, err := sqlite.Open(ctx, dbPath, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			producer, _ := klaxon.NewClient(st, nil)
			pipeline := sinkPipeline(sinkPath)
			_ = producer.Register(pipeline)
			for i := range runs {
				if _, err := pipeline.Enqueue(ctx, producer, i*100); err != nil {
					t.Fatal(err)
				}
			}

			first := startChild(t, "sink-worker", dbPath, sinkPath)
			for seen := 0; seen < killAfter; {
				line, ok := <-first.lines
				if !ok {
					t.Fatal("the first worker exited before the kill point")
				}
				if strings.HasPrefix(line, "checkpoint ") {
					seen++
				}
			}
			if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = first.cmd.Wait()
			committed := committedSteps(t, st)
			if len(committed) < killAfter {
				t.Fatalf("%d checkpoints committed before the kill, but the worker reported %d", len(committed), killAfter)
			}

			second := startChild(t, "sink-worker", dbPath, sinkPath)
			replayed := make(map[string]bool)
			for line := range second.lines {
				if key, ok := strings.CutPrefix(line, "replayed "); ok {
					replayed[key] = true
				}
			}
			if err := second.cmd.Wait(); err != nil {
				t.Fatalf("second worker: %v", err)
			}

			final := committedSteps(t, st)
			assertAllCompleted(t, st, runs)
			executions := sideEffects(t, sinkPath)
			firstPID, secondPID := first.cmd.Process.Pid, second.cmd.Process.Pid
			for key := range committed {
				if got := executions[key]; len(got) != 1 || got[0] != firstPID {
					t.Errorf("step %s committed before the kill but ran in processes %v", key, got)
				}
			}
			for key, pids := range executions {
				if _, ok := final[key]; !ok {
					t.Errorf("side effect with key %s belongs to no step in the log", key)
				}
				if len(pids) > 2 || (len(pids) == 2 && (pids[0] != firstPID || pids[1] != secondPID)) {
					t.Errorf("step %s ran in processes %v; only a step in flight at the kill may run again", key, pids)
				}
			}
			for key := range final {
				if len(executions[key]) == 0 {
					t.Errorf("step %s is in the log but its side effect never happened", key)
				}
			}
			// Runs cut off mid-way were resumed from the log, not restarted.
			for key, step := range committed {
				if step.unfinishedAtKill && !replayed[key] {
					t.Errorf("step %s of a run unfinished at the kill was not replayed on resume", key)
				}
			}
			rerun := 0
			for _, pids := range executions {
				if len(pids) == 2 {
					rerun++
				}
			}
			t.Logf("kill after %d: %d steps committed before the kill, %d replayed on resume, %d in-flight steps ran again with the same key",
				killAfter, len(committed), len(replayed), rerun)
		})
	}
}

type committedStep struct {
	unfinishedAtKill bool
}

// committedSteps maps every step key in the log to whether its run was still
// unfinished when the log was read.
func committedSteps(t *testing.T, st *sqlite.Store) map[string]committedStep {
	t.Helper()
	ctx := context.Background()
	runs, err := st.RunList(ctx, &store.RunListParams{Workflow: "sink-pipeline", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	steps := make(map[string]committedStep)
	for _, run := range runs {
		log, err := st.StepList(ctx, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, step := range log {
			steps[step.IdempotencyKey] = committedStep{unfinishedAtKill: !run.Status.Terminal()}
		}
	}
	return steps
}

func assertAllCompleted(t *testing.T, st *sqlite.Store, want int) {
	t.Helper()
	counts, err := st.RunCountByStatus(context.Background(), &store.RunCountByStatusParams{Workflow: "sink-pipeline"})
	if err != nil {
		t.Fatal(err)
	}
	if counts[klaxontype.RunStatusCompleted] != want {
		t.Fatalf("runs by status %v; want all %d completed", counts, want)
	}
}

// sideEffects reads the sink: for each idempotency key, the PIDs of the
// processes that performed its side effect, in order.
func sideEffects(t *testing.T, path string) map[string][]int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	executions := make(map[string][]int)
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var key string
		var pid int
		if _, err := fmt.Sscanf(line, "%s %d", &key, &pid); err != nil {
			t.Fatalf("sink line %q: %v", line, err)
		}
		executions[key] = append(executions[key], pid)
	}
	return executions
}
