package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

// Secrets of the tokens newFixture configures when asked for tokens.
const (
	readSecret    = "read-secret-0123456789"
	operateSecret = "operate-secret-0123456789"
	adminSecret   = "admin-secret-0123456789"
)

// fixture is a server over a real SQLite store, with a worker in the same
// process that registered two workflows: greet (two steps, both expected) and
// charge (whose step always fails permanently, so its runs end dead).
type fixture struct {
	t      *testing.T
	store  *sqlite.Store
	worker *klaxon.Client
	server *httptest.Server
	api    *klaxonhttp.Server

	closeOnce sync.Once
}

func newFixture(t *testing.T, withTokens bool) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "klaxon.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, store: st}
	t.Cleanup(f.closeStore)

	greet := klaxon.NewWorkflow("greet", func(ctx context.Context, name string) (string, error) {
		hello, err := klaxon.Step(ctx, "hello", func(context.Context) (string, error) { return "hello " + name, nil })
		if err != nil {
			return "", err
		}
		return klaxon.Step(ctx, "shout", func(context.Context) (string, error) { return strings.ToUpper(hello), nil })
	}, klaxon.ExpectSteps("hello", "shout"))
	charge := klaxon.NewWorkflow("charge", func(ctx context.Context, amount int) (int, error) {
		return klaxon.Step(ctx, "charge", func(context.Context) (int, error) {
			return 0, klaxon.Permanent(errors.New("card declined"))
		})
	})
	worker, err := klaxon.NewClient(st, &klaxon.Config{PollInterval: 10 * time.Millisecond, ShutdownGrace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := worker.Register(greet, charge); err != nil {
		t.Fatal(err)
	}
	if err := worker.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = worker.Stop(stopCtx)
	})

	// The server has no workflow code: a client on the store is all it needs.
	client, err := klaxon.NewClient(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	config := klaxonhttp.Config{Client: client}
	if withTokens {
		config.Tokens, err = klaxonhttp.NewTokens(
			klaxonhttp.Token{Name: "reader", Scope: klaxonhttp.ScopeRead, Secret: readSecret},
			klaxonhttp.Token{Name: "operator", Scope: klaxonhttp.ScopeOperate, Secret: operateSecret},
			klaxonhttp.Token{Name: "root", Scope: klaxonhttp.ScopeAdmin, Secret: adminSecret},
			klaxonhttp.Token{Name: "workers", Scope: klaxonhttp.ScopeWorker, Secret: workerSecret},
		)
		if err != nil {
			t.Fatal(err)
		}
	}
	server, err := klaxonhttp.NewServer(config)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(server.Handler())
	t.Cleanup(ts.Close)
	f.worker, f.server, f.api = worker, ts, server
	return f
}

// closeStore closes the store once (the SQLite store panics on a second
// Close).
func (f *fixture) closeStore() {
	f.closeOnce.Do(func() { _ = f.store.Close() })
}

// client is a typed client presenting secret.
func (f *fixture) client(secret string) *klaxonhttp.Client {
	return klaxonhttp.NewClient(f.server.URL, secret, f.server.Client())
}

// response is an answer read whole.
type response struct {
	status      int
	contentType string
	body        []byte
}

// do sends a raw request, so tests can send what the typed client never
// would.
func (f *fixture) do(method, path, secret string, body string) *response {
	f.t.Helper()
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.server.URL+path, reader)
	if err != nil {
		f.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	resp, err := f.server.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return &response{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: data}
}

// decode reads a JSON answer into v.
func (r *response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("answer %d is not JSON: %v: %s", r.status, err, r.body)
	}
}

// wantProblem checks that the answer is a problem of the status whose detail
// or errors mention every one of words.
func (r *response) wantProblem(t *testing.T, status int, words ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if r.contentType != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json: %s", r.contentType, r.body)
	}
	var problem struct {
		Status int    `json:"status"`
		Title  string `json:"title"`
		Detail string `json:"detail"`
	}
	r.decode(t, &problem)
	if problem.Status != status || problem.Title == "" {
		t.Fatalf("problem %+v does not say its status and title", problem)
	}
	for _, word := range words {
		if !bytes.Contains(r.body, []byte(word)) {
			t.Fatalf("problem does not mention %q: %s", word, r.body)
		}
	}
}

// runCount counts every run in the store.
func (f *fixture) runCount() int {
	f.t.Helper()
	runs, err := f.store.RunList(context.Background(), &store.RunListParams{Limit: 100000})
	if err != nil {
		f.t.Fatal(err)
	}
	return len(runs)
}

// awaitStatus waits until a run reaches a status.
func (f *fixture) awaitStatus(id string, status klaxontype.RunStatus) *klaxontype.Run {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		run, err := f.store.RunGet(context.Background(), id)
		if err != nil {
			f.t.Fatal(err)
		}
		if run.Status == status {
			return run
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("run %s is %s, not %s, after 10s", id, run.Status, status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// deadEntry enqueues a charge run through the API and returns its
// dead-letter entry once it died.
func (f *fixture) deadEntry(secret string, entities map[string]string) *klaxontype.DeadLetter {
	f.t.Helper()
	ctx := context.Background()
	enqueued, err := f.client(secret).Enqueue(ctx, &klaxonhttp.EnqueueRequest{Workflow: "charge", Input: json.RawMessage(`12`), Entities: entities})
	if err != nil {
		f.t.Fatal(err)
	}
	f.awaitStatus(enqueued.Run.ID, klaxontype.RunStatusDead)
	entries, err := f.store.DLQList(ctx, &store.DLQListParams{Limit: 100000})
	if err != nil {
		f.t.Fatal(err)
	}
	for _, entry := range entries {
		if entry.RunID == enqueued.Run.ID && entry.State == klaxontype.DeadLetterOpen {
			return entry
		}
	}
	f.t.Fatalf("run %s is dead but has no open entry", enqueued.Run.ID)
	return nil
}
