package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// RunTotalsFold folds a batch of ended runs into the folded sums in one
// statement, skipping rows other transactions hold.
func (s *Store) RunTotalsFold(ctx context.Context, limit int) (int, error) {
	if limit < 1 || limit > store.MaxTotalsFoldBatch {
		return 0, fmt.Errorf("%w: a fold of %d runs: give 1 to %d", klaxontype.ErrInvalid, limit, store.MaxTotalsFoldBatch)
	}
	folded := 0
	err := s.transact(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return tx.QueryRow(ctx, runTotalsFoldSQL, limit).Scan(&folded)
	})
	return folded, err
}
