package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/store"
)

// BreakerTally counts a workflow's recent attempts and sums its recent spend,
// from every worker.
func (s *Store) BreakerTally(ctx context.Context, params *store.BreakerTallyParams) (*store.BreakerTally, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	tally := &store.BreakerTally{}
	err := s.read(ctx, func(ctx context.Context, q querier) error {
		// The windows start no earlier than the breaker's last trip. That is
		// read first, so that the counts get their start as a parameter.
		var openedAt time.Time
		err := q.QueryRow(ctx, breakerOpenedAtSQL, params.Workflow).Scan(&openedAt)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		since := func(t time.Time) time.Time {
			if openedAt.After(t) {
				return openedAt
			}
			return t
		}
		if !params.AttemptsSince.IsZero() {
			var failed, completed int
			if err := q.QueryRow(ctx, breakerTallyAttemptsSQL, params.Workflow, since(params.AttemptsSince)).Scan(&failed, &completed); err != nil {
				return err
			}
			tally.Failed, tally.Attempts = failed, failed+completed
		}
		if params.SpendSince.IsZero() {
			return nil
		}
		return q.QueryRow(ctx, breakerTallySpendSQL, params.Workflow, since(params.SpendSince)).Scan(&tally.Cost.USD, &tally.Cost.Unknown)
	})
	if err != nil {
		return nil, err
	}
	return tally, nil
}
