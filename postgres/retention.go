package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/store"
)

// RunListExpired returns a batch of expired runs of a workflow, oldest first.
func (s *Store) RunListExpired(ctx context.Context, params *store.RunListExpiredParams) ([]string, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	statuses := make([]string, 0, 3)
	for _, status := range params.TerminalStatuses() {
		statuses = append(statuses, string(status))
	}
	ids := []string{}
	err := s.read(ctx, func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, runsExpiredSQL, params.Workflow, params.FinishedBefore, statuses, params.Limit)
		if err != nil {
			return err
		}
		ids, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	return ids, err
}

func (t *tx) RunsDelete(ctx context.Context, ids []string) ([]string, error) {
	rows, err := t.tx.Query(ctx, runsDeleteEndedSQL, ids)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func (t *tx) RunHistoryDelete(ctx context.Context, ids []string) error {
	for _, statement := range []string{stepsDeleteRunsSQL, stepsArchiveDeleteRunsSQL, eventsDeleteRunsSQL,
		attemptsDeleteRunsSQL, outboxDeleteRunsSQL, dlqDeleteRunsSQL, waitsDeleteRunsSQL, signalsDeleteRunsSQL, childLinksDeleteRunsSQL} {
		if _, err := t.tx.Exec(ctx, statement, ids); err != nil {
			return err
		}
	}
	return nil
}
