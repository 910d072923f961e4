package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/txn"
)

// transactRule runs a rule in a transaction of its own: a rule that refuses
// returns its error, which rolls back whatever it wrote before it found the
// problem.
func (s *Store) transactRule(ctx context.Context, fn func(ctx context.Context, tx txn.Tx) error) error {
	var t tx
	err := s.transact(ctx, func(ctx context.Context, pgTx pgx.Tx) error {
		t = tx{tx: pgTx, keys: s.keys}
		return fn(ctx, &t)
	})
	s.announce(&t, err)
	return err
}

// batchRule runs a rule in a writer's batch, with the holders' writes it
// group-commits: an error from the rule aborts the batch, whose other writes
// are then committed each alone.
func (s *Store) batchRule(ctx context.Context, fn func(ctx context.Context, tx txn.Tx) error) error {
	var t tx
	err := s.writers.writeFunc(ctx, func(ctx context.Context, pgTx pgx.Tx) error {
		t = tx{tx: pgTx, keys: s.keys}
		return fn(ctx, &t)
	})
	s.announce(&t, err)
	return err
}

// announce tells the workers of every process that the workflows a
// committed rule made runs available for have work.
func (s *Store) announce(t *tx, err error) {
	if err != nil {
		return
	}
	for _, workflow := range t.available {
		s.notifier.announce(workflow)
	}
}

// tx is a transaction, as the rules of txn see it.
type tx struct {
	tx pgx.Tx
	// keys seal and open the payloads the rules write and read.
	keys *store.Keyring
	// available are the workflows to announce once the transaction commits.
	available []string
}

var _ txn.Tx = (*tx)(nil)

// DeadLetterLock locks the entry's row: of concurrent actions on one entry,
// the first acts and the others wait, then find it closed.
func (t *tx) DeadLetterLock(ctx context.Context, id string) (*klaxontype.DeadLetter, error) {
	return readDeadLetter(ctx, t.tx, t.keys, dlqLockSQL, id, false)
}

func (t *tx) DeadLetterGet(ctx context.Context, id string) (*klaxontype.DeadLetter, error) {
	return getDeadLetter(ctx, t.tx, t.keys, id, false)
}

func (t *tx) DeadLetterClose(ctx context.Context, p *txn.DeadLetterCloseParams) error {
	_, err := t.tx.Exec(ctx, dlqEntryCloseSQL, p.ID, string(p.State), p.Actor, p.At, orNull(p.Reason),
		orNull(string(p.Mode)), orNull(p.ReplayRunID))
	return err
}

func (t *tx) DeadLetterList(ctx context.Context, filter *store.DLQListParams) ([]*klaxontype.DeadLetter, error) {
	query, args := dlqListQuery(filter)
	return opener{t.keys}.collectDeadLetters(t.tx.Query(ctx, query, args...))
}

func (t *tx) DeadLettersDelete(ctx context.Context, ids []string) error {
	if _, err := t.tx.Exec(ctx, outboxDeleteEntriesSQL, ids); err != nil {
		return err
	}
	_, err := t.tx.Exec(ctx, dlqDeleteSQL, ids)
	return err
}

func (t *tx) PurgeRecord(ctx context.Context, p *txn.PurgeRecordParams) error {
	idsJSON, err := json.Marshal(p.IDs)
	if err != nil {
		return err
	}
	_, err = t.tx.Exec(ctx, dlqPurgeRecordSQL, p.Actor, p.At, string(p.Filter), len(p.IDs), string(idsJSON))
	return err
}

// RunLock takes the run's fencing lock, then its row, in the order every
// writer takes them: a checkpoint, completion or failure of the holder that
// is in flight commits first and the caller reads its outcome, or comes
// after.
func (t *tx) RunLock(ctx context.Context, id string) (*klaxontype.Run, error) {
	if _, err := t.tx.Exec(ctx, runFenceExclusiveSQL, id); err != nil {
		return nil, err
	}
	run, err := opener{t.keys}.collectRun(t.tx.Query(ctx, runLockSQL, id))
	if errors.Is(err, klaxontype.ErrNotFound) {
		return nil, fmt.Errorf("run %s: %w", id, klaxontype.ErrNotFound)
	}
	return run, err
}

