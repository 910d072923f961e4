package klaxon_test

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/metrics"
)

// BenchmarkPipelineMetrics is BenchmarkPipeline with the Prometheus metrics
// of package metrics installed on the worker: compare the two for the cost
// of the hooks (the target is under 10% at concurrency 256).
func BenchmarkPipelineMetrics(b *testing.B) {
	for _, concurrency := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("concurrency=%d", concurrency), func(b *testing.B) {
			benchmarkPipeline(b, concurrency, func(config *klaxon.Config) {
				if _, err := metrics.Instrument(config, prometheus.NewRegistry()); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
