package klaxontype

import "fmt"

// Budget caps what a run may spend on model calls; a zero field is no cap.
type Budget struct {
	Tokens  int64   `json:"tokens,omitempty"`
	CostUSD float64 `json:"cost_usd,omitempty"`
}

// IsZero reports whether the budget caps nothing.
func (b Budget) IsZero() bool { return b == Budget{} }

// Check returns a *BudgetExceededError when spent has reached the budget.
// With a cost budget, a cost that is unknown (a model missing from the price
// table) has reached it too: an unknown cost is never taken for zero.
func (b Budget) Check(spent Spend) error {
	switch {
	case b.Tokens > 0 && spent.Usage.Total() >= b.Tokens:
		return &BudgetExceededError{Budget: b, Spent: spent,
			Why: fmt.Sprintf("%d of a budget of %d tokens used", spent.Usage.Total(), b.Tokens)}
	case b.CostUSD > 0 && spent.Cost.Unknown:
		return &BudgetExceededError{Budget: b, Spent: spent,
			Why: fmt.Sprintf("the cost so far is unknown (a model without a price), so the budget of $%.4f cannot be kept", b.CostUSD)}
	case b.CostUSD > 0 && spent.Cost.USD >= b.CostUSD:
		return &BudgetExceededError{Budget: b, Spent: spent,
			Why: fmt.Sprintf("$%.6f of a budget of $%.4f spent", spent.Cost.USD, b.CostUSD)}
	}
	return nil
}

// BudgetExceededError stops a run that reached its budget. It is of class
// budget_exceeded: never retried, straight to the dead-letter queue.
type BudgetExceededError struct {
	Budget Budget
	Spent  Spend
	// Why says which cap was reached.
	Why string
}

func (e *BudgetExceededError) Error() string {
	return fmt.Sprintf("budget exceeded: %s (spent %d tokens, %s, in %d model calls)",
		e.Why, e.Spent.Usage.Total(), e.Spent.Cost, e.Spent.ModelCalls)
}

// FailureClass makes the error budget_exceeded.
func (e *BudgetExceededError) FailureClass() FailureClass { return ClassBudgetExceeded }
