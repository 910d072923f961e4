package engine

import (
	"context"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// Definition is a workflow as the engine sees it: a name, its policies and a
// function from JSON input to JSON output. The root package adapts typed
// workflows to it.
type Definition struct {
	Name    string
	Version int
	// ExpectedSteps is the step manifest; empty means none is declared.
	ExpectedSteps []string
	Retry         klaxontype.RetryPolicy
	// RunTimeout bounds each attempt of the workflow function; zero is none.
	RunTimeout time.Duration
	// Budget caps each run's spend unless the run's enqueue set its own.
	Budget klaxontype.Budget
	// Breaker trips the workflow's breaker on a retry storm.
	Breaker klaxontype.BreakerPolicy
	// SpendRateLimit trips the workflow's breaker when its runs spend more
	// than this many dollars in an hour; zero is no limit.
	SpendRateLimit float64
	// Priority is the priority of runs enqueued without one.
	Priority int
	// ConcurrencyKey computes a run's concurrency key from its input; nil
	// when the workflow has none. At most ConcurrencyLimit runs of one key
	// hold a slot at once; a run whose key is empty is not limited.
	ConcurrencyKey   func(input []byte) (string, error)
	ConcurrencyLimit int
	// Execute runs the workflow function. The context carries the Execution.
	Execute func(ctx context.Context, input []byte) (output []byte, err error)
}

// Dead-letter channels of the default routing.
const (
	ChannelReview   = "review"
	ChannelSecurity = "security"
	ChannelOps      = "ops"
)

// DefaultRoute is the channel a class goes to unless routed elsewhere:
// policy violations to security; failures of the machinery (compensations,
// exhausted transient failures, timeouts and rate limits) to ops; everything
// that needs a look at the job itself to review.
func DefaultRoute(class klaxontype.FailureClass) string {
	switch class {
	case klaxontype.ClassPolicyViolation:
		return ChannelSecurity
	case klaxontype.ClassCompensationFailed, klaxontype.ClassTransient, klaxontype.ClassTimeout, klaxontype.ClassRateLimited:
		return ChannelOps
	default:
		return ChannelReview
	}
}
