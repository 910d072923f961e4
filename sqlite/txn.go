package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/txn"
	"zombiezen.com/go/sqlite"
)

// transact runs a rule in the writer's transaction, inside a savepoint of
// its own: a rule that refuses rolls back to the savepoint, so that nothing
// it wrote before it found the problem is committed with the batch, and the
// other writes of the batch go on. The writer is the only one to write, so
// what the rule reads cannot change before it commits.
func (s *Store) transact(ctx context.Context, fn func(ctx context.Context, tx txn.Tx) error) error {
	return s.writer.write(s.rule(ctx, fn))
}

// transactBackground runs a rule of maintenance like transact, in a
// transaction of its own that yields to the other writes (see
// groupcommit.SubmitBackground).
func (s *Store) transactBackground(ctx context.Context, fn func(ctx context.Context, tx txn.Tx) error) error {
	return s.writer.writeBackground(s.rule(ctx, fn))
}

// rule is a rule as a write of the writer's transaction.
func (s *Store) rule(ctx context.Context, fn func(ctx context.Context, tx txn.Tx) error) writeFunc {
	return func(conn *sqlite.Conn) error {
		if err := execute(conn, "SAVEPOINT rule", nil); err != nil {
			return err
		}
		if err := fn(ctx, &tx{conn: conn, keys: s.keys}); err != nil {
			if rollbackErr := execute(conn, "ROLLBACK TO rule", nil); rollbackErr != nil {
				return rollbackErr
			}
			if releaseErr := execute(conn, "RELEASE rule", nil); releaseErr != nil {
				return releaseErr
			}
			return reject(err)
		}
		return execute(conn, "RELEASE rule", nil)
	}
}

// tx is the writer's open transaction, as the rules of txn see it.
type tx struct {
	conn *sqlite.Conn
	// keys seal and open the payloads the rules write and read.
	keys *store.Keyring
}

var _ txn.Tx = (*tx)(nil)

func (t *tx) DeadLetterLock(_ context.Context, id string) (*klaxontype.DeadLetter, error) {
	return getDeadLetter(t.conn, t.keys, id, false)
}

func (t *tx) DeadLetterGet(_ context.Context, id string) (*klaxontype.DeadLetter, error) {
	return getDeadLetter(t.conn, t.keys, id, false)
}

func (t *tx) DeadLetterClose(_ context.Context, p *txn.DeadLetterCloseParams) error {
	return execute(t.conn, dlqEntryCloseSQL, nil, p.ID, string(p.State), p.Actor, p.At, nullIfEmpty(p.Reason),
		nullIfEmpty(string(p.Mode)), nullIfEmpty(p.ReplayRunID))
}

func (t *tx) DeadLetterList(_ context.Context, filter *store.DLQListParams) ([]*klaxontype.DeadLetter, error) {
	query, args, err := dlqListQuery(filter)
	if err != nil {
		return nil, err
	}
	return listDeadLetters(t.conn, t.keys, query, args)
}

func (t *tx) DeadLettersDelete(_ context.Context, ids []string) error {
	idsJSON, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	if err := execute(t.conn, outboxDeleteEntriesSQL, nil, string(idsJSON)); err != nil {
		return err
	}
	// A purged entry stays counted among the entries ever created.
	if err := execute(t.conn, dlqDeletedAddEntriesSQL, nil, string(idsJSON)); err != nil {
		return err
	}
	return execute(t.conn, dlqDeleteSQL, nil, string(idsJSON))
}

func (t *tx) PurgeRecord(_ context.Context, p *txn.PurgeRecordParams) error {
	idsJSON, err := json.Marshal(p.IDs)
	if err != nil {
		return err
	}
	return execute(t.conn, dlqPurgeRecordSQL, nil, p.Actor, p.At, string(p.Filter), len(p.IDs), string(idsJSON))
}

func (t *tx) RunLock(_ context.Context, id string) (*klaxontype.Run, error) {
	var run *klaxontype.Run
	err := execute(t.conn, runGetSQL, func(stmt *sqlite.Stmt) (err error) {
		run, err = scanRun(stmt, t.keys)
		return err
	}, id)
	if err != nil {
		return nil, err
	}
	if run == nil {
		return nil, fmt.Errorf("run %s: %w", id, klaxontype.ErrNotFound)
	}
	return run, nil
}

