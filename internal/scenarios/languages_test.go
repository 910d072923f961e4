package scenarios_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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

// typescriptLanguage runs the TypeScript interpreter
// (tsworker/scenario_worker.ts) with the SDK of sdk/typescript, through the
// worker protocol. The harness installs and builds the SDK (npm ci, npm run
// build) and compiles the interpreter once per test binary.
var typescriptLanguage = language{
	name: "typescript",
	available: func(t *testing.T, env *environment) string {
		root := repoRoot(t)
		if _, err := os.Stat(filepath.Join(root, "sdk", "typescript", "package.json")); err != nil {
			return "the TypeScript SDK (sdk/typescript) is not in this tree yet"
		}
		if _, err := exec.LookPath("node"); err != nil {
			return "no node on PATH: the TypeScript worker does not run"
		}
		if _, err := os.Stat(filepath.Join(root, "sdk", "typescript", "node_modules")); err != nil {
			if _, err := exec.LookPath("npm"); err != nil {
				return "sdk/typescript/node_modules is missing and there is no npm on PATH to install it"
			}
		}
		buildTypeScript(t)
		return ""
	},
	startWorker: func(t *testing.T, env *environment, options workerOptions) *process {
		t.Helper()
		root := repoRoot(t)
		args := []string{filepath.Join(root, "internal", "scenarios", "tsworker", "scenario_worker.js"),
			"--server", env.server, "--catalog", env.catalogPath, "--effects", env.effectsURL,
			"--only", joinComma(options.only), "--lease-ms", fmt.Sprint(options.lease.Milliseconds()),
			"--concurrency", fmt.Sprint(options.concurrency)}
		worker := startProcess(t, "typescript worker", exec.Command("node", args...))
		waitReady(t, worker)
		return worker
	},
}

func init() { languages = append(languages, typescriptLanguage) }

var (
	typeScriptOnce  sync.Once
	typeScriptError error
)

// buildTypeScript installs the SDK's dev dependencies when node_modules is
// missing (npm ci: the committed package-lock.json), builds the SDK to dist/
// (npm run build: a stale dist would test old code) and compiles the
// interpreter beside its source, once per test binary.
func buildTypeScript(t *testing.T) {
	t.Helper()
	typeScriptOnce.Do(func() {
		sdk := filepath.Join(repoRoot(t), "sdk", "typescript")
		run := func(dir, name string, args ...string) error {
			command := exec.Command(name, args...)
			command.Dir = dir
			if out, err := command.CombinedOutput(); err != nil {
				return fmt.Errorf("%s %s (in %s): %v\n%s", name, strings.Join(args, " "), dir, err, out)
			}
			return nil
		}
		if _, err := os.Stat(filepath.Join(sdk, "node_modules")); err != nil {
			if typeScriptError = run(sdk, "npm", "ci", "--no-audit", "--no-fund"); typeScriptError != nil {
				return
			}
		}
		if typeScriptError = run(sdk, "npm", "run", "build"); typeScriptError != nil {
			return
		}
		typeScriptError = run(filepath.Join(repoRoot(t), "internal", "scenarios", "tsworker"),
			"node", filepath.Join(sdk, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json")
	})
	if typeScriptError != nil {
		t.Fatal(typeScriptError)
	}
}
