package metrics_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/internal/pipelinebench"
	"github.com/klaxonhq/klaxon/metrics"
)

// BenchmarkPipeline is the baseline: the root package's BenchmarkPipeline,
// five-step no-op workflows on SQLite FULL, with no hooks, in this test binary
// so that the benchmarks below can be alternated with it.
func BenchmarkPipeline(b *testing.B) {
	pipelinebench.Benchmark(b, nil)
}

// BenchmarkPipelineMetrics is BenchmarkPipeline with the Prometheus metrics
// of package metrics installed on the worker: compare the two for the cost
// of the hooks (the target is under 10% at concurrency 256).
func BenchmarkPipelineMetrics(b *testing.B) {
	pipelinebench.Benchmark(b, instrument)
}

// instrument installs the engine metrics on the worker's configuration, on a
// registry of their own.
func instrument(b *testing.B, config *klaxon.Config) {
	if _, err := metrics.Instrument(config, prometheus.NewRegistry()); err != nil {
		b.Fatal(err)
	}
}
