package postgres_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// localCluster is the version of the machine's PostgreSQL cluster "main", for
// pg_ctlcluster, or skips the test where it cannot be restarted.
func localCluster(t *testing.T) string {
	t.Helper()
	// A restart breaks every connection to the server, including those of
	// the other packages' tests that go test runs at the same time: their
	// runs would lose claims and leases for reasons of this test's making.
	// .ci/run runs it on its own, after the suite.
	if os.Getenv("KLAXON_TEST_POSTGRES_RESTART") != "1" {
		t.Skip("restarts the shared PostgreSQL: set KLAXON_TEST_POSTGRES_RESTART=1 and run it alone (.ci/run does, after the suite)")
	}
	if os.Geteuid() != 0 {
		t.Skip("restarting PostgreSQL needs root (pg_ctlcluster); skipping the restart test")
	}
	if _, err := exec.LookPath("pg_ctlcluster"); err != nil {
		t.Skip("pg_ctlcluster is not installed; skipping the restart test")
	}
	url := testDatabaseURL(t)
	if !strings.Contains(url, "127.0.0.1") && !strings.Contains(url, "localhost") {
		t.Skip("KLAXON_TEST_POSTGRES_URL is not a local server; skipping the restart test")
	}
	out, err := exec.Command("pg_lsclusters", "--no-header").Output()
	if err != nil {
		t.Skipf("pg_lsclusters: %v; skipping the restart test", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) >= 4 && fields[1] == "main" && fields[3] == "online" {
			return fields[0]
		}
	}
	t.Skipf("no online cluster named main in %q; skipping the restart test", out)
	return ""
}

func pgctl(t *testing.T, version, action string) {
	t.Helper()
	out, err := exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", "-m", "fast", version, "main", action).CombinedOutput()
	if err != nil {
		t.Fatalf("pg_ctlcluster %s: %v: %s", action, err, out)
	}
}

// TestPostgresRestartUnderLoad restarts PostgreSQL while two worker processes
// work 400 five-step runs: the stores wait for the database and carry on, every
// run completes, and every checkpointed step's effect lands exactly once.
func TestPostgresRestartUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts PostgreSQL; skipped in -short mode")
	}
	version := localCluster(t)
	t.Cleanup(func() {
		// Never leave the machine's database down.
		if out, _ := exec.Command("pg_lsclusters", "--no-header").Output(); !strings.Contains(string(out), "online") {
			_ = exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start").Run()
		}
	})
	url, st, pool, producer, pipeline := newSinkFixture(t)
	ctx := context.Background()
	workers := []*worker{startWorker(t, url), startWorker(t, url)}
	for _, w := range workers {
		<-w.ready
	}
	const runs = 400
	for i := range runs {
		if _, err := pipeline.Enqueue(ctx, producer, i); err != nil {
			t.Fatal(err)
		}
	}
	awaitCompleted(t, st, runs/4)
	restarted := time.Now()
	pgctl(t, version, "restart")
	t.Logf("PostgreSQL restarted in %v", time.Since(restarted).Round(time.Millisecond))
	awaitCompleted(t, st, runs)
	for _, w := range workers {
		_ = w.cmd.Process.Signal(syscall.SIGTERM)
		if err := <-w.exited; err != nil {
			t.Errorf("a worker exited with %v after the restart", err)
		}
	}

	checkEffectsOnce(t, st, pool, runs)
	var attempts, steps int
	if err := pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM sink_attempts), (SELECT count(*) FROM steps)").Scan(&attempts, &steps); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d runs completed across the restart; %d step executions for %d steps (re-executions reuse the step's key)", runs, attempts, steps)
}
