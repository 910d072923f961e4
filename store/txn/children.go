package txn

import (
	"context"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// RunCompleteChild is RunComplete for a child run (params.Child): the run
// completes, and in the same group-committed transaction its output
// satisfies the parent's open wait for it, so a crash cannot leave a
// parent waiting on a child that ended.
func (r Rules) RunCompleteChild(ctx context.Context, params *store.RunCompleteParams) error {
	record, err := encodeRecord(params.Record)
	if err != nil {
		return err
	}
	var refused error
	err = r.batch(ctx, func(ctx context.Context, tx Tx) error {
		refused = nil
		t := r.now()
		held, err := tx.RunCompleteHeld(ctx, params, t)
		if err != nil {
			return err
		}
		if !held {
			refused, err = suppress(ctx, tx, params.Lease, params.Holder, t, "completion", "", 0, klaxontype.ErrLeaseLost)
			return err
		}
		if !params.Spend.IsZero() {
			if err := tx.RunAddSpend(ctx, params.RunID, params.Spend); err != nil {
				return err
			}
		}
		if err := tx.EventInsert(ctx, &klaxontype.Event{
			RunID: params.RunID, Type: klaxontype.EventRunCompleted, Actor: params.Holder, At: t,
		}, record); err != nil {
			return err
		}
		return childEnded(ctx, tx, params.RunID, klaxontype.RunStatusCompleted, params.Output, t)
	})
	if err != nil {
		return err
	}
	return refused
}

// childEnded is the rule of a run's end for the parent that awaits it, in
// the transaction that ends the run. Only a waiting parent is touched: a
// running or retrying one reads the child's end itself when it reaches the
// wait again. A completed child satisfies the wait (its output becomes the
// wait's step) and wakes the parent once no other child it awaits is still
// open, so a fan-in over many children wakes it once; a dead or cancelled
// child wakes it at once, to fail the step with the child's class. A
// completed child whose parent died of it (the child was resolved or
// replayed) resumes the parent from the dead-letter queue.
func childEnded(ctx context.Context, tx Tx, childID string, status klaxontype.RunStatus, output []byte, t time.Time) error {
	wait, err := tx.WaitOfChild(ctx, childID)
	if err != nil || wait == nil {
		return err
	}
	parent, err := tx.RunLock(ctx, wait.RunID)
	if isNotFound(err) {
		return nil // deleted by retention
	}
	if err != nil {
		return err
	}
	if status != klaxontype.RunStatusCompleted {
		if parent.Status != klaxontype.RunStatusWaiting {
			return nil
		}
		return wake(ctx, tx, parent, t)
	}
	switch parent.Status {
	case klaxontype.RunStatusWaiting:
		if err := satisfyChildWait(ctx, tx, wait, output, t); err != nil {
			return err
		}
		open, err := tx.WaitsOpenCount(ctx, parent.ID, klaxontype.WaitChild)
		if err != nil || open > 0 {
			return err
		}
		return wake(ctx, tx, parent, t)
	case klaxontype.RunStatusDead:
		return resumeParent(ctx, tx, parent, wait, output, t)
	}
	return nil
}

// satisfyChildWait records a completed child's output as the step of the
// parent's wait for it, and closes the wait.
func satisfyChildWait(ctx context.Context, tx Tx, wait *klaxontype.Wait, output []byte, t time.Time) error {
	actor := "child " + wait.ChildRunID
	if _, err := tx.StepResolve(ctx, &StepResolveParams{
		RunID: wait.RunID, Seq: wait.Seq, Name: wait.Name, IdempotencyKey: wait.StepKey, Output: output, Actor: actor, At: t,
	}); err != nil {
		return err
	}
	// A step recorded already (the parent's worker read the child's end
	// first) stands: the wait only closes.
	if err := tx.WaitClose(ctx, wait.RunID, wait.Seq, klaxontype.WaitSatisfied, actor, t); err != nil {
		return err
	}
	return tx.EventInsert(ctx, &klaxontype.Event{
		RunID: wait.RunID, Type: klaxontype.EventStepCompleted, Actor: actor, At: t, Step: wait.Name, StepSeq: wait.Seq,
		Message: fmt.Sprintf("child run %s completed", wait.ChildRunID),
	}, nil)
}

// resumeParent lets a parent that died of its child's failure continue,
// once the child completed after all (a person resolved or replayed it):
// the child's output becomes the failed step's, and the parent's open
// dead-letter entry is replayed, resuming, by the child.
func resumeParent(ctx context.Context, tx Tx, parent *klaxontype.Run, wait *klaxontype.Wait, output []byte, t time.Time) error {
	entries, err := tx.DeadLetterList(ctx, &store.DLQListParams{
		RunID: parent.ID, States: []klaxontype.DeadLetterState{klaxontype.DeadLetterOpen}, Limit: 1,
	})
	if err != nil {
		return err
	}
	if len(entries) == 0 || entries[0].Step == nil || entries[0].Step.Seq != wait.Seq {
		return nil // dead of something else: a person decides
	}
	if err := satisfyChildWait(ctx, tx, wait, output, t); err != nil {
		return err
	}
	_, err = replay(ctx, tx, &store.DLQReplayParams{
		EntryID: entries[0].ID, Mode: klaxontype.ReplayResume, Actor: "child " + wait.ChildRunID,
	}, t)
	return err
}

// cancelChildren cancels the open children of a cancelled run, and theirs,
// in the cancel's transaction.
func cancelChildren(ctx context.Context, tx Tx, parent *klaxontype.Run, actor string, t time.Time) error {
	ids, err := tx.ChildrenOpen(ctx, parent.ID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		child, err := tx.RunLock(ctx, id)
		if err != nil {
			return err
		}
		if !cancellable(child.Status) {
			continue
		}
		reason := fmt.Sprintf("cancelled by %s: its parent run %s was cancelled", actor, parent.ID)
		if _, err := cancelRun(ctx, tx, child, actor, reason, "parent run "+parent.ID+" cancelled", t); err != nil {
			return err
		}
	}
	return nil
}
