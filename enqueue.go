package klaxon

import (
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// EnqueueOption sets a property of a run being enqueued.
type EnqueueOption func(*enqueueOptions)

type enqueueOptions struct {
	idempotencyKey string
	entities       map[string]string
	delay          time.Duration
	budget         *klaxontype.Budget
	audited        bool
	// priority is nil when the enqueue leaves it to the workflow's default.
	priority *int
}

// WithIdempotencyKey deduplicates enqueues: a second enqueue of the same
// workflow with the same key returns the existing run, whatever its status,
// and creates nothing.
func WithIdempotencyKey(key string) EnqueueOption {
	return func(o *enqueueOptions) { o.idempotencyKey = key }
}

// WithEntity labels the run (document_id=42) so runs can be found by it.
func WithEntity(key, value string) EnqueueOption {
	return func(o *enqueueOptions) {
		if o.entities == nil {
			o.entities = make(map[string]string)
		}
		o.entities[key] = value
	}
}

// WithDelay makes the run available to workers only after the delay.
func WithDelay(delay time.Duration) EnqueueOption {
	return func(o *enqueueOptions) { o.delay = delay }
}

// WithRunBudget caps what this run may spend on model calls, instead of its
// workflow's budget.
func WithRunBudget(budget klaxontype.Budget) EnqueueOption {
	return func(o *enqueueOptions) { o.budget = &budget }
}

// WithPriority sets the run's priority, klaxontype.MinPriority..MaxPriority
// (-100..100), instead of its workflow's default (DefaultPriority, else 0).
// A higher priority is claimed first, but only by so much: claims take runs
// in the order of the time they became available less priority ×
// klaxontype.PriorityAging (10 s), so a run waits at most that much longer
// per step of priority, and none starves. A priority out of range is refused
// with an error matching klaxontype.ErrInvalid, and nothing is enqueued.
func WithPriority(priority int) EnqueueOption {
	return func(o *enqueueOptions) { o.priority = &priority }
}

// Audited records the enqueue in the audit log (action run.enqueue, with
// EnqueueAs's actor), in the enqueue's transaction: for an operator's enqueue
// (the HTTP API and the klaxon command use it), not a program's own.
func Audited() EnqueueOption {
	return func(o *enqueueOptions) { o.audited = true }
}

// EnqueueResult is the run an enqueue created, or found.
type EnqueueResult struct {
	Run *klaxontype.Run
	// Deduplicated is true when a run with the same idempotency key already
	// existed and was returned instead of creating one.
	Deduplicated bool
}
