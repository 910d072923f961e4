package tracing

import (
	"context"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// DefaultServiceName is the service.name of Klaxon's spans unless
// OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES says otherwise.
const DefaultServiceName = "klaxon"

// Enabled reports whether the standard OpenTelemetry environment variables
// ask for traces: OTEL_TRACES_EXPORTER=otlp, or an OTLP endpoint
// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), unless
// OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none.
func Enabled() bool {
	if strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") {
		return false
	}
	switch exporter := strings.TrimSpace(os.Getenv("OTEL_TRACES_EXPORTER")); exporter {
	case "none":
		return false
	case "":
		return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
	default:
		return true // otlp, or something FromEnvironment refuses by name
	}
}

// FromEnvironment sets up tracing as the standard OpenTelemetry environment
// variables say, and returns the tracer to set as klaxon.Config.Tracer and
// the function that flushes and stops the exporter (call it before the
// process exits). When Enabled is false the tracer is nil, which traces
// nothing, and shutdown does nothing.
//
// Spans go through a batch span processor (OTEL_BSP_*) to an OTLP/HTTP
// exporter (protobuf), configured by the OTEL_EXPORTER_OTLP_* variables:
// endpoint, headers, timeout, compression, certificates. The sampler follows
// OTEL_TRACES_SAMPLER (default: every trace), the resource
// OTEL_SERVICE_NAME (default "klaxon") and OTEL_RESOURCE_ATTRIBUTES. IDs come
// from RunTraceIDs. A value this function cannot honour (an exporter other
// than otlp, the grpc protocol) is an error naming the variable.
func FromEnvironment(ctx context.Context) (klaxontype.Tracer, func(context.Context) error, error) {
	noop := func(context.Context) error { return nil }
	if !Enabled() {
		return nil, noop, nil
	}
	if exporter := strings.TrimSpace(os.Getenv("OTEL_TRACES_EXPORTER")); exporter != "" && exporter != "otlp" {
		return nil, noop, fmt.Errorf("tracing: OTEL_TRACES_EXPORTER=%q is not supported: use otlp (or none)", exporter)
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if protocol := strings.TrimSpace(os.Getenv(name)); protocol != "" {
			if protocol != "http/protobuf" {
				return nil, noop, fmt.Errorf("tracing: %s=%q is not supported: Klaxon exports OTLP over http/protobuf", name, protocol)
			}
			break // the traces-specific variable wins
		}
	}
	exporter, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, noop, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName(DefaultServiceName)),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(), // last, so that the environment wins
	)
	if err != nil {
		_ = exporter.Shutdown(ctx)
		return nil, noop, fmt.Errorf("tracing: resource from OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME: %w", err)
	}
	provider := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exporter),
		sdktrace.WithResource(res),
		sdktrace.WithIDGenerator(RunTraceIDs()),
	)
	return New(provider), provider.Shutdown, nil
}
