package tracing_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/tracing"
)

// otlpReceiver is an OTLP/HTTP trace receiver: it decodes the protobuf
// requests POSTed to /v1/traces.
type otlpReceiver struct {
	mu       sync.Mutex
	requests []*collectortrace.ExportTraceServiceRequest
}

func (r *otlpReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost || req.URL.Path != "/v1/traces" || req.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want a protobuf POST to /v1/traces", http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var decoded collectortrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &decoded); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.requests = append(r.requests, &decoded)
	r.mu.Unlock()
	response, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(response)
}

// With OTEL_EXPORTER_OTLP_ENDPOINT set, a run's spans reach the collector
// over OTLP/HTTP when the tracer is shut down, under OTEL_SERVICE_NAME, in the
// trace whose ID is the run's.
func TestFromEnvironmentExportsOverOTLP(t *testing.T) {
	receiver := &otlpReceiver{}
	collector := httptest.NewServer(receiver)
	defer collector.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	t.Setenv("OTEL_SERVICE_NAME", "klaxon-test")

	ctx := context.Background()
	tracer, shutdown, err := tracing.FromEnvironment(ctx)
	if err != nil || tracer == nil {
		t.Fatalf("FromEnvironment: %v, %v; want a tracer", tracer, err)
	}
	wf := klaxon.NewWorkflow("exported", func(ctx context.Context, n int) (int, error) {
		return klaxon.Step(ctx, "double", func(context.Context) (int, error) { return 2 * n, nil })
	})
	run := runWithTracer(t, tracer, wf, 21)
	if err := shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}

	wantTrace, _ := tracing.TraceID(run.ID)
	names := map[string]bool{}
	receiver.mu.Lock()
	defer receiver.mu.Unlock()
	for _, request := range receiver.requests {
		for _, resourceSpans := range request.ResourceSpans {
			service := ""
			for _, kv := range resourceSpans.Resource.GetAttributes() {
				if kv.Key == "service.name" {
					service = kv.Value.GetStringValue()
				}
			}
			for _, scopeSpans := range resourceSpans.ScopeSpans {
				for _, span := range scopeSpans.Spans {
					if service != "klaxon-test" || string(span.TraceId) != string(wantTrace[:]) {
						t.Errorf("span %q of service %q in trace %x; want service klaxon-test, trace %x", span.Name, service, span.TraceId, wantTrace)
					}
					names[span.Name] = true
				}
			}
		}
	}
	if !names["run exported"] || !names["step double"] || len(names) != 2 {
		t.Fatalf("the collector received spans %v; want the attempt and its step", names)
	}
}

// Without any OTEL_* variable asking for traces there is no tracer, and a
// value Klaxon cannot honour is refused by name.
func TestFromEnvironmentOffOrRefused(t *testing.T) {
	for _, name := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_TRACES_EXPORTER", "OTEL_SDK_DISABLED"} {
		t.Setenv(name, "")
	}
	tracer, shutdown, err := tracing.FromEnvironment(context.Background())
	if tracer != nil || err != nil || shutdown(context.Background()) != nil {
		t.Fatalf("FromEnvironment with no variables: %v, %v; want no tracer", tracer, err)
	}

	t.Setenv("OTEL_TRACES_EXPORTER", "zipkin")
	if _, _, err := tracing.FromEnvironment(context.Background()); err == nil || !strings.Contains(err.Error(), `OTEL_TRACES_EXPORTER="zipkin"`) {
		t.Fatalf("OTEL_TRACES_EXPORTER=zipkin: %v; want an error naming it", err)
	}
	t.Setenv("OTEL_TRACES_EXPORTER", "otlp")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	if _, _, err := tracing.FromEnvironment(context.Background()); err == nil || !strings.Contains(err.Error(), "OTEL_EXPORTER_OTLP_PROTOCOL") {
		t.Fatalf("OTEL_EXPORTER_OTLP_PROTOCOL=grpc: %v; want an error naming it", err)
	}
	t.Setenv("OTEL_TRACES_EXPORTER", "none")
	if tracer, _, err := tracing.FromEnvironment(context.Background()); tracer != nil || err != nil {
		t.Fatalf("OTEL_TRACES_EXPORTER=none: %v, %v; want no tracer", tracer, err)
	}
}
