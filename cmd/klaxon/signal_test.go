package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

// runAsKlaxonEnv makes the test binary run the klaxon command itself, so
// tests can send it real signals.
const runAsKlaxonEnv = "KLAXON_TEST_RUN_AS_KLAXON"

func TestMain(m *testing.M) {
	if os.Getenv(runAsKlaxonEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// SIGTERM stops the demo gracefully: it stops claiming, releases the runs it
// holds so another worker can take them at once, prints its summary and exits 0.
func TestDemoStopsGracefullyOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the demo as a process")
	}
	t.Parallel()
	db := filepath.Join(t.TempDir(), "term.db")
	cmd := exec.Command(os.Args[0], "demo", "--no-server", "--db", db, "--runs", "400", "--concurrency", "8", "--slow-rate", "0.5", "--panic-rate", "0")
	cmd.Env = append(os.Environ(), runAsKlaxonEnv+"=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stderr)
	for lines.Scan() {
		if strings.HasPrefix(lines.Text(), "progress:") {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	go func() {
		for lines.Scan() {
		}
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo exited with %v after SIGTERM", err)
		}
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("demo did not stop within 20s of SIGTERM")
	}
	if !strings.Contains(stdout.String(), "interrupted with") {
		t.Fatalf("summary does not say the demo was interrupted:\n%s", stdout.String())
	}

	st, err := sqlite.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	counts, err := st.RunCountByStatus(context.Background(), &store.RunCountByStatusParams{Workflow: "process-document"})
	if err != nil {
		t.Fatal(err)
	}
	if counts[klaxontype.RunStatusRunning] != 0 || counts[klaxontype.RunStatusPending] == 0 {
		t.Fatalf("after SIGTERM: %v; want no run left running (leases released) and pending runs left", counts)
	}
}
