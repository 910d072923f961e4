package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon"
	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

// fuzzRoutes are the operations whose bodies FuzzRequestDecoding sends.
var fuzzRoutes = []string{
	"/api/v1/runs",
	"/api/v1/dlq/01ARZ3NDEKTSV4RRFFQ69G5FAV/replay",
	"/api/v1/dlq/replay",
	"/api/v1/dlq/discard",
	"/api/v1/dlq/01ARZ3NDEKTSV4RRFFQ69G5FAV/resolve",
	"/api/v1/dlq/01ARZ3NDEKTSV4RRFFQ69G5FAV/discard",
}

// FuzzRequestDecoding sends arbitrary bodies to the operations that take
// one: whatever arrives, the answer is never a server error, a refusal is
// always problem+json, and an enqueue is only accepted for a body that
// decodes strictly into an EnqueueRequest. The seeds are in
// testdata/fuzz/FuzzRequestDecoding.
func FuzzRequestDecoding(f *testing.F) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "klaxon.db"), &sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = st.Close() })
	// The workflow exists in the store as a worker elsewhere would leave it.
	if err := st.WorkflowRegister(ctx, &store.WorkflowRegisterParams{Name: "greet", Version: 1}); err != nil {
		f.Fatal(err)
	}
	client, err := klaxon.NewClient(st, nil)
	if err != nil {
		f.Fatal(err)
	}
	tokens, err := klaxonhttp.NewTokens(klaxonhttp.Token{Name: "fuzz", Scope: klaxonhttp.ScopeAdmin, Secret: adminSecret})
	if err != nil {
		f.Fatal(err)
	}
	server, err := klaxonhttp.NewServer(klaxonhttp.Config{Client: client, Tokens: tokens, MaxBodyBytes: 64 << 10})
	if err != nil {
		f.Fatal(err)
	}
	handler := server.Handler()

	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		path := fuzzRoutes[int(route)%len(fuzzRoutes)]
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+adminSecret)
		recorder := httptest.NewRecorder()
		handler.ServeHTTP(recorder, req)
		status, contentType := recorder.Code, recorder.Header().Get("Content-Type")
		if status >= 500 {
			t.Fatalf("%s %q: %d %s", path, body, status, recorder.Body)
		}
		if status >= 400 {
			if contentType != "application/problem+json" || !json.Valid(recorder.Body.Bytes()) {
				t.Fatalf("%s %q: %d answered as %q: %s", path, body, status, contentType, recorder.Body)
			}
			return
		}
		if !strings.HasPrefix(contentType, "application/json") {
			t.Fatalf("%s %q: %d answered as %q", path, body, status, contentType)
		}
		if path == fuzzRoutes[0] {
			decoder := json.NewDecoder(bytes.NewReader(body))
			decoder.DisallowUnknownFields()
			var request klaxonhttp.EnqueueRequest
			if err := decoder.Decode(&request); err != nil || request.Workflow != "greet" || decoder.More() {
				t.Fatalf("enqueue accepted %q (%d): %v", body, status, err)
			}
		}
	})
}
