package klaxon

import (
	"context"

	"github.com/klaxonhq/klaxon/internal/engine"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// RecordSpend adds what a model call cost to the step whose function ctx was
// handed to. The step's spend is stored with its checkpoint and added to the
// run's totals in the same transaction, so it is counted once; a step that
// fails has its spend recorded with the attempt, so a run that keeps paying for
// wrong answers shows it. Outside a step it does nothing.
func RecordSpend(ctx context.Context, spend klaxontype.Spend) {
	engine.RecordSpend(ctx, spend)
}

// Spent returns what the current run has spent on model calls so far,
// including this attempt's steps and what the current step recorded.
func Spent(ctx context.Context) klaxontype.Spend { return engine.Spent(ctx) }

// Budget returns the current run's spending cap.
func Budget(ctx context.Context) klaxontype.Budget { return engine.Budget(ctx) }

// BudgetExceededError stops a run that reached its budget. It is of class
// budget_exceeded: never retried, straight to the dead-letter queue.
type BudgetExceededError = klaxontype.BudgetExceededError

// CheckBudget returns a *BudgetExceededError when the run has already spent
// its token or cost budget; call it before starting a model call, to stop
// within a step. The engine makes the same check itself before every step it
// executes, so a run that stops calling it is still stopped. With a cost
// budget, a cost that is unknown (a model missing from the price table) stops
// the run too: an unknown cost is never taken for zero.
func CheckBudget(ctx context.Context) error {
	return Budget(ctx).Check(Spent(ctx))
}
