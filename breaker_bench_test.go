package klaxon_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/internal/pipelinebench"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// guardedPipeline is the pipeline benchmark's workflow with a retry-storm breaker and a spend-rate
// limit, neither of which trips: what is measured is what judging them costs,
// including the reads of the store-wide tally.
var guardedPipeline = klaxon.NewWorkflow("guarded-pipeline", func(ctx context.Context, n int) (int, error) {
	for _, name := range []string{"extract", "classify", "enrich", "transform", "store"} {
		var err error
		n, err = klaxon.Step(ctx, name, func(context.Context) (int, error) { return n + 1, nil })
		if err != nil {
			return 0, err
		}
	}
	return n, nil
},
	klaxon.ExpectSteps("extract", "classify", "enrich", "transform", "store"),
	klaxon.WithBreaker(klaxontype.BreakerPolicy{Window: time.Minute, MinAttempts: 100, FailureRate: 0.5}),
	klaxon.WithSpendRateLimit(100),
)

// BenchmarkPipelineBreaker is BenchmarkPipeline with the workflow's breaker
// and spend-rate limit on, to compare with it.
func BenchmarkPipelineBreaker(b *testing.B) {
	for _, concurrency := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("concurrency=%d", concurrency), func(b *testing.B) {
			pipelinebench.RunWorkflow(b, guardedPipeline, concurrency, nil)
		})
	}
}
