package postgres_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/postgres"
	"github.com/klaxonhq/klaxon/store"
)

const sinkWorkerRole = "sink-worker"

// sinkPipeline is the multi-process tests' workflow: five steps, each of which
// performs a side effect the way a careful user's step calls an external
// system — with the step's idempotency key. Every execution is logged in
// sink_attempts; the effect itself lands in sink once per key.
func sinkPipeline(pool *pgxpool.Pool) *klaxon.Workflow[int, int] {
	pid := os.Getpid()
	return klaxon.NewWorkflow("sink-pipeline", func(ctx context.Context, n int) (int, error) {
		for _, name := range []string{"extract", "classify", "enrich", "transform", "store"} {
			var err error
			n, err = klaxon.Step(ctx, name, func(ctx context.Context) (int, error) {
				time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
				key := klaxon.IdempotencyKey(ctx)
				if _, err := pool.Exec(ctx, "INSERT INTO sink_attempts (key, pid) VALUES ($1, $2)", key, pid); err != nil {
					return 0, err
				}
				if _, err := pool.Exec(ctx, "INSERT INTO sink (key, pid) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", key, pid); err != nil {
					return 0, err
				}
				return n + 1, nil
			})
			if err != nil {
				return 0, err
			}
		}
		return n, nil
	}, klaxon.ExpectSteps("extract", "classify", "enrich", "transform", "store"),
		// A step's own database calls fail while the database restarts; the
		// retries outlast the restart.
		klaxon.WithRetryPolicy(klaxontype.RetryPolicy{MaxAttempts: 40, InitialBackoff: 50 * time.Millisecond, MaxBackoff: time.Second}))
}

