package http_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/protocol"
	"github.com/klaxonhq/klaxon/sqlite"
)

// The secrets a redacted workflow's run carries: a path names the email, a
// pattern finds the API key wherever it appears.
const (
	customerEmail = "ada@example.com"
	customerKey   = "sk-ABCDEFGHIJKLMNOPQRSTUVWX"
)

type onboarding struct {
	Customer struct {
		Email string `json:"email"`
		Key   string `json:"key"`
	} `json:"customer"`
}

// redactionServer is a server with tokens over a real SQLite store, and a
// worker hosting "onboard" (redacted; it echoes its input in a step, waits
// for a signal, then fails with the key in its error) .
func redactionServer(t *testing.T) (*httptest.Server, *sqlite.Store) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "klaxon.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	onboard := klaxon.NewWorkflow("onboard", func(ctx context.Context, in onboarding) (string, error) {
		if _, err := klaxon.Step(ctx, "echo", func(context.Context) (onboarding, error) { return in, nil }); err != nil {
			return "", err
		}
		if _, err := klaxon.WaitForSignal[json.RawMessage](ctx, "confirm", klaxon.SignalTimeout(time.Hour)); err != nil {
			return "", err
		}
		return klaxon.Step(ctx, "provision", func(context.Context) (string, error) {
			return "", klaxon.Permanent(errors.New("provider refused key " + in.Customer.Key))
		})
	}, klaxon.Redact("$.customer.email"), klaxon.RedactPattern(regexp.MustCompile(`sk-[A-Za-z0-9]{20,}`)))
	worker, err := klaxon.NewClient(st, &klaxon.Config{PollInterval: 10 * time.Millisecond, ShutdownGrace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := worker.Register(onboard); err != nil {
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
	client, err := klaxon.NewClient(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := klaxonhttp.NewTokens(
		klaxonhttp.Token{Name: "reader", Scope: klaxonhttp.ScopeRead, Secret: readSecret},
		klaxonhttp.Token{Name: "operator", Scope: klaxonhttp.ScopeOperate, Secret: operateSecret},
		klaxonhttp.Token{Name: "root", Scope: klaxonhttp.ScopeAdmin, Secret: adminSecret},
	)
	if err != nil {
		t.Fatal(err)
	}
	server, err := klaxonhttp.NewServer(klaxonhttp.Config{Client: client, Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(server.Handler())
	t.Cleanup(ts.Close)
	return ts, st
}

// TestRedactMasksPayloadsBelowAdmin: a read or operate token sees the email
// and the key masked in the run, its steps, events, attempts, signals and
// its dead-letter entry; an admin token sees them intact, and so does the
// store.
func TestRedactMasksPayloadsBelowAdmin(t *testing.T) {
	t.Parallel()
	ts, st := redactionServer(t)
	f := &fixture{t: t, server: ts}
	input := `{"customer":{"email":"` + customerEmail + `","key":"` + customerKey + `"}}`
	enqueued := f.do(http.MethodPost, "/api/v1/runs", operateSecret, `{"workflow":"onboard","input":`+input+`}`)
	if enqueued.status != http.StatusCreated {
		t.Fatalf("enqueue: %d %s", enqueued.status, enqueued.body)
	}
	var created klaxonhttp.EnqueueResponse
	enqueued.decode(t, &created)
	if strings.Contains(string(enqueued.body), customerEmail) || strings.Contains(string(enqueued.body), customerKey) {
		t.Errorf("the enqueue answer shows the secrets to an operate token: %s", enqueued.body)
	}
	runID := created.Run.ID
	awaitRun(t, st, runID, klaxontype.RunStatusWaiting)
	signalBody := `{"customer":{"email":"` + customerEmail + `"},"token":"` + customerKey + `"}`
	if r := f.do(http.MethodPost, "/api/v1/runs/"+runID+"/signals/confirm", operateSecret, signalBody); r.status != http.StatusOK || strings.Contains(string(r.body), customerKey) {
		t.Fatalf("signal: %d %s", r.status, r.body)
	}
	awaitRun(t, st, runID, klaxontype.RunStatusDead)

	entries := f.do(http.MethodGet, "/api/v1/dlq?run="+runID, adminSecret, "")
	var page klaxonhttp.DeadLetterPage
	entries.decode(t, &page)
	if len(page.Entries) != 1 {
		t.Fatalf("dead-letter entries of the run: %s", entries.body)
	}
	entryID := page.Entries[0].ID

	for _, path := range []string{"/api/v1/runs/" + runID, "/api/v1/runs?workflow=onboard", "/api/v1/dlq/" + entryID, "/api/v1/dlq?run=" + runID} {
		for _, secret := range []string{readSecret, operateSecret} {
			r := f.do(http.MethodGet, path, secret, "")
			if r.status != http.StatusOK {
				t.Fatalf("GET %s: %d %s", path, r.status, r.body)
			}
			for _, hidden := range []string{customerEmail, customerKey} {
				if strings.Contains(string(r.body), hidden) {
					t.Errorf("GET %s below admin shows %q: %s", path, hidden, r.body)
				}
			}
			if !strings.Contains(string(r.body), klaxon.RedactionMarker) {
				t.Errorf("GET %s below admin shows no %s: %s", path, klaxon.RedactionMarker, r.body)
			}
		}
		admin := f.do(http.MethodGet, path, adminSecret, "")
		if !strings.Contains(string(admin.body), customerEmail) || !strings.Contains(string(admin.body), customerKey) {
			t.Errorf("GET %s as admin does not show the values intact: %s", path, admin.body)
		}
	}

	// Every part of the run page, one by one.
	var detail klaxonhttp.RunDetail
	f.do(http.MethodGet, "/api/v1/runs/"+runID, readSecret, "").decode(t, &detail)
	parts := map[string]string{"input": string(detail.Run.Input), "failure": detail.Run.Failure.Reason}
	for _, step := range detail.Steps {
		parts["step "+step.Name] = string(step.Output)
	}
	for _, signal := range detail.Signals {
		parts["signal "+signal.Name] = string(signal.Payload)
	}
	for _, event := range detail.Events {
		parts["event "+string(event.Type)] += event.Message
	}
	for _, attempt := range detail.Attempts {
		parts["attempt"] += attempt.Message
	}
	if len(detail.Signals) == 0 || len(detail.Attempts) == 0 {
		t.Fatalf("the run page has no signal or attempt to check: %+v", detail)
	}
	for part, text := range parts {
		if strings.Contains(text, customerEmail) || strings.Contains(text, customerKey) {
			t.Errorf("%s shows a secret to a read token: %s", part, text)
		}
	}

	// The store keeps the real values: an admin's replay runs on them.
	stored, err := st.RunGet(context.Background(), runID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(stored.Input), customerEmail) {
		t.Errorf("the store's input was changed: %s", stored.Input)
	}
}

// TestRedactRefusesTheMarkerInEditedPayloads: an input edited from a masked
// view still holds the marker; a replay or enqueue with it is refused with
// 422 naming the path, and nothing changes.
func TestRedactRefusesTheMarkerInEditedPayloads(t *testing.T) {
	t.Parallel()
	ts, _ := redactionServer(t)
	f := &fixture{t: t, server: ts}
	masked := `{"customer":{"email":"[redacted]","key":"k"}}`
	before := f.do(http.MethodGet, "/api/v1/runs", adminSecret, "").body
	for _, secret := range []string{operateSecret, adminSecret} {
		r := f.do(http.MethodPost, "/api/v1/runs", secret, `{"workflow":"onboard","input":`+masked+`}`)
		r.wantProblem(t, http.StatusUnprocessableEntity, "$.customer.email", "[redacted]")
	}
	if after := f.do(http.MethodGet, "/api/v1/runs", adminSecret, "").body; string(after) != string(before) {
		t.Errorf("a refused enqueue created a run: %s", after)
	}
	r := f.do(http.MethodPost, "/api/v1/dlq/replay", operateSecret, `{"filter":{"workflow":"onboard"},"input":`+masked+`}`)
	r.wantProblem(t, http.StatusUnprocessableEntity, "$.customer.email")
}

// TestRedactRefusesBadPathsAtRegistration: a bad path or pattern is an error
// of Register naming it, and the workflow is not registered.
func TestRedactRefusesBadPathsAtRegistration(t *testing.T) {
	t.Parallel()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "klaxon.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	client, err := klaxon.NewClient(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	noop := func(context.Context, string) (string, error) { return "", nil }
	bad := klaxon.NewWorkflow("bad", noop, klaxon.Redact("$.ok", "customer.email"))
	if err := client.Register(bad); err == nil || !strings.Contains(err.Error(), `"customer.email" is not a JSON path`) {
		t.Fatalf("Register = %v; want an error naming customer.email", err)
	}
	if err := client.Register(klaxon.NewWorkflow("bad", noop)); err != nil {
		t.Fatalf("the refused workflow was registered all the same: %v", err)
	}
}

func awaitRun(t *testing.T, st *sqlite.Store, id string, status klaxontype.RunStatus) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		run, err := st.RunGet(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if run.Status == status {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s is %s, not %s, after 10s", id, run.Status, status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRedactFromWorkerProtocol: a worker of another language registers a
// rule with its workflow; a bad path is refused with 422 naming it and
// registers nothing; a good rule masks the runs for an operate token.
func TestRedactFromWorkerProtocol(t *testing.T) {
	t.Parallel()
	f := newWorkerFixture(t)
	r := f.post("/register", protocol.RegisterRequest{
		Worker:    protocol.WorkerInfo{ID: "py-1", Language: "python"},
		Workflows: []protocol.HostedWorkflow{{Name: "py-onboard", Redact: []string{"$.ok", "customer.email"}}},
	}, http.StatusUnprocessableEntity, nil)
	r.wantProblem(t, http.StatusUnprocessableEntity, "customer.email", "is not a JSON path")
	if workflows, err := f.store.WorkflowList(context.Background()); err != nil || len(workflows) != 0 {
		t.Fatalf("a refused registration recorded %d workflows (%v)", len(workflows), err)
	}
	f.post("/register", protocol.RegisterRequest{
		Worker: protocol.WorkerInfo{ID: "py-1", Language: "python"},
		Workflows: []protocol.HostedWorkflow{{Name: "py-onboard", Redact: []string{"$.customer.email"},
			RedactPatterns: []string{`sk-[A-Za-z0-9]{20,}`}}},
	}, http.StatusOK, nil)
	runID := f.enqueue("py-onboard", `{"customer":{"email":"`+customerEmail+`"},"note":"`+customerKey+`"}`)
	operator := f.do(http.MethodGet, "/api/v1/runs/"+runID, operateSecret, "")
	if strings.Contains(string(operator.body), customerEmail) || strings.Contains(string(operator.body), customerKey) {
		t.Errorf("an operate token sees the secrets: %s", operator.body)
	}
	admin := f.do(http.MethodGet, "/api/v1/runs/"+runID, adminSecret, "")
	if !strings.Contains(string(admin.body), customerEmail) || !strings.Contains(string(admin.body), customerKey) {
		t.Errorf("an admin token does not see the values: %s", admin.body)
	}
	// The worker itself gets the real input to work on.
	runs := f.claim("py-onboard", time.Second)
	if len(runs) != 1 || !strings.Contains(string(runs[0].Input), customerEmail) {
		t.Errorf("the worker's claim did not carry the real input: %+v", runs)
	}
}
