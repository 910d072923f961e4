package klaxon_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/metrics"
	"github.com/klaxonhq/klaxon/tracing"
)

// discardSpans is an exporter that drops every span: what is measured is
// making and batching spans, not sending them.
type discardSpans struct{}

func (discardSpans) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardSpans) Shutdown(context.Context) error                             { return nil }

// traceTo installs a tracer whose spans go, through a batch span processor
// as in production, to a discarding exporter; the provider is shut down
// (flushed) after the benchmark.
func traceTo(b *testing.B, config *klaxon.Config) {
	provider := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discardSpans{}), sdktrace.WithIDGenerator(tracing.RunTraceIDs()))
	b.Cleanup(func() { _ = provider.Shutdown(context.Background()) })
	config.Tracer = tracing.New(provider)
}

// BenchmarkPipelineTracing is BenchmarkPipeline with OpenTelemetry tracing
// on: a span per attempt and per step. Compare the two for the cost of
// tracing (the target is under 10% at concurrency 256).
func BenchmarkPipelineTracing(b *testing.B) {
	for _, concurrency := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("concurrency=%d", concurrency), func(b *testing.B) {
			benchmarkPipeline(b, concurrency, func(config *klaxon.Config) { traceTo(b, config) })
		})
	}
}

// BenchmarkPipelineTracingMetrics is BenchmarkPipeline with both tracing and
// the Prometheus metrics of package metrics on, as a production worker runs.
func BenchmarkPipelineTracingMetrics(b *testing.B) {
	for _, concurrency := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("concurrency=%d", concurrency), func(b *testing.B) {
			benchmarkPipeline(b, concurrency, func(config *klaxon.Config) {
				traceTo(b, config)
				if _, err := metrics.Instrument(config, prometheus.NewRegistry()); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
