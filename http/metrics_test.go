package http_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/klaxonhq/klaxon"
	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/sqlite"
)

// /metrics needs a token of scope read when the server has tokens, and is
// not served at all unless the server was given a metrics handler.
func TestMetricsRoute(t *testing.T) {
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
	tokens, err := klaxonhttp.NewTokens(klaxonhttp.Token{Name: "prometheus", Scope: klaxonhttp.ScopeRead, Secret: readSecret})
	if err != nil {
		t.Fatal(err)
	}
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("klaxon_up 1\n")) })

	with, err := klaxonhttp.NewServer(klaxonhttp.Config{Client: client, Tokens: tokens, Metrics: metrics})
	if err != nil {
		t.Fatal(err)
	}
	without, err := klaxonhttp.NewServer(klaxonhttp.Config{Client: client, Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		server *klaxonhttp.Server
		method string
		token  string
		want   int
	}{
		{with, http.MethodGet, "", http.StatusUnauthorized},
		{with, http.MethodGet, "not-a-secret-of-this-server", http.StatusUnauthorized},
		{with, http.MethodGet, readSecret, http.StatusOK},
		{with, http.MethodPost, readSecret, http.StatusNotFound},
		{without, http.MethodGet, readSecret, http.StatusNotFound},
	} {
		request := httptest.NewRequest(c.method, klaxonhttp.MetricsPath, nil)
		request.RemoteAddr = "192.0.2.7:4242"
		if c.token != "" {
			request.Header.Set("Authorization", "Bearer "+c.token)
		}
		recorder := httptest.NewRecorder()
		c.server.Handler().ServeHTTP(recorder, request)
		if recorder.Code != c.want {
			t.Errorf("%s /metrics with token %q: %d; want %d: %s", c.method, c.token, recorder.Code, c.want, recorder.Body)
		}
	}
}
