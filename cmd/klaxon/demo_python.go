package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/klaxonhq/klaxon/cmd/klaxon/demo"
)

// pythonExample is the Python demo worker, relative to the checkout's root.
const pythonExample = "sdk/python/examples/document_pipeline.py"

// pythonWorkers is how the demo runs its pipeline in Python: python3 and the
// checkout's SDK, found before anything is enqueued.
type pythonWorkers struct {
	python string
	// sdk is the checkout's sdk/python, put first on PYTHONPATH so that the
	// example imports the SDK of this checkout with nothing installed.
	sdk    string
	script string
}

// findPythonWorkers finds python3 (or $KLAXON_PYTHON) and the example in the
// checkout the demo runs from (the working directory or one above it), and
// checks that the SDK imports. Each error names what is missing.
func findPythonWorkers(ctx context.Context, getenv func(string) string) (*pythonWorkers, error) {
	python := getenv("KLAXON_PYTHON")
	if python == "" {
		python = "python3"
	}
	path, err := exec.LookPath(python)
	if err != nil {
		return nil, fmt.Errorf("--workers python needs %s (Python 3.10 or later) in PATH, or $KLAXON_PYTHON naming one: %w", python, err)
	}
	dir, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, pythonExample)); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil, fmt.Errorf("--workers python runs %s from a Klaxon checkout: run the demo from the repository (go run ./cmd/klaxon demo --workers python)", pythonExample)
		}
		dir = parent
	}
	w := &pythonWorkers{python: path, sdk: filepath.Join(dir, "sdk", "python"), script: filepath.Join(dir, pythonExample)}
	check := exec.CommandContext(ctx, w.python, "-c", "import sys, klaxon; sys.exit(0 if sys.version_info >= (3, 10) else 3)")
	check.Env = w.env()
	if out, err := check.CombinedOutput(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 3 {
			return nil, fmt.Errorf("--workers python: %s is older than Python 3.10, which the SDK needs; set $KLAXON_PYTHON to a newer one", w.python)
		}
		return nil, fmt.Errorf("--workers python: %s cannot import the Klaxon SDK from %s (%v): %s", w.python, w.sdk, err, strings.TrimSpace(string(out)))
	}
	return w, nil
}

func (w *pythonWorkers) env() []string {
	pythonPath := w.sdk
	if existing := os.Getenv("PYTHONPATH"); existing != "" {
		pythonPath += string(os.PathListSeparator) + existing
	}
	return append(os.Environ(), "PYTHONPATH="+pythonPath, "PYTHONUNBUFFERED=1")
}

// describe is how the summary names the worker process.
func (w *pythonWorkers) describe() string {
	return fmt.Sprintf("the Python worker process (%s %s)", filepath.Base(w.python), pythonExample)
}

// start runs the example as the demo's worker process against serverURL and
// the demo's model; its output goes to stderr. If it exits before it is
// stopped, exited is called with why. stop sends SIGTERM (the worker
// finishes or releases its runs) and kills it if it has not ended in 15s.
func (w *pythonWorkers) start(serverURL string, model demo.Model, options demo.Options, stderr io.Writer, m *sync.Mutex, exited func(error)) (stop func() error, err error) {
	args := []string{w.script, "--server", serverURL, "--model-url", model.BaseURL, "--model", model.Name,
		"--step-timeout", strconv.FormatFloat(model.Timeout.Seconds(), 'f', -1, 64),
		"--panic-rate", strconv.FormatFloat(options.Rates.Panic, 'f', -1, 64),
		"--seed", strconv.FormatUint(options.Seed%(1<<62), 10),
		"--concurrency", strconv.Itoa(max(options.Concurrency, 1))}
	cmd := exec.Command(w.python, args...)
	cmd.Env = w.env()
	if options.LLM.BaseURL == "" {
		cmd.Env = append(cmd.Env, "OPENAI_API_KEY=sk-klaxon-demo") // the fake server only checks there is one
	}
	// The worker's lines reach stderr through a pipe copied on a goroutine
	// of exec's, while the demo writes its progress there too.
	shared := &syncWriter{w: stderr, mu: m}
	cmd.Stdout, cmd.Stderr = shared, shared
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", w.script, err)
	}
	done := make(chan error, 1)
	stopping := make(chan struct{})
	go func() {
		err := cmd.Wait()
		select {
		case <-stopping:
		default:
			if err == nil {
				err = errors.New("exited")
			}
			exited(fmt.Errorf("the Python worker process ended before the demo: %w", err))
		}
		done <- err
	}()
	return func() error {
		close(stopping)
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			var exit *exec.ExitError
			if errors.As(err, &exit) && !exit.Exited() { // ended by a signal: Ctrl-C reached it too
				return nil
			}
			return err
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			return errors.New("the Python worker process did not stop within 15s of SIGTERM: killed")
		}
	}, nil
}

// syncWriter serializes writes to a writer shared with other goroutines.
type syncWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *syncWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
