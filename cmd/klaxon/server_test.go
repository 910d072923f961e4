package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	klaxonhttp "github.com/klaxonhq/klaxon/http"
)

// startServer runs `klaxon server` in process and returns its base URL and a
// function that interrupts it and returns its exit code.
func startServer(t *testing.T, env map[string]string, args ...string) (url string, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stdoutWriter := io.Pipe()
	var stderr strings.Builder
	m := &Main{Stdout: stdoutWriter, Stderr: &lockedWriter{w: &stderr}, Getenv: func(key string) string { return env[key] }}
	exited := make(chan int, 1)
	go func() {
		code := m.Run(ctx, append([]string{"server"}, args...))
		stdoutWriter.Close()
		exited <- code
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("server printed %q, then %v; exit %d", line, err, <-exited)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	fields := strings.Fields(line)
	if len(fields) < 3 || !strings.HasPrefix(fields[2], "http://") {
		cancel()
		t.Fatalf("server printed %q", line)
	}
	return fields[2], func() int {
		cancel()
		select {
		case code := <-exited:
			return code
		case <-time.After(10 * time.Second):
			t.Fatal("server did not stop within 10s of its interrupt")
			return -1
		}
	}
}

// lockedWriter lets the server's logger and the test share a buffer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestServerServesUntilInterrupted(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "server.db")
	url, stop := startServer(t, nil, "--db", db, "--addr", "127.0.0.1:0")
	// The dashboard is served at / with its assets, beside the API.
	for _, path := range []string{"/healthz", "/readyz", klaxonhttp.OpenAPIPath, "/api/v1/workflows", klaxonhttp.MetricsPath, "/", "/assets/app.js"} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
	}
	// The store has no workflow: an enqueue is refused, naming it.
	client := klaxonhttp.NewClient(url, "", nil)
	_, err := client.Enqueue(context.Background(), &klaxonhttp.EnqueueRequest{Workflow: "nobody-registered-me"})
	if err == nil || !strings.Contains(err.Error(), "nobody-registered-me") {
		t.Fatalf("enqueue of an unknown workflow: %v", err)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("server exited %d after its interrupt", code)
	}
}

func TestServerRefusesOpenAddressWithoutTokens(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "open.db")
	code, _, stderr := run(t, nil, "server", "--db", db, "--addr", "0.0.0.0:0")
	if code != exitUsage || !strings.Contains(stderr, "loopback only") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	code, _, stderr = run(t, map[string]string{"KLAXON_TOKEN": "short"}, "server", "--db", db, "--addr", "127.0.0.1:0")
	if code != exitError || !strings.Contains(stderr, "at least") {
		t.Fatalf("short KLAXON_TOKEN: exit %d: %s", code, stderr)
	}
	code, _, stderr = run(t, nil, "server", "--db", db, "--tokens", filepath.Join(t.TempDir(), "missing"))
	if code != exitError || !strings.Contains(stderr, "missing") {
		t.Fatalf("missing token file: exit %d: %s", code, stderr)
	}
}

func TestServerWithTokensNeedsThem(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "tokens.db")
	secret := "an-admin-secret-0123456789"
	url, stop := startServer(t, map[string]string{"KLAXON_TOKEN": secret}, "--db", db, "--addr", "127.0.0.1:0")
	if _, err := klaxonhttp.NewClient(url, "", nil).Workflows(context.Background()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("without a token: %v", err)
	}
	if _, err := klaxonhttp.NewClient(url, secret, nil).Workflows(context.Background()); err != nil {
		t.Fatalf("with KLAXON_TOKEN: %v", err)
	}
	// So do the metrics, which name the workflows and what they spend.
	for token, want := range map[string]int{"": http.StatusUnauthorized, "not-a-known-secret-0123456789": http.StatusUnauthorized, secret: http.StatusOK} {
		request, _ := http.NewRequest(http.MethodGet, url+klaxonhttp.MetricsPath, nil)
		if token != "" {
			request.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(request)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("/metrics with token %q: %d; want %d", token, resp.StatusCode, want)
		}
		if want == http.StatusOK && !strings.Contains(string(body), "klaxon_store_up 1") {
			t.Errorf("/metrics has no klaxon_store_up 1:\n%s", body)
		}
	}
	if code := stop(); code != exitOK {
		t.Fatalf("server exited %d", code)
	}
}

// The server speaks plain HTTP: a non-loopback address, tokens or not, is
// refused unless a TLS-terminating proxy is declared in front. Before, the
// help showed binding 0.0.0.0 with tokens and never mentioned TLS.
func TestServerRefusesPlainHTTPToOtherMachines(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "plain.db")
	env := map[string]string{"KLAXON_TOKEN": "admin-secret-0123456789"}
	code, _, stderr := run(t, env, "server", "--db", db, "--addr", "0.0.0.0:0")
	if code != exitUsage || !strings.Contains(stderr, "plain HTTP") || !strings.Contains(stderr, "--insecure-behind-proxy") {
		t.Fatalf("a non-loopback address without TLS: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("the refused server created its database")
	}
	url, stop := startServer(t, env, "--db", db, "--addr", "0.0.0.0:0", "--insecure-behind-proxy")
	if !strings.HasPrefix(url, "http://") {
		t.Errorf("server URL %q", url)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("server exited %d after its interrupt", code)
	}
}
