package sqlite

import (
	"context"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"zombiezen.com/go/sqlite"
)

// BreakerTally counts a workflow's recent attempts and sums its recent spend,
// from every worker.
func (s *Store) BreakerTally(ctx context.Context, params *store.BreakerTallyParams) (*store.BreakerTally, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	tally := &store.BreakerTally{}
	err := s.read(ctx, func(conn *sqlite.Conn) error {
		if !params.AttemptsSince.IsZero() {
			err := execute(conn, breakerTallyAttemptsSQL, func(stmt *sqlite.Stmt) error {
				tally.Failed = int(stmt.GetInt64("failed"))
				tally.Attempts = tally.Failed + int(stmt.GetInt64("completed"))
				return nil
			}, params.Workflow, params.AttemptsSince)
			if err != nil {
				return err
			}
		}
		if params.SpendSince.IsZero() {
			return nil
		}
		return execute(conn, breakerTallySpendSQL, func(stmt *sqlite.Stmt) error {
			tally.Cost = klaxontype.Cost{USD: stmt.GetFloat("cost_usd"), Unknown: stmt.GetInt64("cost_unknown") != 0}
			return nil
		}, params.Workflow, params.SpendSince)
	})
	if err != nil {
		return nil, err
	}
	return tally, nil
}
