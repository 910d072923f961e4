package sqlite

import (
	"context"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"zombiezen.com/go/sqlite"
)

// DLQCount counts the dead-letter entries by workflow, class and state.
func (s *Store) DLQCount(ctx context.Context) ([]*store.DLQCount, error) {
	counts := []*store.DLQCount{}
	err := s.read(ctx, func(conn *sqlite.Conn) error {
		counts = counts[:0]
		return execute(conn, dlqCountSQL, func(stmt *sqlite.Stmt) error {
			counts = append(counts, &store.DLQCount{
				Workflow: stmt.ColumnText(0),
				Class:    klaxontype.FailureClass(stmt.ColumnText(1)),
				State:    klaxontype.DeadLetterState(stmt.ColumnText(2)),
				Count:    stmt.ColumnInt(3),
			})
			return nil
		})
	})
	return counts, err
}

// OutboxCountPending counts the notifications still to deliver.
func (s *Store) OutboxCountPending(ctx context.Context) (int, error) {
	var pending int
	err := s.read(ctx, func(conn *sqlite.Conn) error {
		return execute(conn, outboxCountPendingSQL, func(stmt *sqlite.Stmt) error {
			pending = stmt.ColumnInt(0)
			return nil
		})
	})
	return pending, err
}

// EventCountSuppressed counts the duplicate.suppressed events by workflow.
func (s *Store) EventCountSuppressed(ctx context.Context) (map[string]int, error) {
	counts := map[string]int{}
	err := s.read(ctx, func(conn *sqlite.Conn) error {
		clear(counts)
		return execute(conn, eventCountSuppressedSQL, func(stmt *sqlite.Stmt) error {
			counts[stmt.ColumnText(0)] = stmt.ColumnInt(1)
			return nil
		})
	})
	return counts, err
}
