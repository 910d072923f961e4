package postgres

import (
	"context"
	"fmt"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// BreakerTally counts a workflow's recent attempts and sums its recent spend,
// from every worker.
func (s *Store) BreakerTally(ctx context.Context, params *store.BreakerTallyParams) (*store.BreakerTally, error) {
	if params.Workflow == "" {
		return nil, fmt.Errorf("%w: a breaker tally needs a workflow", klaxontype.ErrInvalid)
	}
	tally := &store.BreakerTally{}
	err := s.read(ctx, func(ctx context.Context, q querier) error {
		if !params.AttemptsSince.IsZero() {
			var failed, completed int
			if err := q.QueryRow(ctx, breakerTallyAttemptsSQL, params.Workflow, params.AttemptsSince).Scan(&failed, &completed); err != nil {
				return err
			}
			tally.Failed, tally.Attempts = failed, failed+completed
		}
		if params.SpendSince.IsZero() {
			return nil
		}
		return q.QueryRow(ctx, breakerTallySpendSQL, params.Workflow, params.SpendSince).Scan(&tally.Cost.USD, &tally.Cost.Unknown)
	})
	if err != nil {
		return nil, err
	}
	return tally, nil
}
