package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store/txn"
)

func (t *tx) ConcurrencyLock(ctx context.Context, key string) error {
	_, err := t.tx.Exec(ctx, concurrencyLockSQL, key)
	return err
}

func (t *tx) ConcurrencyCount(ctx context.Context, key string) (held, waitingLimit int, err error) {
	var limit *int
	if err := t.tx.QueryRow(ctx, concurrencyCountSQL, key).Scan(&held, &limit); err != nil {
		return 0, 0, err
	}
	if limit != nil {
		waitingLimit = *limit
	}
	return held, waitingLimit, nil
}

func (t *tx) RunJudge(ctx context.Context, p *txn.RunJudgeParams) (string, bool, error) {
	var workflow string
	err := t.tx.QueryRow(ctx, runJudgeSQL, p.Lease.RunID, p.Lease.Epoch, p.Holder, p.Key, p.Limit,
		string(p.Slot), p.At, klaxontype.ParkedUntil).Scan(&workflow)
	if err == pgx.ErrNoRows {
		return "", false, nil
	}
	return workflow, err == nil, err
}

func (t *tx) RunsAdmitWaiting(ctx context.Context, key string, n int, at time.Time) ([]txn.AdmittedRun, error) {
	rows, err := t.tx.Query(ctx, runsAdmitWaitingSQL, key, n, at)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (txn.AdmittedRun, error) {
		var run txn.AdmittedRun
		err := row.Scan(&run.ID, &run.Workflow)
		return run, err
	})
}

func (t *tx) ConcurrencyWaitingKeys(ctx context.Context) ([]string, error) {
	rows, err := t.tx.Query(ctx, concurrencyWaitingKeysSQL)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