func (t *tx) RunCancel(_ context.Context, id, reason string, at time.Time) (*klaxontype.Run, error) {
	var cancelled *klaxontype.Run
	err := execute(t.conn, runCancelSQL, func(stmt *sqlite.Stmt) (err error) {
		cancelled, err = scanRun(stmt, t.keys)
		return err
	}, id, reason, at)
	return cancelled, err
}

func (t *tx) RunReopen(_ context.Context, p *txn.RunReopenParams) (bool, error) {
	generation := 0
	if p.NewGeneration {
		generation = 1
	}
	tokens, cost := txn.BudgetArgs(p.Budget)
	// A folded run's totals change again from now: out of the folded sums.
	if err := execute(t.conn, runTotalsUnfoldSQL, nil, p.ID); err != nil {
		return false, err
	}
	if err := execute(t.conn, runReplaySQL, nil, p.ID, p.At, bytesOrNull(t.keys.Seal(p.Input)), generation, tokens, cost); err != nil {
		return false, err
	}
	return t.conn.Changes() > 0, nil
}

func (t *tx) RunRestart(_ context.Context, p *txn.RunRestartParams) (bool, error) {
	tokens, cost := txn.BudgetArgs(p.Budget)
	created := false
	err := execute(t.conn, runRestartInsertSQL, func(*sqlite.Stmt) error {
		created = true
		return nil
	}, p.NewID, bytesOrNull(t.keys.Seal(p.Input)), p.At, p.FromID, tokens, cost)
	if err != nil || !created {
		return false, err
	}
	return true, execute(t.conn, runEntitiesCopySQL, nil, p.NewID, p.FromID)
}

// RunsAvailable does nothing: the workers of a SQLite file share its process,
// whose client wakes them.
func (t *tx) RunsAvailable(context.Context, string) error { return nil }

func (t *tx) StepList(_ context.Context, runID string) ([]*klaxontype.StepRecord, error) {
	return listSteps(t.conn, t.keys, runID)
}

func (t *tx) StepCountCompensated(_ context.Context, runID string, before int) (int, error) {
	undone := 0
	err := execute(t.conn, stepsUndoneBeforeSQL, func(stmt *sqlite.Stmt) error {
		undone = stmt.ColumnInt(0)
		return nil
	}, runID, before)
	return undone, err
}

func (t *tx) StepsArchive(_ context.Context, runID string, from int, actor string, at time.Time) error {
	if err := execute(t.conn, stepsArchiveFromSQL, nil, runID, from, at, actor); err != nil {
		return err
	}
	return execute(t.conn, stepsDeleteFromSQL, nil, runID, from)
}

func (t *tx) StepResolve(_ context.Context, p *txn.StepResolveParams) (bool, error) {
	err := execute(t.conn, stepResolveInsertSQL, nil, p.RunID, p.Seq, p.Name, p.IdempotencyKey, t.keys.Seal(p.Output), p.At, p.Actor)
	if err != nil {
		return false, err
	}
	return t.conn.Changes() > 0, nil
}

func (t *tx) AttemptList(_ context.Context, runID string) ([]*klaxontype.Attempt, error) {
	var history []*klaxontype.Attempt
	err := execute(t.conn, attemptListSQL, func(stmt *sqlite.Stmt) error {
		history = append(history, scanAttempt(stmt))
		return nil
	}, runID)
	return history, err
}

func (t *tx) WorkflowExpectedSteps(_ context.Context, workflow string) ([]string, error) {
	var expected []string
	err := execute(t.conn, workflowExpectedStepsSQL, func(stmt *sqlite.Stmt) error {
		return json.Unmarshal([]byte(stmt.GetText("expected_steps")), &expected)
	}, workflow)
	return expected, err
}

func (t *tx) EventInsert(_ context.Context, event *klaxontype.Event, record []byte) error {
	return insertEventWithRecord(t.conn, event, record)
}

func (t *tx) OutboxGiveUp(_ context.Context, channel, lastError string, at time.Time) (int, error) {
	if err := execute(t.conn, outboxGiveUpSQL, nil, channel, at, lastError); err != nil {
		return 0, err
	}
	return t.conn.Changes(), nil
}

// bytesOrNull binds a nil byte slice as NULL.
func bytesOrNull(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}
