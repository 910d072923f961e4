package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// DLQCount counts the dead-letter entries by workflow, class and state.
func (s *Store) DLQCount(ctx context.Context) ([]*store.DLQCount, error) {
	var counts []*store.DLQCount
	err := s.read(ctx, func(ctx context.Context, q querier) error {
		counts = []*store.DLQCount{}
		rows, err := q.Query(ctx, dlqCountSQL)
		if err != nil {
			return err
		}
		var workflow, class, state string
		var count int
		_, err = pgx.ForEachRow(rows, []any{&workflow, &class, &state, &count}, func() error {
			counts = append(counts, &store.DLQCount{
				Workflow: workflow, Class: klaxontype.FailureClass(class),
				State: klaxontype.DeadLetterState(state), Count: count,
			})
			return nil
		})
		return err
	})
	return counts, err
}

// OutboxCountPending counts the notifications still to deliver.
func (s *Store) OutboxCountPending(ctx context.Context) (int, error) {
	var pending int
	err := s.read(ctx, func(ctx context.Context, q querier) error {
		return q.QueryRow(ctx, outboxCountPendingSQL).Scan(&pending)
	})
	return pending, err
}

// EventCountSuppressed counts the duplicate.suppressed events by workflow.
func (s *Store) EventCountSuppressed(ctx context.Context) (map[string]int, error) {
	var counts map[string]int
	err := s.read(ctx, func(ctx context.Context, q querier) error {
		counts = map[string]int{}
		rows, err := q.Query(ctx, eventCountSuppressedSQL)
		if err != nil {
			return err
		}
		var workflow string
		var count int
		_, err = pgx.ForEachRow(rows, []any{&workflow, &count}, func() error {
			counts[workflow] = count
			return nil
		})
		return err
	})
	return counts, err
}

// DLQCountByClassAndChannel counts the entries matching the filters by class
// and channel.
func (s *Store) DLQCountByClassAndChannel(ctx context.Context, params *store.DLQListParams) ([]*store.DLQGroup, error) {
	// The list's arguments, without its query mode, cursor and limit.
	_, listArgs := dlqListQuery(params)
	args := append([]any{pgx.QueryExecModeCacheDescribe}, listArgs[1:7]...)
	args = append(args, listArgs[8])
	var groups []*store.DLQGroup
	err := s.read(ctx, func(ctx context.Context, q querier) error {
		groups = []*store.DLQGroup{}
		rows, err := q.Query(ctx, dlqCountByClassChannelSQL, args...)
		if err != nil {
			return err
		}
		var class, channel string
		var count int
		_, err = pgx.ForEachRow(rows, []any{&class, &channel, &count}, func() error {
			groups = append(groups, &store.DLQGroup{Class: klaxontype.FailureClass(class), Channel: channel, Count: count})
			return nil
		})
		return err
	})
	return groups, err
}

// DLQCountDeleted counts the dead-letter entries retention and purges
// deleted, by workflow and class.
func (s *Store) DLQCountDeleted(ctx context.Context) ([]*store.DLQCount, error) {
	var counts []*store.DLQCount
	err := s.read(ctx, func(ctx context.Context, q querier) error {
		counts = []*store.DLQCount{}
		rows, err := q.Query(ctx, dlqCountDeletedSQL)
		if err != nil {
			return err
		}
		var workflow, class string
		var count int
		_, err = pgx.ForEachRow(rows, []any{&workflow, &class, &count}, func() error {
			counts = append(counts, &store.DLQCount{Workflow: workflow, Class: klaxontype.FailureClass(class), Count: count})
			return nil
		})
		return err
	})
	return counts, err
}

// RunSumByWorkflow sums the runs of each workflow, deleted ones included.
func (s *Store) RunSumByWorkflow(ctx context.Context) ([]*store.RunTotals, error) {
	var totals []*store.RunTotals
	err := s.read(ctx, func(ctx context.Context, q querier) error {
		totals = []*store.RunTotals{}
		rows, err := q.Query(ctx, runSumByWorkflowSQL)
		if err != nil {
			return err
		}
		var t store.RunTotals
		_, err = pgx.ForEachRow(rows, []any{&t.Workflow, &t.Runs, &t.Attempts, &t.Retries,
			&t.Usage.InputTokens, &t.Usage.OutputTokens, &t.Usage.CachedTokens, &t.CostUSD, &t.ModelCalls, &t.RunsUnknownCost}, func() error {
			copied := t
			totals = append(totals, &copied)
			return nil
		})
		return err
	})
	return totals, err
}
