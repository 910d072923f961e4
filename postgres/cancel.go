package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// RunCancel ends a pending, retrying or running run as cancelled, and writes
// its completion record on the run.cancelled event. It takes
// the run's fencing lock, then its row, in the order every writer takes them:
// a checkpoint, completion or failure of the holder that is in flight commits
// first and the cancel reads its outcome, or it comes after and is refused.
// A refusal returns its error from the transaction, which changes nothing.
func (s *Store) RunCancel(ctx context.Context, params *store.RunCancelParams) (*klaxontype.Run, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	var cancelled *klaxontype.Run
	err := s.transact(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, runFenceExclusiveSQL, params.ID); err != nil {
			return err
		}
		run, err := collectRun(tx.Query(ctx, runLockSQL, params.ID))
		if errors.Is(err, klaxontype.ErrNotFound) {
			return fmt.Errorf("run %s: %w", params.ID, klaxontype.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if !cancellable(run.Status) {
			return notCancellable(run)
		}
		t := now()
		if cancelled, err = collectRun(tx.Query(ctx, runCancelSQL, run.ID, cancelReason(params), t)); err != nil {
			return err
		}
		record, err := cancelRecord(ctx, tx, cancelled)
		if err != nil {
			return err
		}
		return insertEventWithRecord(ctx, tx, &klaxontype.Event{
			RunID: run.ID, Type: klaxontype.EventRunCancelled, Actor: params.Actor, At: t,
			Message: cancelMessage(run, params.Reason),
		}, record)
	})
	if err != nil {
		return nil, err
	}
	return cancelled, nil
}

// cancelRecord is the encoded completion record of a run just cancelled,
// read in the cancel's transaction: it holds the run's fencing lock and its
// lease is gone, so no step can be checkpointed nor attempt recorded after
// it, and the record is exact.
func cancelRecord(ctx context.Context, tx pgx.Tx, run *klaxontype.Run) (*string, error) {
	steps, err := collectSteps(tx.Query(ctx, stepListSQL, run.ID))
	if err != nil {
		return nil, err
	}
	history, err := collectAttempts(tx.Query(ctx, attemptListSQL, run.ID))
	if err != nil {
		return nil, err
	}
	var expected []string
	err = tx.QueryRow(ctx, workflowExpectedStepsSQL, run.Workflow).Scan(&expected)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: reading the expected steps of workflow %s: %w", run.Workflow, err)
	}
	return encodeRecord(klaxontype.CompletionRecordOf(run, expected, steps, history))
}

func cancellable(status klaxontype.RunStatus) bool {
	return status == klaxontype.RunStatusPending || status == klaxontype.RunStatusRetrying ||
		status == klaxontype.RunStatusRunning
}

// notCancellable names why a run cannot be cancelled.
func notCancellable(run *klaxontype.Run) error {
	if run.Status == klaxontype.RunStatusCompensating {
		return fmt.Errorf("run %s is compensating: its completed steps are being undone and it will end dead, in the dead-letter queue: %w",
			run.ID, klaxontype.ErrRunNotCancellable)
	}
	return fmt.Errorf("run %s is already %s: %w", run.ID, run.Status, klaxontype.ErrRunNotCancellable)
}

// cancelReason is the failure reason of a cancelled run: who and why.
func cancelReason(params *store.RunCancelParams) string {
	if params.Reason == "" {
		return "cancelled by " + params.Actor
	}
	return fmt.Sprintf("cancelled by %s: %s", params.Actor, params.Reason)
}

// cancelMessage is the run.cancelled event's message: the status the run was
// cancelled in, its holder when it had one, and the reason.
func cancelMessage(run *klaxontype.Run, reason string) string {
	message := "cancelled while " + string(run.Status)
	if run.LeaseHolder != "" {
		message += fmt.Sprintf(" (attempt %d, held by %s at epoch %d)", run.Attempt, run.LeaseHolder, run.Epoch)
	}
	if reason != "" {
		message += ": " + reason
	}
	return message
}