// runChild is a worker process: it works sink-pipeline runs until it gets
// SIGTERM, which stops it gracefully. It prints "ready", then "completed RUN"
// for each run it completed.
func runChild(role string) int {
	if role != sinkWorkerRole {
		fmt.Fprintf(os.Stderr, "unknown child role %q\n", role)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	url := os.Getenv("KLAXON_TEST_DB")
	st, err := postgres.Open(context.Background(), url, &postgres.Options{MaxConns: 12})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer st.Close()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer pool.Close()
	out := make(chan string, 1024)
	client, err := klaxon.NewClient(st, &klaxon.Config{
		Concurrency:   16,
		LeaseDuration: 2 * time.Second,
		PollInterval:  time.Second, // idle workers wake on LISTEN/NOTIFY
		ShutdownGrace: 5 * time.Second,
		OnAttempt: func(o *klaxontype.AttemptOutcome) {
			if o.Result == klaxontype.AttemptCompleted {
				out <- "completed " + o.RunID
			}
		},
	})
	if err == nil {
		err = client.Register(sinkPipeline(pool))
	}
	if err == nil {
		err = client.Start(context.Background())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	stdout := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(stdout, "ready")
	stdout.Flush()
	for ctx.Err() == nil {
		select {
		case line := <-out:
			fmt.Fprintln(stdout, line)
			stdout.Flush()
		case <-ctx.Done():
		}
	}
	err = client.Stop(context.Background())
	for len(out) > 0 {
		fmt.Fprintln(stdout, <-out)
	}
	stdout.Flush()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// worker is a running worker process and what it printed.
type worker struct {
	cmd       *exec.Cmd
	completed chan string
	ready     chan struct{}
	exited    chan error
}

func startWorker(t *testing.T, url string) *worker {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childRoleEnv+"="+sinkWorkerRole, "KLAXON_TEST_DB="+url)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &worker{cmd: cmd, completed: make(chan string, 4096), ready: make(chan struct{}), exited: make(chan error, 1)}
	go func() {
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			line := scanner.Text()
			if line == "ready" {
				close(w.ready)
			} else if id, ok := strings.CutPrefix(line, "completed "); ok {
				w.completed <- id
			}
		}
		close(w.completed)
		w.exited <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return w
}

// TestManyWorkerProcesses runs 1,000 five-step runs on three worker processes
// against one PostgreSQL schema, SIGKILLs one in the middle and stops another
// with SIGTERM, and checks what a user relies on: every run completes, every
// completed step's side effect happened exactly once, only steps in flight
// on the killed worker ran twice (with the same key), and the survivors took
// over the dead worker's runs once its leases expired.
func TestManyWorkerProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills worker processes; skipped in -short mode")
	}
	url, st, pool, producer, pipeline := newSinkFixture(t)
	ctx := context.Background()

	workers := []*worker{startWorker(t, url), startWorker(t, url), startWorker(t, url)}
	for _, w := range workers {
		<-w.ready
	}
	const runs = 1000
	for i := range runs {
		if _, err := pipeline.Enqueue(ctx, producer, i); err != nil {
			t.Fatal(err)
		}
	}
	killed, stopped := workers[0], workers[1]
	awaitCompleted(t, st, runs/4)
	// Killed while it holds runs, which its survivors must then reclaim: on
	// a loaded machine the others may have done every claim so far.
	awaitHolding(t, pool, killed.cmd.Process.Pid)
	if err := killed.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	awaitCompleted(t, st, runs/2)
	if err := stopped.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-stopped.exited:
		if err != nil {
			t.Errorf("the worker stopped with SIGTERM exited with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the worker stopped with SIGTERM did not exit within 30s")
	}
	awaitCompleted(t, st, runs)
	survivor := workers[2]
	_ = survivor.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-survivor.exited; err != nil {
		t.Errorf("the surviving worker exited with %v", err)
	}

	// Every run completed with its five steps, each step's effect once.
	checkEffectsOnce(t, st, pool, runs)
	// A step ran twice only when the killed worker was executing it: its
	// first execution is the killed worker's, and the retry used the same key.
	rows, err := pool.Query(ctx, `SELECT key, array_agg(pid ORDER BY at) FROM sink_attempts GROUP BY key HAVING count(*) > 1`)
	if err != nil {
		t.Fatal(err)
	}
	killedPID := int32(killed.cmd.Process.Pid)
	var key string
	var pids []int32
	reran := 0
	_, err = pgx.ForEachRow(rows, []any{&key, &pids}, func() error {
		reran++
		if pids[0] != killedPID || len(pids) > 2 {
			t.Errorf("step %s ran in processes %v; only a step in flight on the killed worker (%d) may run again, once", key, pids, killedPID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The survivors reclaimed the killed worker's runs after its leases
	// expired, and the stopped worker completed what it had started.
	var reclaimed int
	err = pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE type = 'lease.reclaimed' AND message LIKE '%without a heartbeat%'`).Scan(&reclaimed)
	if err != nil {
		t.Fatal(err)
	}
	if reclaimed == 0 {
		t.Error("no run of the killed worker was reclaimed by a survivor")
	}
	var stoppedCompleted int
	for range stopped.completed {
		stoppedCompleted++
	}
	if stoppedCompleted == 0 {
		t.Error("the SIGTERMed worker completed no run")
	}
	t.Logf("%d runs, %d steps re-executed after the SIGKILL (same key, effect once), %d runs reclaimed, %d completed by the SIGTERMed worker before it left",
		runs, reran, reclaimed, stoppedCompleted)
}

// newSinkFixture makes a schema with the sink tables, and a client that can
// enqueue sink-pipeline runs (it starts no worker).
func newSinkFixture(t *testing.T) (string, *postgres.Store, *pgxpool.Pool, *klaxon.Client, *klaxon.Workflow[int, int]) {
	t.Helper()
	url := schemaURL(t)
	ctx := context.Background()
	st, err := postgres.Open(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	for _, ddl := range []string{
		"CREATE TABLE sink (key text PRIMARY KEY, pid integer NOT NULL)",
		"CREATE TABLE sink_attempts (key text NOT NULL, pid integer NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())",
	} {
		if _, err := pool.Exec(ctx, ddl); err != nil {
			t.Fatal(err)
		}
	}
	producer, _ := klaxon.NewClient(st, nil)
	pipeline := sinkPipeline(pool)
	if err := producer.Register(pipeline); err != nil {
		t.Fatal(err)
	}
	return url, st, pool, producer, pipeline
}

// checkEffectsOnce checks that every run completed and that the sink holds
// exactly one effect per checkpointed step, and none without one.
func checkEffectsOnce(t *testing.T, st *postgres.Store, pool *pgxpool.Pool, runs int) {
	t.Helper()
	ctx := context.Background()
	counts, err := st.RunCountByStatus(ctx, &store.RunCountByStatusParams{Workflow: "sink-pipeline"})
	if err != nil || counts[klaxontype.RunStatusCompleted] != runs {
		t.Fatalf("runs by status = %v, %v; want %d completed", counts, err, runs)
	}
	var steps, sinkRows, missing, extra int
	err = pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM steps),
		(SELECT count(*) FROM sink),
		(SELECT count(*) FROM steps s WHERE NOT EXISTS (SELECT 1 FROM sink k WHERE k.key = s.idempotency_key)),
		(SELECT count(*) FROM sink k WHERE NOT EXISTS (SELECT 1 FROM steps s WHERE s.idempotency_key = k.key))`).
		Scan(&steps, &sinkRows, &missing, &extra)
	if err != nil {
		t.Fatal(err)
	}
	if steps != runs*5 || sinkRows != runs*5 || missing != 0 || extra != 0 {
		t.Fatalf("%d checkpoints, %d side effects, %d checkpoints without their effect, %d effects without a checkpoint; want %d, %d, 0, 0",
			steps, sinkRows, missing, extra, runs*5, runs*5)
	}
}

// awaitCompleted waits until at least n sink-pipeline runs are completed.
// awaitHolding waits until the worker process pid holds a running run (its
// worker ID is host-pid-suffix).
func awaitHolding(t *testing.T, pool *pgxpool.Pool, pid int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var held int
		err := pool.QueryRow(context.Background(),
			`SELECT count(*) FROM runs WHERE status = 'running' AND lease_holder LIKE $1`, fmt.Sprintf("%%-%d-%%", pid)).Scan(&held)
		if err != nil {
			t.Fatal(err)
		}
		if held > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker process %d held no running run for a minute", pid)
		}
		time.Sleep(time.Millisecond)
	}
}

func awaitCompleted(t *testing.T, st *postgres.Store, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		counts, err := st.RunCountByStatus(context.Background(), &store.RunCountByStatusParams{Workflow: "sink-pipeline"})
		if err != nil {
			t.Fatal(err)
		}
		if counts[klaxontype.RunStatusCompleted] >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %v after 2 minutes; want %d completed", counts, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
