package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/klaxonhq/klaxon/cmd/klaxon/demo"
)

// With OTEL_EXPORTER_OTLP_ENDPOINT set, the demo's workers export their spans
// to the collector over OTLP/HTTP, and flush them before the demo exits:
// every run's attempt, its steps and the model calls of its steps arrive.
func TestDemoExportsTraces(t *testing.T) {
	var (
		mu    sync.Mutex
		names = map[string]int{}
	)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var request collectortrace.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &request) != nil {
			http.Error(w, "want OTLP protobuf at /v1/traces", http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for _, resourceSpans := range request.ResourceSpans {
			for _, scopeSpans := range resourceSpans.ScopeSpans {
				for _, span := range scopeSpans.Spans {
					names[span.Name]++
				}
			}
		}
	}))
	defer collector.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)

	db := filepath.Join(t.TempDir(), "demo.db")
	code, _, stderr := run(t, nil, "demo", "--no-server", "--db", db, "--runs", "3", "--exit-when-done", "--json",
		"--seed", "1", "--error-rate", "0", "--rate-limit-rate", "0", "--slow-rate", "0", "--wrong-rate", "0", "--panic-rate", "0")
	if code != exitOK || !strings.Contains(stderr, "traces: exported over OTLP/HTTP") {
		t.Fatalf("demo exited %d: %s", code, stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if names["run "+demo.WorkflowName] < 3 || names["step classify"] < 3 || names["step enrich"] < 3 {
		t.Fatalf("the collector received %v; want an attempt span per run and a span per step", names)
	}
	chats := 0
	for name, n := range names {
		if strings.HasPrefix(name, "chat ") {
			chats += n
		}
	}
	if chats < 6 {
		t.Fatalf("the collector received %d model call spans (%v); want classify's and enrich's of 3 runs", chats, names)
	}
}
