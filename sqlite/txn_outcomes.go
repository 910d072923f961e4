package sqlite

import (
	"context"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"zombiezen.com/go/sqlite"
)

func (t *tx) AttemptInsert(_ context.Context, a *klaxontype.Attempt) error {
	return insertAttempt(t.conn, a)
}

func (t *tx) RunHeld(_ context.Context, lease store.Lease, holder string, statuses ...klaxontype.RunStatus) (bool, error) {
	return holdsLease(t.conn, lease, holder, statuses...)
}

// RunFailUpdate does not name the workflow: the workers of a SQLite file
// share its process, whose client wakes them.
func (t *tx) RunFailUpdate(_ context.Context, p *store.RunFailParams, at time.Time) (string, bool, error) {
	failure := p.Failure
	var err error
	switch p.Next {
	case klaxontype.RunStatusRetrying:
		err = execute(t.conn, runRetrySQL, nil, p.RunID, p.Epoch, p.Holder, p.RetryAt, at)
	case klaxontype.RunStatusCompensating:
		err = execute(t.conn, runCompensatingSQL, nil, p.RunID, p.Epoch, p.Holder,
			string(failure.Class), failure.Reason, nullIfEmpty(failure.Step), nullIfZero(failure.StepSeq), at)
	case klaxontype.RunStatusDead:
		err = execute(t.conn, runDeadSQL, nil, p.RunID, p.Epoch, p.Holder,
			string(failure.Class), failure.Reason, nullIfEmpty(failure.Step), nullIfZero(failure.StepSeq), at)
	}
	if err != nil {
		return "", false, err
	}
	return "", t.conn.Changes() > 0, nil
}

func (t *tx) DeadLetterInsert(_ context.Context, runID string, entry *store.DeadLetterParams, at time.Time) error {
	var schema any
	if len(entry.OutputSchema) > 0 {
		schema = string(entry.OutputSchema)
	}
	if err := execute(t.conn, dlqEntryInsertSQL, nil, entry.ID, schema, entry.Channel, at, runID); err != nil {
		return err
	}
	return execute(t.conn, outboxInsertSQL, nil, entry.ID, entry.Channel, at)
}

func (t *tx) StepCompensate(_ context.Context, p *store.StepCompensateParams, status klaxontype.StepStatus, at time.Time) (string, error) {
	name := ""
	err := execute(t.conn, stepCompensateSQL, func(stmt *sqlite.Stmt) error {
		name = stmt.GetText("name")
		return nil
	}, p.RunID, p.Seq, string(status), at, nullIfEmpty(p.Error))
	return name, err
}

// RunAddSpend adds late spend to a run, and to the folded sums when they
// hold the run already.
func (t *tx) RunAddSpend(_ context.Context, runID string, spend klaxontype.Spend) error {
	if spend.IsZero() {
		return nil
	}
	if err := execute(t.conn, runTotalsFoldedAddSpendSQL, nil, append([]any{runID}, spendArgs(spend)...)...); err != nil {
		return err
	}
	return addSpend(t.conn, runID, spend)
}

func (t *tx) AttemptAddSpend(_ context.Context, runID string, attempt int, spend klaxontype.Spend) (bool, error) {
	if err := execute(t.conn, attemptAddSpendSQL, nil, append([]any{runID, attempt}, spendArgs(spend)...)...); err != nil {
		return false, err
	}
	return t.conn.Changes() > 0, nil
}
