package scenarios_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPythonSDKSuite runs the Python SDK's own tests (python3 -m unittest,
// standard library only) against the klaxon binary this harness built, so
// that the README's one test command covers them, on SQLite. Python workers
// on PostgreSQL are held to the Go outcomes by TestScenariosPostgres; run
// the suite by hand with KLAXON_TEST_POSTGRES_URL set for its own
// PostgreSQL tests (sdk/python/README.md), which keeps this suite's share of
// CI's ten minutes small.
func TestPythonSDKSuite(t *testing.T) {
	// Beside the scenarios: most of its time is spent waiting on retries.
	t.Parallel()
	if testing.Short() {
		t.Skip("the Python SDK's tests start servers and worker processes; skipped in -short mode")
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3 on PATH: the Python SDK's tests do not run")
	}
	bins := build(t)
	command := exec.Command("python3", "-m", "unittest", "discover", "-s", "tests")
	command.Dir = filepath.Join(repoRoot(t), "sdk", "python")
	var env []string
	for _, variable := range os.Environ() {
		if !strings.HasPrefix(variable, "KLAXON_TEST_POSTGRES_URL=") {
			env = append(env, variable)
		}
	}
	command.Env = append(env, "KLAXON_BIN="+bins.klaxon, "PYTHONDONTWRITEBYTECODE=1")
	output, err := command.CombinedOutput()
	if err != nil {
		t.Fatalf("python3 -m unittest: %v\n%s", err, output)
	}
	t.Logf("%s", output)
}
