package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/cmd/klaxon/demo"
	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

// --llm-base-url runs the pipeline against another OpenAI-compatible server,
// here a fake one started by the test, with the key from OPENAI_API_KEY.
func TestDemoAgainstAnotherModelServer(t *testing.T) {
	t.Parallel()
	server, err := demo.StartFakeLLM(demo.FailureRates{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	db := filepath.Join(t.TempDir(), "demo.db")
	code, stdout, stderr := run(t, map[string]string{"OPENAI_API_KEY": "sk-test"}, "demo", "--no-server", "--db", db, "--runs", "3",
		"--exit-when-done", "--json", "--panic-rate", "0", "--llm-base-url", server.BaseURL(), "--model", demo.FakeModelName)
	if code != exitOK {
		t.Fatalf("demo exited %d: %s", code, stderr)
	}
	var summary demo.Summary
	if err := json.Unmarshal([]byte(stdout), &summary); err != nil {
		t.Fatalf("demo --json printed %q: %v", stdout, err)
	}
	if summary.Runs[klaxontype.RunStatusCompleted] != 3 || summary.Endpoint != server.BaseURL() || summary.Model != demo.FakeModelName {
		t.Fatalf("summary = %+v", summary)
	}
	if server.Requests() != int64(summary.Spend.ModelCalls) || summary.Spend.ModelCalls != 6 || summary.Spend.Cost.Unknown {
		t.Fatalf("%d requests for spend %+v; want 6 priced calls, all accounted", server.Requests(), summary.Spend)
	}
}

func TestDemoRefusesAnIncompleteModelServer(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "demo.db")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--llm-base-url", "http://127.0.0.1:9/v1"}, "--llm-base-url needs --model"},
		{[]string{"--model", "gpt-4o"}, "--model needs --llm-base-url"},
		{[]string{"--llm-base-url", "localhost:11434", "--model", "llama3"}, "is not an http(s) URL"},
	} {
		code, _, stderr := run(t, nil, append([]string{"demo", "--db", db, "--exit-when-done"}, tc.args...)...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("klaxon demo %s: exit %d, %q; want a usage error mentioning %q", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
}

// While the demo runs it serves the HTTP API over its database, on the address
// it prints; the server stops with the demo.
func TestDemoServesTheAPIWhileItRuns(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "demo.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr, stderrWriter := io.Pipe()
	m := &Main{Stdout: io.Discard, Stderr: stderrWriter, Getenv: func(string) string { return "" }}
	exited := make(chan int, 1)
	go func() {
		// No --exit-when-done: the demo runs until interrupted.
		code := m.Run(ctx, []string{"demo", "--db", db, "--runs", "3", "--seed", "7", "--addr", "127.0.0.1:0"})
		stderrWriter.Close()
		exited <- code
	}()

	lines := bufio.NewScanner(stderr)
	var url string
	for url == "" && lines.Scan() {
		if _, after, ok := strings.Cut(lines.Text(), "HTTP API at "); ok {
			url, _, _ = strings.Cut(after, " ")
		}
	}
	if url == "" {
		cancel()
		t.Fatalf("the demo printed no HTTP API URL; exit %d", <-exited)
	}
	// The rest of stderr is kept for the failure message, read once the
	// demo has closed it.
	var rest strings.Builder
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for lines.Scan() {
			fmt.Fprintln(&rest, lines.Text())
		}
	}()
	if !strings.HasPrefix(url, "http://127.0.0.1:") || strings.HasSuffix(url, ":0") {
		t.Fatalf("the demo serves on %q; want a loopback URL with the port it got", url)
	}

	for _, path := range []string{"/healthz", "/"} { // "/" is the dashboard
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
	}
	// No token: the demo's server answers this machine without one.
	client := klaxonhttp.NewClient(url, "", nil)
	deadline := time.Now().Add(10 * time.Second)
	for {
		page, err := client.Runs(ctx, &klaxonhttp.RunQuery{Workflow: demo.WorkflowName})
		if err != nil {
			t.Fatalf("GET /api/v1/runs: %v", err)
		}
		if len(page.Runs) == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /api/v1/runs lists %d demo runs after 10s; want the 3 enqueued", len(page.Runs))
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Its /metrics has the demo's workers' own series beside the store's
	// counts and totals: the model calls and their tokens, by workflow, as
	// the workers counted them and as the database does.
	for {
		resp, err := http.Get(url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), `klaxon_model_tokens_total{`) && strings.Contains(string(body), `klaxon_runs{`) &&
			strings.Contains(string(body), `klaxon_workflow_model_tokens_total{`) {
			break
		}
		if time.Now().After(deadline.Add(20 * time.Second)) {
			t.Fatalf("/metrics has no klaxon_model_tokens_total beside klaxon_runs and klaxon_workflow_model_tokens_total after 30s:\n%.2000s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}

	cancel()
	select {
	case code := <-exited:
		if code != exitOK {
			<-drained
			t.Fatalf("interrupted demo exited %d:\n%s", code, rest.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the demo did not stop within 20s of its interrupt")
	}
	if resp, err := http.Get(url + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatalf("the demo's server still answers %d after the demo ended", resp.StatusCode)
	}
}

// A taken address stops the demo before it enqueues anything, with an error
// naming the address and the ways out.
func TestDemoRefusesABusyAddress(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()
	db := filepath.Join(t.TempDir(), "demo.db")
	code, stdout, stderr := run(t, nil, "demo", "--db", db, "--runs", "3", "--exit-when-done", "--addr", addr)
	if code != exitError {
		t.Fatalf("demo on a taken address exited %d; want %d\n%s", code, exitError, stderr)
	}
	for _, want := range []string{addr, "already in use", "--addr", "--no-server"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("demo on a taken address: the error does not mention %q:\n%s", want, stderr)
		}
	}
	if stdout != "" {
		t.Errorf("demo on a taken address printed a summary:\n%s", stdout)
	}
	st, err := sqlite.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if runs, err := st.RunList(context.Background(), &store.RunListParams{}); err != nil || len(runs) != 0 {
		t.Fatalf("after the refusal the database has %d runs (%v); want none", len(runs), err)
	}
}

func TestDemoRefusesABadAddress(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "demo.db")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--addr", "0.0.0.0:7070"}, "this machine only"},
		{[]string{"--addr", ":7070"}, "this machine only"},
		{[]string{"--addr", "localhost"}, "--addr"},
		{[]string{"--no-server", "--addr", "127.0.0.1:7071"}, "--no-server serves nothing"},
	} {
		code, _, stderr := run(t, nil, append([]string{"demo", "--db", db, "--exit-when-done"}, tc.args...)...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("klaxon demo %s: exit %d, %q; want a usage error mentioning %q", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
	if _, err := os.Stat(db); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a refused demo created its database (%v)", err)
	}
}
