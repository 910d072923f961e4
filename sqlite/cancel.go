package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"zombiezen.com/go/sqlite"
)

// RunCancel ends a pending, retrying or running run as cancelled, and writes
// its completion record on the run.cancelled event. The writer is the only
// one to write, so the status read, the update and the record cannot be
// separated by a holder's write.
func (s *Store) RunCancel(ctx context.Context, params *store.RunCancelParams) (*klaxontype.Run, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	var cancelled *klaxontype.Run
	err := s.writer.write(func(conn *sqlite.Conn) error {
		cancelled = nil
		var run *klaxontype.Run
		err := execute(conn, runGetSQL, func(stmt *sqlite.Stmt) (err error) {
			run, err = scanRun(stmt)
			return err
		}, params.ID)
		if err != nil {
			return err
		}
		if run == nil {
			return reject(fmt.Errorf("run %s: %w", params.ID, klaxontype.ErrNotFound))
		}
		if !cancellable(run.Status) {
			return reject(notCancellable(run))
		}
		t := now()
		err = execute(conn, runCancelSQL, func(stmt *sqlite.Stmt) (err error) {
			cancelled, err = scanRun(stmt)
			return err
		}, run.ID, cancelReason(params), t)
		if err != nil {
			return err
		}
		record, err := cancelRecord(conn, cancelled)
		if err != nil {
			return err
		}
		return insertEventWithRecord(conn, &klaxontype.Event{
			RunID: run.ID, Type: klaxontype.EventRunCancelled, Actor: params.Actor, At: t,
			Message: cancelMessage(run, params.Reason),
		}, record)
	})
	return cancelled, err
}

// cancelRecord is the encoded completion record of a run just cancelled,
// read in the cancel's transaction: its lease is gone, so no step can be
// checkpointed nor attempt recorded after it, and the record is exact. A
// cancel is a person's act, rare enough to be built inside the writer.
func cancelRecord(conn *sqlite.Conn, run *klaxontype.Run) ([]byte, error) {
	steps, err := listSteps(conn, run.ID)
	if err != nil {
		return nil, err
	}
	var history []*klaxontype.Attempt
	err = execute(conn, attemptListSQL, func(stmt *sqlite.Stmt) error {
		history = append(history, scanAttempt(stmt))
		return nil
	}, run.ID)
	if err != nil {
		return nil, err
	}
	var expected []string
	err = execute(conn, workflowExpectedStepsSQL, func(stmt *sqlite.Stmt) error {
		return json.Unmarshal([]byte(stmt.GetText("expected_steps")), &expected)
	}, run.Workflow)
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading the expected steps of workflow %s: %w", run.Workflow, err)
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
