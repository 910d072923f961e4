package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/cmd/klaxon/demo"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// --workers python works the demo's runs with the Python example over the
// worker protocol: every run ends, completed or dead with a class, and the
// model calls are priced by the server as the Go workers' are.
func TestDemoWithPythonWorkers(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("SKIPPED: python3 is not in PATH; klaxon demo --workers python needs it")
	}
	db := filepath.Join(t.TempDir(), "demo.db")
	code, stdout, stderr := run(t, nil, "demo", "--workers", "python", "--db", db, "--runs", "6", "--seed", "3",
		"--concurrency", "4", "--addr", "127.0.0.1:0", "--exit-when-done", "--json")
	if code != exitOK {
		t.Fatalf("demo --workers python exited %d:\n%s", code, stderr)
	}
	var summary demo.Summary
	if err := json.Unmarshal([]byte(stdout), &summary); err != nil {
		t.Fatalf("demo --json printed %q: %v\n%s", stdout, err, stderr)
	}
	completed, dead := summary.Runs[klaxontype.RunStatusCompleted], summary.Runs[klaxontype.RunStatusDead]
	if completed+dead != 6 || summary.Unfinished() != 0 {
		t.Fatalf("runs by status %v; want all 6 completed or dead\n%s", summary.Runs, stderr)
	}
	open := 0
	for class, n := range summary.DeadLetters {
		if !class.Valid() {
			t.Errorf("dead-letter class %q is not a failure class", class)
		}
		open += n
	}
	if open != dead {
		t.Errorf("%d dead runs but %d open dead-letter entries by class %v", dead, open, summary.DeadLetters)
	}
	if completed == 0 || summary.Spend.ModelCalls < 2*completed || summary.Spend.Cost.Unknown {
		t.Errorf("%d completed runs with spend %+v; want at least 2 priced model calls each", completed, summary.Spend)
	}
	if !strings.Contains(summary.Workers, "document_pipeline.py") || summary.StepsExecuted != 0 {
		t.Errorf("summary says the runs were worked by %q with %d steps here; want the Python example, none here", summary.Workers, summary.StepsExecuted)
	}
}

// Without python3 the demo stops before it opens the database, naming what
// is missing.
func TestDemoWithPythonWorkersNeedsPython(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "demo.db")
	code, _, stderr := run(t, map[string]string{"KLAXON_PYTHON": "no-such-python3"}, "demo", "--workers", "python", "--db", db,
		"--addr", "127.0.0.1:0", "--exit-when-done")
	if code == exitOK || !strings.Contains(stderr, "no-such-python3") || !strings.Contains(stderr, "PATH") {
		t.Fatalf("demo --workers python without python: exit %d, %q; want an error naming the missing python", code, stderr)
	}
}
