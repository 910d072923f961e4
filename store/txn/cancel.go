package txn

import (
	"context"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// RunCancel ends a pending, retrying, waiting or running run as cancelled, and writes
// its completion record on the run.cancelled event. It locks the run first,
// the way every writer of it does: a checkpoint, completion or failure of the
// holder that is in flight commits first and the cancel reads its outcome, or
// comes after and is refused. The lease is gone when the transaction commits,
// so no step can be checkpointed nor attempt recorded after the record is
// built: it is exact.
func (r Rules) RunCancel(ctx context.Context, params *store.RunCancelParams) (*klaxontype.Run, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	var cancelled *klaxontype.Run
	err := r.transact(ctx, func(ctx context.Context, tx Tx) error {
		run, err := tx.RunLock(ctx, params.ID)
		if isNotFound(err) {
			return fmt.Errorf("run %s: %w", params.ID, klaxontype.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if !cancellable(run.Status) {
			return notCancellable(run)
		}
		t := r.now()
		cancelled, err = cancelRun(ctx, tx, run, params.Actor, cancelReason(params), params.Reason, t)
		return err
	})
	if err != nil {
		return nil, err
	}
	return cancelled, nil
}

// cancelRun ends a run the transaction locked as cancelled: its completion
// record on the run.cancelled event, the audit record, the parent that
// awaits it told, and its open children cancelled with it.
func cancelRun(ctx context.Context, tx Tx, run *klaxontype.Run, actor, reason, why string, t time.Time) (*klaxontype.Run, error) {
	cancelled, err := tx.RunCancel(ctx, run.ID, reason, t)
	if err != nil {
		return nil, err
	}
	record, err := completionRecord(ctx, tx, cancelled)
	if err != nil {
		return nil, err
	}
	encoded, err := encodeRecord(record)
	if err != nil {
		return nil, err
	}
	if err := tx.EventInsert(ctx, &klaxontype.Event{
		RunID: run.ID, Type: klaxontype.EventRunCancelled, Actor: actor, At: t,
		Message: cancelMessage(run, why),
	}, encoded); err != nil {
		return nil, err
	}
	if err := audit(ctx, tx, t, actor, klaxontype.AuditRunCancel, run.ID, map[string]any{
		"reason": why, "workflow": run.Workflow,
	}, cancelMessage(run, "")); err != nil {
		return nil, err
	}
	if err := childEnded(ctx, tx, run.ID, klaxontype.RunStatusCancelled, nil, t); err != nil {
		return nil, err
	}
	if run.ConcurrencySlot == klaxontype.SlotHeld {
		// The run's slot is free: the oldest run waiting for it takes it.
		if _, err := admitKey(ctx, tx, run.ConcurrencyKey, t); err != nil {
			return nil, err
		}
	}
	return cancelled, cancelChildren(ctx, tx, cancelled, actor, t)
}

// completionRecord builds the record of a run that ends in the transaction,
// from what the transaction reads.
func completionRecord(ctx context.Context, tx Tx, run *klaxontype.Run) (*klaxontype.CompletionRecord, error) {
	steps, err := tx.StepList(ctx, run.ID)
	if err != nil {
		return nil, err
	}
	history, err := tx.AttemptList(ctx, run.ID)
	if err != nil {
		return nil, err
	}
	expected, err := tx.WorkflowExpectedSteps(ctx, run.Workflow)
	if err != nil {
		return nil, fmt.Errorf("reading the expected steps of workflow %s: %w", run.Workflow, err)
	}
	return klaxontype.CompletionRecordOf(run, expected, steps, history), nil
}

func cancellable(status klaxontype.RunStatus) bool {
	return status == klaxontype.RunStatusPending || status == klaxontype.RunStatusRetrying ||
		status == klaxontype.RunStatusWaiting || status == klaxontype.RunStatusRunning
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
