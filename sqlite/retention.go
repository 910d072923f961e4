package sqlite

import (
	"context"
	"encoding/json"

	"github.com/klaxonhq/klaxon/store"
	"zombiezen.com/go/sqlite"
)

// RunListExpired returns a batch of expired runs of a workflow, oldest first.
func (s *Store) RunListExpired(ctx context.Context, params *store.RunListExpiredParams) ([]string, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	statuses, err := json.Marshal(params.TerminalStatuses())
	if err != nil {
		return nil, err
	}
	ids := []string{}
	err = s.read(ctx, func(conn *sqlite.Conn) error {
		ids = ids[:0]
		return execute(conn, runsExpiredSQL, func(stmt *sqlite.Stmt) error {
			ids = append(ids, stmt.ColumnText(0))
			return nil
		}, params.Workflow, params.FinishedBefore, string(statuses), params.Limit)
	})
	return ids, err
}

// RunsDelete deletes the entity labels of the runs it deletes first, by
// their primary key, in the writer's transaction, where nothing changes
// between the two statements.
func (t *tx) RunsDelete(_ context.Context, ids []string) ([]string, error) {
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	if err := execute(t.conn, runEntitiesDeleteEndedSQL, nil, string(list)); err != nil {
		return nil, err
	}
	// What the runs counted stays in the totals /metrics reads.
	if err := execute(t.conn, runTotalsFoldDeletedSQL, nil, string(list)); err != nil {
		return nil, err
	}
	deleted := []string{}
	err = execute(t.conn, runsDeleteEndedSQL, func(stmt *sqlite.Stmt) error {
		deleted = append(deleted, stmt.ColumnText(0))
		return nil
	}, string(list))
	return deleted, err
}

func (t *tx) RunHistoryDelete(_ context.Context, ids []string) error {
	list, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	for _, statement := range []string{stepsDeleteRunsSQL, stepsArchiveDeleteRunsSQL, eventsDeleteRunsSQL,
		attemptsDeleteRunsSQL, outboxDeleteRunsSQL, dlqDeletedAddRunsSQL, dlqDeleteRunsSQL, waitsDeleteRunsSQL, signalsDeleteRunsSQL, childLinksDeleteRunsSQL} {
		if err := execute(t.conn, statement, nil, string(list)); err != nil {
			return err
		}
	}
	return nil
}
