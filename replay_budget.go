package klaxon

import (
	"context"
	"fmt"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// replayBudget completes a replay's new budget: a field not given keeps the
// cap the run has now — its own budget's, else its workflow's as registered —
// so that raising the token budget of a run does not lift its cost cap.
func (c *Client) replayBudget(ctx context.Context, entryID string, given *klaxontype.Budget) (*klaxontype.Budget, error) {
	if given == nil || (given.Tokens > 0 && given.CostUSD > 0) {
		return given, nil
	}
	entry, err := c.store.DLQGet(ctx, entryID)
	if err != nil {
		return nil, err
	}
	run, err := c.store.RunGet(ctx, entry.RunID)
	if err != nil {
		return nil, err
	}
	current := klaxontype.Budget{}
	switch {
	case run.Budget != nil:
		current = *run.Budget
	default:
		workflows, err := c.store.WorkflowList(ctx)
		if err != nil {
			return nil, fmt.Errorf("klaxon: list workflows: %w", err)
		}
		for _, w := range workflows {
			if w.Name == run.Workflow && w.Policies != nil && w.Policies.Budget != nil {
				current = *w.Policies.Budget
			}
		}
	}
	completed := *given
	if completed.Tokens == 0 {
		completed.Tokens = current.Tokens
	}
	if completed.CostUSD == 0 {
		completed.CostUSD = current.CostUSD
	}
	return &completed, nil
}
