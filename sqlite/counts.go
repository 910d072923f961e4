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

// DLQCountByClassAndChannel counts the entries matching the filters by class
// and channel.
func (s *Store) DLQCountByClassAndChannel(ctx context.Context, params *store.DLQListParams) ([]*store.DLQGroup, error) {
	// The list's arguments, without its cursor and limit.
	_, listArgs, err := dlqListQuery(params)
	if err != nil {
		return nil, err
	}
	args := append(listArgs[:6:6], listArgs[7])
	groups := []*store.DLQGroup{}
	err = s.read(ctx, func(conn *sqlite.Conn) error {
		groups = groups[:0]
		return execute(conn, dlqCountByClassChannelSQL, func(stmt *sqlite.Stmt) error {
			groups = append(groups, &store.DLQGroup{
				Class:   klaxontype.FailureClass(stmt.ColumnText(0)),
				Channel: stmt.ColumnText(1),
				Count:   stmt.ColumnInt(2),
			})
			return nil
		}, args...)
	})
	return groups, err
}

// DLQCountDeleted counts the dead-letter entries retention and purges
// deleted, by workflow and class.
func (s *Store) DLQCountDeleted(ctx context.Context) ([]*store.DLQCount, error) {
	counts := []*store.DLQCount{}
	err := s.read(ctx, func(conn *sqlite.Conn) error {
		counts = counts[:0]
		return execute(conn, dlqCountDeletedSQL, func(stmt *sqlite.Stmt) error {
			counts = append(counts, &store.DLQCount{
				Workflow: stmt.ColumnText(0),
				Class:    klaxontype.FailureClass(stmt.ColumnText(1)),
				Count:    stmt.ColumnInt(2),
			})
			return nil
		})
	})
	return counts, err
}

// RunSumByWorkflow sums the runs of each workflow, deleted ones included.
func (s *Store) RunSumByWorkflow(ctx context.Context) ([]*store.RunTotals, error) {
	totals := []*store.RunTotals{}
	err := s.read(ctx, func(conn *sqlite.Conn) error {
		totals = totals[:0]
		return execute(conn, runSumByWorkflowSQL, func(stmt *sqlite.Stmt) error {
			totals = append(totals, &store.RunTotals{
				Workflow: stmt.ColumnText(0),
				Runs:     stmt.ColumnInt64(1),
				Attempts: stmt.ColumnInt64(2),
				Retries:  stmt.ColumnInt64(3),
				Usage: klaxontype.TokenUsage{
					InputTokens: stmt.ColumnInt64(4), OutputTokens: stmt.ColumnInt64(5), CachedTokens: stmt.ColumnInt64(6),
				},
				CostUSD:         stmt.ColumnFloat(7),
				ModelCalls:      stmt.ColumnInt64(8),
				RunsUnknownCost: stmt.ColumnInt64(9),
			})
			return nil
		})
	})
	return totals, err
}
