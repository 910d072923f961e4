package alert

import (
	"context"
	"fmt"
	"sort"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// maxOverdueApprovals bounds the open approval requests one evaluation
// reads: an inbox far larger than this is a condition of its own.
const maxOverdueApprovals = 1000

// approvalOverdue finds, by workflow, the approval requests that have waited
// the rule's fraction of their timeout without a decision: loud before the
// timeout dead-letters their runs.
func (p *pass) approvalOverdue(ctx context.Context, r *Rule) ([]*condition, error) {
	open, err := p.store.WaitList(ctx, &store.WaitListParams{Kind: klaxontype.WaitApproval, Open: true, Limit: maxOverdueApprovals})
	if err != nil {
		return nil, err
	}
	byWorkflow := map[string][]*klaxontype.Wait{}
	for _, w := range open {
		if r.Workflow != "" && w.Workflow != r.Workflow {
			continue
		}
		waited := p.now.Sub(w.StartedAt)
		if timeout := w.Timeout(); timeout > 0 && float64(waited) >= r.Threshold*float64(timeout) {
			byWorkflow[w.Workflow] = append(byWorkflow[w.Workflow], w)
		}
	}
	workflows := make([]string, 0, len(byWorkflow))
	for workflow := range byWorkflow {
		workflows = append(workflows, workflow)
	}
	sort.Strings(workflows)
	holding := make([]*condition, 0, len(workflows))
	for _, workflow := range workflows {
		overdue := byWorkflow[workflow]
		oldest := overdue[0] // WaitList is oldest first
		cond := &condition{
			workflow: workflow, value: float64(len(overdue)), threshold: r.Threshold,
			summary: fmt.Sprintf("%s: %s undecided after %.0f%% of their timeout; oldest: %q of run %s, waiting %s of %s",
				workflow, counted(len(overdue), "approval request"), r.Threshold*100, oldest.Name, oldest.RunID,
				klaxontype.ShortDuration(p.now.Sub(oldest.StartedAt)), klaxontype.ShortDuration(oldest.Timeout())),
		}
		for _, w := range overdue {
			cond.runIDs = append(cond.runIDs, w.RunID)
		}
		holding = append(holding, cond)
	}
	return holding, nil
}
