package tracing_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/internal/pipelinebench"
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

// instrumentMetrics installs the Prometheus metrics of package metrics, on a
// registry of their own.
func instrumentMetrics(b *testing.B, config *klaxon.Config) {
	if _, err := metrics.Instrument(config, prometheus.NewRegistry()); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPipeline is the baseline: the root package's BenchmarkPipeline,
// five-step no-op workflows on SQLite FULL, with no hooks, in this test binary
// so that the benchmarks below can be alternated with it.
func BenchmarkPipeline(b *testing.B) {
	pipelinebench.Benchmark(b, nil)
}

// BenchmarkPipelineMetrics is BenchmarkPipeline with the Prometheus metrics
// on and no tracer, the third side of the comparison: tracing's cost on top
// of the metrics is BenchmarkPipelineTracingMetrics against this one.
func BenchmarkPipelineMetrics(b *testing.B) {
	pipelinebench.Benchmark(b, instrumentMetrics)
}

// BenchmarkPipelineTracing is BenchmarkPipeline with OpenTelemetry tracing
// on: a span per attempt and per step. Compare the two for the cost of
// tracing (the target is under 10% at concurrency 256).
func BenchmarkPipelineTracing(b *testing.B) {
	pipelinebench.Benchmark(b, traceTo)
}

// BenchmarkPipelineTracingMetrics is BenchmarkPipeline with both tracing and
// the Prometheus metrics of package metrics on, as a production worker runs.
func BenchmarkPipelineTracingMetrics(b *testing.B) {
	pipelinebench.Benchmark(b, func(b *testing.B, config *klaxon.Config) {
		traceTo(b, config)
		instrumentMetrics(b, config)
	})
}
