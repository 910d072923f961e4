package klaxon

import (
	"context"

	"github.com/klaxonhq/klaxon/internal/engine"
)

// StepInfo describes the step whose function is running.
type StepInfo struct {
	RunID    string
	Workflow string
	Seq      int
	Name     string
	// IdempotencyKey is derived from the run ID, the sequence number and the
	// name: the same on every retry of the run, so that an external API given it
	// can recognise a repeated call.
	IdempotencyKey string
	// Attempt is the run attempt executing the step.
	Attempt int
	// Compensating is true inside a compensation.
	Compensating bool
}

// StepInfoFrom returns the step whose function (or compensation) ctx was
// handed to.
func StepInfoFrom(ctx context.Context) (StepInfo, bool) {
	info, ok := engine.StepFrom(ctx)
	return StepInfo(info), ok
}

// IdempotencyKey returns the idempotency key of the step whose function ctx was
// handed to, or "" outside a step. Pass it to external APIs (payment, email,
// a model gateway) so that a step re-run after a crash is recognised as the
// same call.
func IdempotencyKey(ctx context.Context) string {
	info, _ := StepInfoFrom(ctx)
	return info.IdempotencyKey
}
