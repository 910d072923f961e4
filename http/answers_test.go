package http_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/dashboard"
	klaxonhttp "github.com/klaxonhq/klaxon/http"
)

// Every error is application/problem+json, outside /api/v1 too (a wrong
// method on /healthz, a page the dashboard does not have), and every answer
// tells caches not to keep it and browsers not to guess its type: answers
// carry run data. Before, those 404s and 405s were text/plain, and the API
// set neither header.
func TestEveryAnswerIsAProblemAndUncached(t *testing.T) {
	t.Parallel()
	st := newFixture(t, false).store
	client, err := klaxon.NewClient(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	server, err := klaxonhttp.NewServer(klaxonhttp.Config{Client: client, Dashboard: dashboard.Handler()})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(server.Handler())
	t.Cleanup(ts.Close)
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{http.MethodPut, "/healthz", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/readyz", http.StatusMethodNotAllowed},
		{http.MethodGet, "/nothing", http.StatusNotFound},
		{http.MethodGet, "/assets/missing.js", http.StatusNotFound},
		{http.MethodGet, "/api/v1/nothing", http.StatusNotFound},
	} {
		req, err := http.NewRequest(c.method, ts.URL+c.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != c.status || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s %s: %d %q; want %d application/problem+json", c.method, c.path, resp.StatusCode, resp.Header.Get("Content-Type"), c.status)
		}
	}
	for _, path := range []string{"/api/v1/runs", "/api/v1/workflows", "/healthz", "/api/v1/nothing"} {
		resp, err := ts.Client().Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: Cache-Control %q, X-Content-Type-Options %q; want no-store, nosniff",
				path, resp.Header.Get("Cache-Control"), resp.Header.Get("X-Content-Type-Options"))
		}
	}
}
