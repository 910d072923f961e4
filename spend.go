package klaxon

import (
	"context"
	"fmt"

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
type BudgetExceededError struct {
	Budget klaxontype.Budget
	Spent  klaxontype.Spend
	// Why says which cap was reached.
	Why string
}

func (e *BudgetExceededError) Error() string {
	return fmt.Sprintf("budget exceeded: %s (spent %d tokens, %s, in %d model calls)",
		e.Why, e.Spent.Usage.Total(), e.Spent.Cost, e.Spent.ModelCalls)
}

// FailureClass makes the error budget_exceeded.
func (e *BudgetExceededError) FailureClass() klaxontype.FailureClass {
	return klaxontype.ClassBudgetExceeded
}

// CheckBudget returns a *BudgetExceededError when the run has already spent
// its token or cost budget; call it before starting a model call. With a cost
// budget, a cost that is unknown (a model missing from the price table) stops
// the run too: an unknown cost is never taken for zero.
func CheckBudget(ctx context.Context) error {
	budget, spent := Budget(ctx), Spent(ctx)
	switch {
	case budget.Tokens > 0 && spent.Usage.Total() >= budget.Tokens:
		return &BudgetExceededError{Budget: budget, Spent: spent,
			Why: fmt.Sprintf("%d of a budget of %d tokens used", spent.Usage.Total(), budget.Tokens)}
	case budget.CostUSD > 0 && spent.Cost.Unknown:
		return &BudgetExceededError{Budget: budget, Spent: spent,
			Why: fmt.Sprintf("the cost so far is unknown (a model without a price), so the budget of $%.4f cannot be kept", budget.CostUSD)}
	case budget.CostUSD > 0 && spent.Cost.USD >= budget.CostUSD:
		return &BudgetExceededError{Budget: budget, Spent: spent,
			Why: fmt.Sprintf("$%.6f of a budget of $%.4f spent", spent.Cost.USD, budget.CostUSD)}
	}
	return nil
}
