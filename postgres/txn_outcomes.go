package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

func (t *tx) AttemptInsert(ctx context.Context, a *klaxontype.Attempt) error {
	return insertAttempt(ctx, t.tx, a)
}

func (t *tx) RunHeld(ctx context.Context, lease store.Lease, holder string, statuses ...klaxontype.RunStatus) (bool, error) {
	return holdsLease(ctx, t.tx, lease, holder, statuses...)
}

func (t *tx) RunFailUpdate(ctx context.Context, p *store.RunFailParams, at time.Time) (string, bool, error) {
	failure := p.Failure
	var rows pgx.Rows
	var err error
	switch p.Next {
	case klaxontype.RunStatusRetrying:
		rows, err = t.tx.Query(ctx, runRetrySQL, p.RunID, p.Epoch, p.Holder, p.RetryAt, at)
	case klaxontype.RunStatusCompensating:
		rows, err = t.tx.Query(ctx, runCompensatingSQL, p.RunID, p.Epoch, p.Holder,
			string(failure.Class), failure.Reason, orNull(failure.Step), orNull(failure.StepSeq), at)
	case klaxontype.RunStatusDead:
		rows, err = t.tx.Query(ctx, runDeadSQL, p.RunID, p.Epoch, p.Holder,
			string(failure.Class), failure.Reason, orNull(failure.Step), orNull(failure.StepSeq), at)
	}
	if err != nil {
		return "", false, err
	}
	workflows, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(workflows) == 0 {
		return "", false, err
	}
	return workflows[0], true, nil
}

func (t *tx) DeadLetterInsert(ctx context.Context, runID string, entry *store.DeadLetterParams, at time.Time) error {
	var schema any
	if len(entry.OutputSchema) > 0 {
		schema = string(entry.OutputSchema)
	}
	if _, err := t.tx.Exec(ctx, dlqEntryInsertSQL, entry.ID, schema, entry.Channel, at, runID); err != nil {
		return err
	}
	_, err := t.tx.Exec(ctx, outboxInsertSQL, entry.ID, entry.Channel, at)
	return err
}

func (t *tx) StepCompensate(ctx context.Context, p *store.StepCompensateParams, status klaxontype.StepStatus, at time.Time) (string, error) {
	var name string
	err := t.tx.QueryRow(ctx, stepCompensateSQL, p.RunID, p.Seq, string(status), at, orNull(p.Error)).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return name, err
}

// RunAddSpend adds late spend to a run, and to the folded sums when they
// hold the run already.
func (t *tx) RunAddSpend(ctx context.Context, runID string, spend klaxontype.Spend) error {
	if spend.IsZero() {
		return nil
	}
	if _, err := t.tx.Exec(ctx, runTotalsFoldedAddSpendSQL, append([]any{runID}, spendArgs(spend)...)...); err != nil {
		return err
	}
	return addSpend(ctx, t.tx, runID, spend)
}

func (t *tx) AttemptAddSpend(ctx context.Context, runID string, attempt int, spend klaxontype.Spend) (bool, error) {
	tag, err := t.tx.Exec(ctx, attemptAddSpendSQL, append([]any{runID, attempt}, spendArgs(spend)...)...)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() > 0, nil
}
