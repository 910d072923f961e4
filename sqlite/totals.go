package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"zombiezen.com/go/sqlite"
)

// RunTotalsFold folds a batch of ended runs into the folded sums: it adds
// their totals and marks them in the writer's transaction, where nothing
// changes between the two statements.
func (s *Store) RunTotalsFold(ctx context.Context, limit int) (int, error) {
	if limit < 1 || limit > store.MaxTotalsFoldBatch {
		return 0, fmt.Errorf("%w: a fold of %d runs: give 1 to %d", klaxontype.ErrInvalid, limit, store.MaxTotalsFoldBatch)
	}
	ids := []string{}
	err := s.read(ctx, func(conn *sqlite.Conn) error {
		ids = ids[:0]
		return execute(conn, runsUnfoldedEndedSQL, func(stmt *sqlite.Stmt) error {
			ids = append(ids, stmt.ColumnText(0))
			return nil
		}, limit)
	})
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return 0, err
	}
	// A run found that changed before the write (replayed, deleted) is
	// left alone by both statements, which check it again.
	err = s.writer.write(func(conn *sqlite.Conn) error {
		if err := execute(conn, runTotalsFoldSQL, nil, string(list)); err != nil {
			return err
		}
		return execute(conn, runsMarkFoldedSQL, nil, string(list))
	})
	if err != nil {
		return 0, err
	}
	return len(ids), nil
}
