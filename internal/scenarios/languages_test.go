package scenarios_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// goLanguage runs the Go interpreter (./goworker): the root package's
// workers, in a process of their own on the server's database.
var goLanguage = language{
	name:      "go",
	available: func(*testing.T, *environment) string { return "" },
	startWorker: func(t *testing.T, env *environment, options workerOptions) *process {
		t.Helper()
		args := []string{"--db", env.db, "--catalog", env.catalogPath, "--effects", env.effectsURL,
			"--only", joinComma(options.only), "--lease", options.lease.String(),
			"--concurrency", fmt.Sprint(options.concurrency)}
		worker := startProcess(t, "go worker", exec.Command(env.bins.goWorker, args...))
		waitReady(t, worker)
		return worker
	},
}

// pythonLanguage runs the Python interpreter (pyworker/scenario_worker.py)
// with the SDK of sdk/python, through the worker protocol.
var pythonLanguage = pythonWorkers("python")

// pythonAsyncLanguage is the same with async def workflows, whose steps take
// the SDK's other road (step_async).
var pythonAsyncLanguage = pythonWorkers("python-async", "--async")

func pythonWorkers(name string, extraArgs ...string) language {
	return language{
		name: name,
		available: func(t *testing.T, env *environment) string {
			root := repoRoot(t)
			if _, err := os.Stat(filepath.Join(root, "sdk", "python", "klaxon", "__init__.py")); err != nil {
				return "the Python SDK (sdk/python/klaxon) is not in this tree yet"
			}
			if _, err := exec.LookPath("python3"); err != nil {
				return "no python3 on PATH"
			}
			return ""
		},
		startWorker: func(t *testing.T, env *environment, options workerOptions) *process {
			t.Helper()
			root := repoRoot(t)
			args := []string{filepath.Join(root, "internal", "scenarios", "pyworker", "scenario_worker.py"),
				"--server", env.server, "--catalog", env.catalogPath, "--effects", env.effectsURL,
				"--only", joinComma(options.only), "--lease-ms", fmt.Sprint(options.lease.Milliseconds()),
				"--concurrency", fmt.Sprint(options.concurrency)}
			args = append(args, extraArgs...)
			command := exec.Command("python3", args...)
			command.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(root, "sdk", "python"), "PYTHONUNBUFFERED=1")
			worker := startProcess(t, "python worker", command)
			waitReady(t, worker)
			return worker
		},
	}
}
