package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/cmd/klaxon/demo"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/postgres/pgtest"
)

// postgresSchemaURL makes a schema of its own for a test, or skips.
func postgresSchemaURL(t *testing.T) string { return pgtest.SchemaURL(t, "klaxon_cli_") }

// Two demo worker processes (--no-enqueue) and one that only enqueues
// (--no-work) share one PostgreSQL schema: every run ends, and each worker
// reports what it worked.
func TestDemoWorkersShareAPostgresDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("starts demo processes")
	}
	db := postgresSchemaURL(t)
	if code, _, stderr := run(t, nil, "migrate", "--db", db); code != exitOK {
		t.Fatalf("migrate: %s", stderr)
	}
	start := func(args ...string) (*exec.Cmd, *strings.Builder) {
		cmd := exec.Command(os.Args[0], append([]string{"demo", "--no-server", "--db", db, "--json", "--seed", "7"}, args...)...)
		cmd.Env = append(os.Environ(), runAsKlaxonEnv+"=1")
		var stdout strings.Builder
		cmd.Stdout = &stdout
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		return cmd, &stdout
	}
	workerA, outA := start("--no-enqueue", "--concurrency", "8")
	workerB, outB := start("--no-enqueue", "--concurrency", "8")
	const runs = 60
	enqueuer, outE := start("--no-work", "--runs", "60", "--exit-when-done")
	done := make(chan error, 1)
	go func() { done <- enqueuer.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the enqueuing demo exited with %v", err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the runs did not all end within 2 minutes")
	}
	var enqueued demo.Summary
	if err := json.Unmarshal([]byte(outE.String()), &enqueued); err != nil {
		t.Fatalf("enqueuer summary: %v\n%s", err, outE)
	}
	if enqueued.RunsEnqueued != runs || enqueued.Unfinished() != 0 || enqueued.RunsCompletedHere+enqueued.RunsDeadHere != 0 {
		t.Fatalf("enqueuer: %d enqueued, %d unfinished, worked %d; want %d, 0, 0",
			enqueued.RunsEnqueued, enqueued.Unfinished(), enqueued.RunsCompletedHere+enqueued.RunsDeadHere, runs)
	}
	worked := int64(0)
	for _, w := range []struct {
		cmd *exec.Cmd
		out *strings.Builder
	}{{workerA, outA}, {workerB, outB}} {
		if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := w.cmd.Wait(); err != nil {
			t.Fatalf("a worker exited with %v", err)
		}
		var s demo.Summary
		if err := json.Unmarshal([]byte(w.out.String()), &s); err != nil {
			t.Fatalf("worker summary: %v\n%s", err, w.out)
		}
		if s.RunsEnqueued != 0 {
			t.Errorf("a --no-enqueue worker enqueued %d runs", s.RunsEnqueued)
		}
		if s.RunsCompletedHere+s.RunsDeadHere == 0 {
			t.Errorf("worker %s worked no run", s.WorkerID)
		}
		worked += s.RunsCompletedHere + s.RunsDeadHere
	}
	if ended := enqueued.Runs[klaxontype.RunStatusCompleted] + enqueued.Runs[klaxontype.RunStatusDead]; worked != int64(ended) || ended != runs {
		t.Errorf("the workers worked %d runs to their end; %d of %d runs ended", worked, ended, runs)
	}
}
