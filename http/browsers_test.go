package http_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// rawRequest sends a request with the headers given and nothing else (no
// Content-Type unless given), and reads the answer whole.
func (f *fixture) rawRequest(method, path, body string, headers map[string]string) *response {
	f.t.Helper()
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.server.URL+path, reader)
	if err != nil {
		f.t.Fatal(err)
	}
	for name, value := range headers {
		if name == "Host" {
			req.Host = value
			continue
		}
		req.Header.Set(name, value)
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

// What a web page of another origin can send a server without tokens is
// refused: a body not declared JSON (which needs no CORS preflight), a
// state-changing request from another origin, and any request to a name
// rebound to this machine. Before, each acted as "anonymous" with every
// scope.
func TestPagesOfOtherOriginsAreRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	entry := f.deadEntry("", nil)
	runs := f.runCount()
	enqueue := `{"workflow":"greet","input":"x"}`
	cases := []struct {
		name, method, path, body string
		headers                  map[string]string
		status                   int
		words                    []string
	}{
		{"a body without a Content-Type", "POST", "/api/v1/runs", enqueue, nil, 415, []string{"application/json"}},
		{"a body as text/plain", "POST", "/api/v1/runs", enqueue, map[string]string{"Content-Type": "text/plain"}, 415, []string{"application/json"}},
		{"a purge as a form", "POST", "/api/v1/dlq/purge", `{"all":true}`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, []string{"application/json"}},
		{"a purge from another origin", "POST", "/api/v1/dlq/purge", `{"all":true}`,
			map[string]string{"Content-Type": "application/json", "Origin": "https://evil.example"}, 403, []string{"evil.example"}},
		{"a bodiless post from another origin", "POST", "/api/v1/breakers/greet/reset", "",
			map[string]string{"Origin": "http://evil.example"}, 403, []string{"origin"}},
		{"a post from the null origin", "POST", "/api/v1/runs", enqueue,
			map[string]string{"Content-Type": "application/json", "Origin": "null"}, 403, []string{"null"}},
		{"a rebound name", "GET", "/api/v1/whoami", "", map[string]string{"Host": "evil.example"}, 421, []string{"evil.example"}},
		{"a rebound name with a port", "POST", "/api/v1/runs", enqueue,
			map[string]string{"Host": "evil.example:7070", "Content-Type": "application/json"}, 421, []string{"evil.example"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f.rawRequest(c.method, c.path, c.body, c.headers).wantProblem(t, c.status, c.words...)
		})
	}
	if got := f.runCount(); got != runs {
		t.Fatalf("%d runs after refused requests, want %d", got, runs)
	}
	if got, err := f.store.DLQGet(t.Context(), entry.ID); err != nil || got == nil {
		t.Fatalf("entry %s after refused requests: %v", entry.ID, err)
	}

	// The server's own names and pages still work.
	host := strings.TrimPrefix(f.server.URL, "http://")
	for _, headers := range []map[string]string{
		{"Content-Type": "application/json"},
		{"Content-Type": "application/json; charset=utf-8", "Origin": f.server.URL},
		{"Content-Type": "application/json", "Host": strings.Replace(host, "127.0.0.1", "localhost", 1)},
	} {
		if r := f.rawRequest("POST", "/api/v1/runs", enqueue, headers); r.status != http.StatusCreated {
			t.Errorf("enqueue with %v: %d %s", headers, r.status, r.body)
		}
	}
}