func (t *tx) RunCancel(ctx context.Context, id, reason string, at time.Time) (*klaxontype.Run, error) {
	return opener{t.keys}.collectRun(t.tx.Query(ctx, runCancelSQL, id, reason, at))
}

func (t *tx) RunReopen(ctx context.Context, p *txn.RunReopenParams) (bool, error) {
	generation := 0
	if p.NewGeneration {
		generation = 1
	}
	tokens, cost := txn.BudgetArgs(p.Budget)
	// A folded run's totals change again from now: out of the folded sums.
	if _, err := t.tx.Exec(ctx, runTotalsUnfoldSQL, p.ID); err != nil {
		return false, err
	}
	tag, err := t.tx.Exec(ctx, runReplaySQL, p.ID, p.At, bytesOrNull(t.keys.Seal(p.Input)), generation, tokens, cost)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() > 0, nil
}

func (t *tx) RunRestart(ctx context.Context, p *txn.RunRestartParams) (bool, error) {
	tokens, cost := txn.BudgetArgs(p.Budget)
	_, err := opener{t.keys}.collectRun(t.tx.Query(ctx, runRestartInsertSQL, p.NewID, bytesOrNull(t.keys.Seal(p.Input)), p.At, p.FromID, tokens, cost))
	if errors.Is(err, klaxontype.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// RunsAvailable announces the workflow once the transaction commits,
// coalesced with other announcements, outside it.
func (t *tx) RunsAvailable(_ context.Context, workflow string) error {
	t.available = append(t.available, workflow)
	return nil
}

func (t *tx) StepList(ctx context.Context, runID string) ([]*klaxontype.StepRecord, error) {
	return opener{t.keys}.collectSteps(t.tx.Query(ctx, stepListSQL, runID))
}

func (t *tx) StepCountCompensated(ctx context.Context, runID string, before int) (int, error) {
	var undone int
	err := t.tx.QueryRow(ctx, stepsUndoneBeforeSQL, runID, before).Scan(&undone)
	return undone, err
}

func (t *tx) StepsArchive(ctx context.Context, runID string, from int, actor string, at time.Time) error {
	if _, err := t.tx.Exec(ctx, stepsArchiveFromSQL, runID, from, at, actor); err != nil {
		return err
	}
	_, err := t.tx.Exec(ctx, stepsDeleteFromSQL, runID, from)
	return err
}

func (t *tx) StepResolve(ctx context.Context, p *txn.StepResolveParams) (bool, error) {
	tag, err := t.tx.Exec(ctx, stepResolveInsertSQL, p.RunID, p.Seq, p.Name, p.IdempotencyKey, t.keys.Seal(p.Output), p.At, p.Actor)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() > 0, nil
}

func (t *tx) AttemptList(ctx context.Context, runID string) ([]*klaxontype.Attempt, error) {
	return collectAttempts(t.tx.Query(ctx, attemptListSQL, runID))
}

func (t *tx) WorkflowExpectedSteps(ctx context.Context, workflow string) ([]string, error) {
	var expected []string
	err := t.tx.QueryRow(ctx, workflowExpectedStepsSQL, workflow).Scan(&expected)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return expected, err
}

func (t *tx) EventInsert(ctx context.Context, event *klaxontype.Event, record []byte) error {
	var text *string
	if record != nil {
		text = new(string(record))
	}
	return insertEventWithRecord(ctx, t.tx, event, text)
}

func (t *tx) OutboxGiveUp(ctx context.Context, channel, lastError string, at time.Time) (int, error) {
	tag, err := t.tx.Exec(ctx, outboxGiveUpSQL, channel, at, lastError)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

// bytesOrNull binds a nil byte slice as NULL.
func bytesOrNull(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}
