package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// RunComplete marks a held run completed with its output.
func (s *Store) RunComplete(ctx context.Context, params *store.RunCompleteParams) error {
	return s.writers.writeFunc(ctx, func(ctx context.Context, tx pgx.Tx) error {
		t := now()
		args := append([]any{params.RunID, params.Epoch, params.Holder, params.Output, t}, spendArgs(params.Spend)...)
		var completed int
		if err := tx.QueryRow(ctx, runCompleteSQL, args...).Scan(&completed); err != nil {
			return err
		}
		if completed == 0 {
			return suppress(ctx, tx, params.Lease, params.Holder, "completion", "", 0, klaxontype.ErrLeaseLost)
		}
		return nil
	})
}

// RunFail records a failed attempt and moves the run to retrying,
// compensating or dead.
func (s *Store) RunFail(ctx context.Context, params *store.RunFailParams) error {
	failure := params.Failure
	switch params.Next {
	case klaxontype.RunStatusRetrying:
		if params.Attempt == nil {
			return fmt.Errorf("postgres: scheduling a retry of run %s needs the failed attempt", params.RunID)
		}
	case klaxontype.RunStatusCompensating, klaxontype.RunStatusDead:
		if failure == nil {
			return fmt.Errorf("postgres: run %s cannot become %s without a failure", params.RunID, params.Next)
		}
		if params.Next == klaxontype.RunStatusDead && (params.DeadLetter == nil || params.DeadLetter.ID == "" || params.DeadLetter.Channel == "") {
			return fmt.Errorf("postgres: dead run %s needs a dead-letter entry ID and channel", params.RunID)
		}
	default:
		return fmt.Errorf("postgres: a failed run cannot become %q", params.Next)
	}
	return s.writers.writeFunc(ctx, func(ctx context.Context, tx pgx.Tx) error {
		t := now()
		var rows pgx.Rows
		var err error
		switch params.Next {
		case klaxontype.RunStatusRetrying:
			rows, err = tx.Query(ctx, runRetrySQL, params.RunID, params.Epoch, params.Holder, params.RetryAt, t)
		case klaxontype.RunStatusCompensating:
			rows, err = tx.Query(ctx, runCompensatingSQL, params.RunID, params.Epoch, params.Holder,
				string(failure.Class), failure.Reason, nullIfEmpty(failure.Step), nullIfZero(failure.StepSeq), t)
		case klaxontype.RunStatusDead:
			rows, err = tx.Query(ctx, runDeadSQL, params.RunID, params.Epoch, params.Holder,
				string(failure.Class), failure.Reason, nullIfEmpty(failure.Step), nullIfZero(failure.StepSeq), t)
		}
		if err != nil {
			return err
		}
		workflows, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if len(workflows) == 0 {
			return suppress(ctx, tx, params.Lease, params.Holder, "failure of attempt", "", 0, klaxontype.ErrLeaseLost)
		}
		if params.Next == klaxontype.RunStatusDead {
			if err := insertDeadLetter(ctx, tx, params.RunID, params.DeadLetter, t); err != nil {
				return err
			}
		}
		if a := params.Attempt; a != nil {
			if err := insertAttempt(ctx, tx, a); err != nil {
				return err
			}
			err := insertEvent(ctx, tx, &klaxontype.Event{
				RunID: params.RunID, Type: klaxontype.EventStepFailed, Actor: params.Holder, At: t,
				Step: a.Step, StepSeq: a.StepSeq,
				Message: fmt.Sprintf("attempt %d failed (%s, by %s): %s", a.Attempt, a.Class, a.ClassifiedBy, a.Message),
			})
			if err != nil {
				return err
			}
		}
		next := &klaxontype.Event{RunID: params.RunID, Actor: params.Holder, At: t}
		switch params.Next {
		case klaxontype.RunStatusRetrying:
			next.Type = klaxontype.EventRetryScheduled
			next.Message = fmt.Sprintf("retry at %s", params.RetryAt.UTC().Format("2006-01-02T15:04:05.000Z07:00"))
			// Other processes' idle workers wake when the retry is due only by
			// polling; a retry due now wakes them at once.
			if !params.RetryAt.After(t) {
				if err := notifyRuns(ctx, tx, workflows[0]); err != nil {
					return err
				}
			}
		case klaxontype.RunStatusCompensating:
			next.Type = klaxontype.EventRunCompensating
			next.Message = fmt.Sprintf("%s: %s", failure.Class, failure.Reason)
		case klaxontype.RunStatusDead:
			next.Type = klaxontype.EventRunDead
			next.Message = fmt.Sprintf("%s: %s", failure.Class, failure.Reason)
		}
		return insertEvent(ctx, tx, next)
	})
}

// insertDeadLetter creates the open entry of a run that just died, and its
// notification in the outbox, in the transaction that made it dead: a crash
// cannot leave a dead run without an entry, or an entry nobody is told of.
func insertDeadLetter(ctx context.Context, tx pgx.Tx, runID string, entry *store.DeadLetterParams, at time.Time) error {
	var schema any
	if len(entry.OutputSchema) > 0 {
		schema = string(entry.OutputSchema)
	}
	if _, err := tx.Exec(ctx, dlqEntryInsertSQL, entry.ID, schema, entry.Channel, at, runID); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, outboxInsertSQL, entry.ID, entry.Channel, at)
	return err
}
