package demo

import (
	"context"
	"fmt"
	"io"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// RunAverage is what a run spent on average.
type RunAverage struct {
	// Runs is how many runs the average is over.
	Runs       int             `json:"runs"`
	Tokens     float64         `json:"tokens"`
	ModelCalls float64         `json:"model_calls"`
	Cost       klaxontype.Cost `json:"cost"`
}

// demoSpend totals the spend of every demo run in the store, and averages
// that of the completed ones. A run's spend includes its failed attempts.
func demoSpend(ctx context.Context, st store.Store) (total klaxontype.Spend, perCompleted RunAverage, err error) {
	var completed klaxontype.Spend
	page := &store.RunListParams{Workflow: WorkflowName, Limit: 1000}
	for {
		runs, err := st.RunList(ctx, page)
		if err != nil {
			return total, perCompleted, err
		}
		for _, run := range runs {
			total = total.Add(run.Spend)
			if run.Status == klaxontype.RunStatusCompleted {
				completed = completed.Add(run.Spend)
				perCompleted.Runs++
			}
		}
		if len(runs) < page.Limit {
			break
		}
		page.BeforeID = runs[len(runs)-1].ID
	}
	if n := perCompleted.Runs; n > 0 {
		perCompleted.Tokens = float64(completed.Usage.Total()) / float64(n)
		perCompleted.ModelCalls = float64(completed.ModelCalls) / float64(n)
		perCompleted.Cost = completed.Cost
		if !completed.Cost.Unknown {
			perCompleted.Cost = klaxontype.KnownCost(completed.Cost.USD / float64(n))
		}
	}
	return total, perCompleted, nil
}

// writeSpend prints the model calls' tokens and cost, in total and per
// completed run.
func (s *Summary) writeSpend(w io.Writer) {
	usage := s.Spend.Usage
	fmt.Fprintf(w, "  model calls:     %d to %s at %s\n", s.Spend.ModelCalls, s.Model, s.Endpoint)
	fmt.Fprintf(w, "  tokens:          %d (%d input, %d of them cached, %d output)", usage.Total(), usage.InputTokens, usage.CachedTokens, usage.OutputTokens)
	if s.PerCompletedRun.Runs > 0 {
		fmt.Fprintf(w, "; %.0f per completed run on average", s.PerCompletedRun.Tokens)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  cost:            %s", s.Spend.Cost)
	if s.PerCompletedRun.Runs > 0 {
		fmt.Fprintf(w, "; %s per completed run on average", s.PerCompletedRun.Cost)
	}
	fmt.Fprintln(w)
}
