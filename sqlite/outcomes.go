package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"zombiezen.com/go/sqlite"
)

// RunComplete marks a held run completed with its output.
func (s *Store) RunComplete(ctx context.Context, params *store.RunCompleteParams) error {
	record, err := encodeRecord(params.Record)
	if err != nil {
		return err
	}
	return s.writer.write(func(conn *sqlite.Conn) error {
		t := now()
		if err := execute(conn, runCompleteSQL, nil, params.RunID, params.Epoch, params.Holder, params.Output, t); err != nil {
			return err
		}
		if conn.Changes() == 0 {
			return suppress(conn, params.Lease, params.Holder, t, "completion", "", 0, klaxontype.ErrLeaseLost)
		}
		if err := addSpend(conn, params.RunID, params.Spend); err != nil {
			return err
		}
		return insertEventWithRecord(conn, &klaxontype.Event{
			RunID: params.RunID, Type: klaxontype.EventRunCompleted, Actor: params.Holder, At: t,
		}, record)
	})
}

// RunFail records a failed attempt and moves the run to retrying,
// compensating or dead.
func (s *Store) RunFail(ctx context.Context, params *store.RunFailParams) error {
	failure := params.Failure
	if err := params.Validate(); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	record, err := encodeRecord(params.Record)
	if err != nil {
		return err
	}
	return s.writer.write(func(conn *sqlite.Conn) error {
		t := now()
		var err error
		switch params.Next {
		case klaxontype.RunStatusRetrying:
			err = execute(conn, runRetrySQL, nil, params.RunID, params.Epoch, params.Holder, params.RetryAt, t)
		case klaxontype.RunStatusCompensating:
			err = execute(conn, runCompensatingSQL, nil, params.RunID, params.Epoch, params.Holder,
				string(failure.Class), failure.Reason, nullIfEmpty(failure.Step), nullIfZero(failure.StepSeq), t)
		case klaxontype.RunStatusDead:
			err = execute(conn, runDeadSQL, nil, params.RunID, params.Epoch, params.Holder,
				string(failure.Class), failure.Reason, nullIfEmpty(failure.Step), nullIfZero(failure.StepSeq), t)
		}
		if err != nil {
			return err
		}
		if conn.Changes() == 0 {
			return suppress(conn, params.Lease, params.Holder, t, "failure of attempt", "", 0, klaxontype.ErrLeaseLost)
		}
		if params.Next == klaxontype.RunStatusDead {
			if err := insertDeadLetter(conn, params.RunID, params.DeadLetter, t); err != nil {
				return err
			}
		}
		if a := params.Attempt; a != nil {
			if err := insertAttempt(conn, a); err != nil {
				return err
			}
			err := insertEvent(conn, &klaxontype.Event{
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
		case klaxontype.RunStatusCompensating:
			next.Type = klaxontype.EventRunCompensating
			next.Message = fmt.Sprintf("%s: %s", failure.Class, failure.Reason)
		case klaxontype.RunStatusDead:
			next.Type = klaxontype.EventRunDead
			next.Message = fmt.Sprintf("%s: %s", failure.Class, failure.Reason)
		}
		return insertEventWithRecord(conn, next, record)
	})
}

// insertDeadLetter creates the open entry of a run that just died, and its
// notification in the outbox, in the transaction that made it dead: a crash
// cannot leave a dead run without an entry, or an entry nobody is told of.
func insertDeadLetter(conn *sqlite.Conn, runID string, entry *store.DeadLetterParams, at time.Time) error {
	var schema any
	if len(entry.OutputSchema) > 0 {
		schema = string(entry.OutputSchema)
	}
	if err := execute(conn, dlqEntryInsertSQL, nil, entry.ID, schema, entry.Channel, at, runID); err != nil {
		return err
	}
	return execute(conn, outboxInsertSQL, nil, entry.ID, entry.Channel, at)
}
