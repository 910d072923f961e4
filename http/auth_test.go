package http_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/klaxonhq/klaxon"
	klaxonhttp "github.com/klaxonhq/klaxon/http"
)

func TestScopeMatrix(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	entry := f.deadEntry(operateSecret, nil)
	operations := []struct {
		method, path, body string
		scope              klaxonhttp.Scope
	}{
		{http.MethodGet, "/api/v1/runs", "", klaxonhttp.ScopeRead},
		{http.MethodGet, "/api/v1/runs/" + entry.RunID, "", klaxonhttp.ScopeRead},
		{http.MethodGet, "/api/v1/workflows", "", klaxonhttp.ScopeRead},
		{http.MethodGet, "/api/v1/dlq", "", klaxonhttp.ScopeRead},
		{http.MethodGet, "/api/v1/dlq/" + entry.ID, "", klaxonhttp.ScopeRead},
		{http.MethodGet, "/api/v1/dlq/groups", "", klaxonhttp.ScopeRead},
		{http.MethodGet, "/api/v1/whoami", "", klaxonhttp.ScopeRead},
		{http.MethodGet, "/api/v1/workers", "", klaxonhttp.ScopeRead},
		{http.MethodGet, "/api/v1/schedules", "", klaxonhttp.ScopeRead},
		{http.MethodGet, "/api/v1/ratelimits", "", klaxonhttp.ScopeRead},
		// 404 for an operator: no such schedule.
		{http.MethodPost, "/api/v1/schedules/nope/pause", "", klaxonhttp.ScopeOperate},
		{http.MethodPost, "/api/v1/runs", `{"workflow":"greet","input":"x","idempotency_key":"matrix"}`, klaxonhttp.ScopeOperate},
		{http.MethodPost, "/api/v1/dlq/" + entry.ID + "/replay", `{"dry_run":true}`, klaxonhttp.ScopeOperate},
		{http.MethodPost, "/api/v1/dlq/replay", `{"all":true,"dry_run":true}`, klaxonhttp.ScopeOperate},
		{http.MethodPost, "/api/v1/dlq/discard", `{"all":true,"reason":"x","dry_run":true}`, klaxonhttp.ScopeOperate},
		// 422 for an operator: the check of the scope comes first.
		{http.MethodPost, "/api/v1/dlq/" + entry.ID + "/resolve", `{"step":"other","output":1}`, klaxonhttp.ScopeOperate},
		{http.MethodPost, "/api/v1/dlq/" + entry.ID + "/discard", `{"reason":""}`, klaxonhttp.ScopeOperate},
		{http.MethodGet, "/api/v1/breakers", "", klaxonhttp.ScopeRead},
		{http.MethodGet, "/api/v1/stats", "", klaxonhttp.ScopeRead},
		// 404 for an admin: the breaker is not open.
		{http.MethodPost, "/api/v1/breakers/charge/reset", "", klaxonhttp.ScopeAdmin},
		// 422 for an admin: no filter.
		{http.MethodPost, "/api/v1/dlq/purge", `{}`, klaxonhttp.ScopeAdmin},
		// 409 for an operator: the run is dead.
		{http.MethodPost, "/api/v1/runs/" + entry.RunID + "/cancel", `{"reason":"matrix"}`, klaxonhttp.ScopeOperate},
		{http.MethodGet, "/api/v1/tokens", "", klaxonhttp.ScopeAdmin},
		{http.MethodGet, "/api/v1/outbox", "", klaxonhttp.ScopeRead},
		{http.MethodPost, "/api/v1/outbox/give-up", `{"channel":"nowhere","reason":"matrix"}`, klaxonhttp.ScopeAdmin},
		{http.MethodGet, "/api/v1/approvals", "", klaxonhttp.ScopeRead},
		// 409 for an operator: the run is dead.
		{http.MethodPost, "/api/v1/runs/" + entry.RunID + "/signals/payment", `{"paid":true}`, klaxonhttp.ScopeOperate},
		// 404 for an operator: no open run has the entity.
		{http.MethodPost, "/api/v1/signals/payment?entity=order_id=none", `{"paid":true}`, klaxonhttp.ScopeOperate},
		// 404 for an operator: the run asks for no approval.
		{http.MethodPost, "/api/v1/runs/" + entry.RunID + "/approvals/refund", `{"decision":"approve"}`, klaxonhttp.ScopeOperate},
	}
	secrets := map[klaxonhttp.Scope]string{
		klaxonhttp.ScopeRead: readSecret, klaxonhttp.ScopeOperate: operateSecret, klaxonhttp.ScopeAdmin: adminSecret,
		klaxonhttp.ScopeWorker: workerSecret,
	}
	runs := f.runCount()
	for _, op := range operations {
		name := op.method + " " + op.path
		f.do(op.method, op.path, "", op.body).wantProblem(t, http.StatusUnauthorized, "access token")
		f.do(op.method, op.path, "wrong-secret-0123456789", op.body).wantProblem(t, http.StatusUnauthorized, "not one this server knows")
		for _, scope := range klaxonhttp.Scopes() {
			r := f.do(op.method, op.path, secrets[scope], op.body)
			if scope < op.scope || scope == klaxonhttp.ScopeWorker {
				// A worker token hosts workflows and does nothing else.
				r.wantProblem(t, http.StatusForbidden, "scope "+scope.String(), "needs "+op.scope.String())
				continue
			}
			if r.status == http.StatusUnauthorized || r.status == http.StatusForbidden {
				t.Fatalf("%s with a %s token: %d %s", name, scope, r.status, r.body)
			}
		}
	}
	// The operators' enqueues were one idempotent run; the refused ones none.
	if got := f.runCount(); got != runs+1 {
		t.Fatalf("%d runs after the matrix, want %d", got, runs+1)
	}
	// The scheme is case-insensitive (RFC 9110); Bearer is the only one.
	lower, _ := http.NewRequest(http.MethodGet, f.server.URL+"/api/v1/runs", nil)
	lower.Header.Set("Authorization", "bearer "+readSecret)
	if resp, err := f.server.Client().Do(lower); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("lower-case bearer: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	// Bearer is the only scheme.
	req, _ := http.NewRequest(http.MethodGet, f.server.URL+"/api/v1/runs", nil)
	req.SetBasicAuth("reader", readSecret)
	resp, err := f.server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("basic auth: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

func TestReadTokens(t *testing.T) {
	t.Parallel()
	tokens, err := klaxonhttp.ReadTokens(strings.NewReader(`
# name scope secret
ci      operate   ci-secret-0123456789
grafana read	grafana-secret-0123456789
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(tokens) != 2 || tokens[0].Name != "ci" || tokens[0].Scope != klaxonhttp.ScopeOperate || tokens[1].Scope != klaxonhttp.ScopeRead {
		t.Fatalf("tokens %+v", tokens)
	}
	if _, err := klaxonhttp.NewTokens(tokens...); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"ci operate", "ci superuser s-0123456789abcdef", "a b c d"} {
		if _, err := klaxonhttp.ReadTokens(strings.NewReader(bad)); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
	for _, bad := range [][]klaxonhttp.Token{
		{{Name: "short", Scope: klaxonhttp.ScopeRead, Secret: "short"}},
		{{Name: "twice", Scope: klaxonhttp.ScopeRead, Secret: readSecret}, {Name: "twice", Scope: klaxonhttp.ScopeRead, Secret: adminSecret}},
		{{Name: "", Scope: klaxonhttp.ScopeRead, Secret: readSecret}},
		{{Name: "none", Scope: klaxonhttp.ScopeNone, Secret: readSecret}},
	} {
		if _, err := klaxonhttp.NewTokens(bad...); err == nil {
			t.Errorf("%+v was accepted", bad)
		}
	}
	env := map[string]string{"KLAXON_TOKEN": adminSecret}
	loaded, err := klaxonhttp.LoadTokens("", func(key string) string { return env[key] })
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded) != 1 || loaded[0].Name != "admin" || loaded[0].Scope != klaxonhttp.ScopeAdmin {
		t.Fatalf("KLAXON_TOKEN gave %+v", loaded)
	}
}

func TestLoopbackOnlyWithoutTokens(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"127.0.0.1:7070", "[::1]:7070", "localhost:0"} {
		if err := klaxonhttp.CheckAddr(addr, false); err != nil {
			t.Errorf("%s: %v", addr, err)
		}
	}
	for _, addr := range []string{":7070", "0.0.0.0:7070", "192.168.1.10:7070", "example.com:7070"} {
		if err := klaxonhttp.CheckAddr(addr, false); !errors.Is(err, klaxonhttp.ErrNoTokensNonLoopback) {
			t.Errorf("%s without tokens: %v", addr, err)
		}
		if err := klaxonhttp.CheckAddr(addr, true); err != nil {
			t.Errorf("%s with tokens: %v", addr, err)
		}
	}
}

// A server without tokens that someone mounts on a public listener still
// answers this machine only.
func TestHandlerWithoutTokensRefusesOtherMachines(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	handler := f.api.Handler()
	for remote, want := range map[string]int{"192.0.2.7:4000": http.StatusForbidden, "127.0.0.1:4000": http.StatusOK, "[::1]:4000": http.StatusOK} {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/workflows", nil)
		req.RemoteAddr = remote
		// A server without tokens answers only its own names, not
		// httptest's default example.com.
		req.Host = "localhost:7070"
		recorder := httptest.NewRecorder()
		handler.ServeHTTP(recorder, req)
		if recorder.Code != want {
			t.Errorf("from %s: %d %s, want %d", remote, recorder.Code, recorder.Body, want)
		}
		if want == http.StatusForbidden && recorder.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("refusal answered as %q", recorder.Header().Get("Content-Type"))
		}
	}
}

// Token configurations that look fine and are not are refused, each with a
// message that says what to do: two tokens sharing a secret (the last one
// silently won, a read token's secret gaining admin), a placeholder of one
// repeated character, a secret of spaces no request can present (from
// KLAXON_TOKEN too); a token file other users can read is warned about.
func TestTokenMistakesAreRefused(t *testing.T) {
	t.Parallel()
	for what, bad := range map[string][]klaxonhttp.Token{
		"the same secret twice": {
			{Name: "grafana", Scope: klaxonhttp.ScopeRead, Secret: adminSecret},
			{Name: "root", Scope: klaxonhttp.ScopeAdmin, Secret: adminSecret},
		},
		"16 identical characters": {{Name: "lazy", Scope: klaxonhttp.ScopeRead, Secret: strings.Repeat("a", 16)}},
		"two characters repeated": {{Name: "lazy", Scope: klaxonhttp.ScopeRead, Secret: strings.Repeat("ab", 8)}},
		"16 spaces":               {{Name: "blank", Scope: klaxonhttp.ScopeAdmin, Secret: strings.Repeat(" ", 16)}},
		"a space inside":          {{Name: "spaced", Scope: klaxonhttp.ScopeAdmin, Secret: "correct horse battery staple"}},
	} {
		if _, err := klaxonhttp.NewTokens(bad...); err == nil {
			t.Errorf("%s: accepted", what)
		} else if strings.Contains(err.Error(), adminSecret) {
			t.Errorf("%s: the error %q repeats the secret", what, err)
		}
	}
	env := map[string]string{"KLAXON_TOKEN": strings.Repeat(" ", 16)}
	if _, err := klaxonhttp.LoadTokens("", func(key string) string { return env[key] }); err == nil || !strings.Contains(err.Error(), "KLAXON_TOKEN") {
		t.Errorf("KLAXON_TOKEN of spaces: %v; want a refusal naming it", err)
	}

	path := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(path, []byte("ci operate "+operateSecret+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if warning := klaxonhttp.TokenFileWarning(path); !strings.Contains(warning, "chmod 600") {
		t.Errorf("a token file of mode 0644: warning %q; want the fix", warning)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if warning := klaxonhttp.TokenFileWarning(path); warning != "" {
		t.Errorf("a token file of mode 0600: warning %q", warning)
	}
}

// A failed authentication is logged with the client's address, never the
// secret, and a client failing again and again is logged once a minute.
func TestFailedAuthenticationIsLoggedRateLimited(t *testing.T) {
	t.Parallel()
	st := newFixture(t, false).store
	client, err := klaxon.NewClient(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := klaxonhttp.NewTokens(klaxonhttp.Token{Name: "root", Scope: klaxonhttp.ScopeAdmin, Secret: adminSecret})
	if err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{mu: &mu, w: &logged}, nil))
	server, err := klaxonhttp.NewServer(klaxonhttp.Config{Client: client, Tokens: tokens, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	const guess = "guessed-secret-0123456789"
	for range 10 {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/workflows", nil)
		req.RemoteAddr = "192.0.2.7:4000"
		req.Header.Set("Authorization", "Bearer "+guess)
		recorder := httptest.NewRecorder()
		server.Handler().ServeHTTP(recorder, req)
		if recorder.Code != http.StatusUnauthorized {
			t.Fatalf("a wrong token: %d", recorder.Code)
		}
	}
	mu.Lock()
	text := logged.String()
	mu.Unlock()
	if n := strings.Count(text, "authentication failed"); n != 1 || !strings.Contains(text, "192.0.2.7") {
		t.Errorf("10 failures from one address logged %d lines: %s; want one naming the address", n, text)
	}
	if strings.Contains(text, guess) {
		t.Errorf("the log repeats the secret presented: %s", text)
	}
}

// lockedWriter serializes writes to a log buffer.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
