package scenarios_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binaries are the programs the harness builds once for every test.
type binaries struct {
	klaxon, goWorker string
}

var (
	buildOnce  sync.Once
	built      binaries
	buildError error
	buildDir   string
)

// repoRoot is the module's root, two directories above this package.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// build compiles ./cmd/klaxon and the Go worker once per test binary.
func build(t testing.TB) binaries {
	t.Helper()
	root := repoRoot(t)
	buildOnce.Do(func() {
		goCommand, err := exec.LookPath("go")
		if err != nil {
			buildError = fmt.Errorf("no go command on PATH: %w", err)
			return
		}
		if buildDir, err = os.MkdirTemp("", "klaxon-scenarios-"); err != nil {
			buildError = err
			return
		}
		built = binaries{klaxon: filepath.Join(buildDir, "klaxon"), goWorker: filepath.Join(buildDir, "goworker")}
		for path, pkg := range map[string]string{built.klaxon: "./cmd/klaxon", built.goWorker: "./internal/scenarios/goworker"} {
			command := exec.Command(goCommand, "build", "-o", path, pkg)
			command.Dir = root
			if out, err := command.CombinedOutput(); err != nil {
				buildError = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
				return
			}
		}
	})
	if buildError != nil {
		t.Fatal(buildError)
	}
	return built
}

// process is a child process the harness started, with what it printed.
type process struct {
	name    string
	cmd     *exec.Cmd
	lines   chan string
	mu      sync.Mutex
	stderr  bytes.Buffer
	exited  chan struct{}
	waitErr error
}

// startProcess starts a program whose stdout the harness reads line by line;
// its stderr is kept and logged when the test fails. The process is killed
// when the test ends.
func startProcess(t testing.TB, name string, command *exec.Cmd) *process {
	t.Helper()
	p := &process{name: name, cmd: command, lines: make(chan string, 256), exited: make(chan struct{})}
	command.Stderr = &lockedWriter{mu: &p.mu, w: &p.stderr}
	stdout, err := command.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := command.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			select {
			case p.lines <- scanner.Text():
			default: // nobody reads any more
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		p.waitErr = command.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s (pid %d) stderr:\n%s", name, command.Process.Pid, p.stderrText())
		}
	})
	return p
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (p *process) stderrText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// waitLine returns the first line printed that matches pattern.
func (p *process) waitLine(t testing.TB, pattern *regexp.Regexp, timeout time.Duration) []string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line := <-p.lines:
			if match := pattern.FindStringSubmatch(line); match != nil {
				return match
			}
		case <-p.exited:
			t.Fatalf("%s exited (%v) before printing a line matching %s; stderr:\n%s", p.name, p.waitErr, pattern, p.stderrText())
		case <-deadline:
			t.Fatalf("%s printed no line matching %s within %s; stderr:\n%s", p.name, pattern, timeout, p.stderrText())
		}
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *process) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// stop asks the process to end, and kills it if it has not within a few
// seconds.
func (p *process) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(3 * time.Second):
		p.kill()
	}
}

var serverURLLine = regexp.MustCompile(`^klaxon server: (http://\S+) `)

// startServer runs `klaxon server` on db and returns its URL.
func startServer(t testing.TB, bins binaries, db string) string {
	t.Helper()
	command := exec.Command(bins.klaxon, "server", "--db", db, "--addr", "127.0.0.1:0")
	command.Env = append(os.Environ(), "KLAXON_TOKEN=")
	server := startProcess(t, "klaxon server", command)
	return server.waitLine(t, serverURLLine, 60*time.Second)[1]
}

// waitReady waits for a worker's "ready" line.
func waitReady(t testing.TB, worker *process) {
	t.Helper()
	worker.waitLine(t, regexp.MustCompile(`^ready$`), 60*time.Second)
}

// eventually polls check until it reports done, or fails the test after
// timeout with check's last error.
func eventually(ctx context.Context, timeout time.Duration, check func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		done, err := check()
		if done {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("%w; last: %v", ctx.Err(), last)
			}
			return ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
}

func joinComma(names []string) string { return strings.Join(names, ",") }
