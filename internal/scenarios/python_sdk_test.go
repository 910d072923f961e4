package scenarios_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// pythonSDKShards is how many processes share the Python SDK's tests. Most
// of the suite's time is spent waiting on retries, leases and sleeps, in
// one process one test after another; shards run side by side, each with
// servers of its own.
const pythonSDKShards = 4

// TestPythonSDKSuite runs the Python SDK's own tests (python3 -m unittest,
// standard library only) against the klaxon binary this harness built, so
// that the README's one test command covers them, on SQLite. Python workers
// on PostgreSQL are held to the Go outcomes by TestScenariosPostgres; run
// the suite by hand with KLAXON_TEST_POSTGRES_URL set for its own
// PostgreSQL tests (sdk/python/README.md), which keeps this suite's share of
// CI's ten minutes small. Its tests are dealt round-robin to
// pythonSDKShards subtests run in parallel: every test runs, once.
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
	tests := filepath.Join(repoRoot(t), "sdk", "python", "tests")
	var env []string
	for _, variable := range os.Environ() {
		if !strings.HasPrefix(variable, "KLAXON_TEST_POSTGRES_URL=") {
			env = append(env, variable)
		}
	}
	env = append(env, "KLAXON_BIN="+bins.klaxon, "PYTHONDONTWRITEBYTECODE=1")
	ids := pythonTestIDs(t, tests, env)
	if len(ids) == 0 {
		t.Fatal("unittest discovered no tests in sdk/python/tests")
	}
	shards := make([][]string, min(pythonSDKShards, len(ids)))
	for i, id := range ids {
		shards[i%len(shards)] = append(shards[i%len(shards)], id)
	}
	for i, shard := range shards {
		t.Run(fmt.Sprintf("shard-%d", i+1), func(t *testing.T) {
			t.Parallel()
			command := exec.Command("python3", append([]string{"-m", "unittest"}, shard...)...)
			command.Dir, command.Env = tests, env
			output, err := command.CombinedOutput()
			if err != nil {
				t.Fatalf("python3 -m unittest %s: %v\n%s", strings.Join(shard, " "), err, output)
			}
			t.Logf("%s", output)
		})
	}
}

// pythonTestIDs lists the tests unittest discovers in dir, as the IDs
// python3 -m unittest takes (module.Class.test), run from dir.
func pythonTestIDs(t *testing.T, dir string, env []string) []string {
	t.Helper()
	const list = `import unittest
def walk(suite):
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            yield from walk(test)
        else:
            yield test.id()
for id in walk(unittest.defaultTestLoader.discover(".")):
    print(id)
`
	command := exec.Command("python3", "-c", list)
	command.Dir, command.Env = dir, env
	output, err := command.Output()
	if err != nil {
		t.Fatalf("list the Python SDK's tests: %v\n%s", err, output)
	}
	return strings.Fields(string(output))
}
