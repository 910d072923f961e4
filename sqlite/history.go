package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
	"unsafe"

	"github.com/klaxonhq/klaxon/klaxontype"
	"zombiezen.com/go/sqlite"
)

// insertEvent appends to a run's event log inside the writer's transaction.
func insertEvent(conn *sqlite.Conn, event *klaxontype.Event) error {
	return insertEventWithRecord(conn, event, nil)
}

// insertEventWithRecord appends a terminal event with its completion record,
// encoded before the writer's transaction so that the writer, the store's
// bottleneck, does not spend its time on JSON; nil stores none.
func insertEventWithRecord(conn *sqlite.Conn, event *klaxontype.Event, record []byte) error {
	return executeBound(conn, eventInsertSQL, func(stmt *sqlite.Stmt) {
		stmt.BindText(1, event.RunID)
		stmt.BindText(2, string(event.Type))
		stmt.BindText(3, event.Actor)
		bindTime(stmt, 4, event.At)
		bindOptionalText(stmt, 5, event.Step)
		if event.StepSeq == 0 {
			stmt.BindNull(6)
		} else {
			stmt.BindInt64(6, int64(event.StepSeq))
		}
		bindOptionalText(stmt, 7, event.Message)
		if record == nil {
			stmt.BindNull(8)
		} else {
			// SQLite copies the text; the string shares record's bytes only
			// for this call.
			stmt.BindText(8, unsafe.String(unsafe.SliceData(record), len(record)))
		}
	})
}

// encodeRecord encodes a completion record for the events table; nil stays
// nil.
func encodeRecord(record *klaxontype.CompletionRecord) ([]byte, error) {
	if record == nil {
		return nil, nil
	}
	encoded, err := json.Marshal(record)
	if err != nil {
		return nil, fmt.Errorf("sqlite: encoding the completion record: %w", err)
	}
	return encoded, nil
}

// insertAttempt adds a failed attempt to a run's history.
func insertAttempt(conn *sqlite.Conn, a *klaxontype.Attempt) error {
	args := []any{a.RunID, a.Attempt, a.At, a.Worker, nullIfEmpty(a.Step), nullIfZero(a.StepSeq),
		string(a.Class), a.Message, a.ClassifiedBy, int64(a.Duration / time.Microsecond), nullIfEmpty(a.Stack)}
	if err := execute(conn, attemptInsertSQL, nil, append(args, spendArgs(a.Spend)...)...); err != nil {
		return err
	}
	return addSpend(conn, a.RunID, a.Spend)
}

// EventList returns a run's event log, oldest first.
func (s *Store) EventList(ctx context.Context, runID string) ([]*klaxontype.Event, error) {
	var events []*klaxontype.Event
	err := s.read(ctx, func(conn *sqlite.Conn) error {
		return execute(conn, eventListSQL, func(stmt *sqlite.Stmt) error {
			event, err := scanEvent(stmt)
			if err != nil {
				return err
			}
			events = append(events, event)
			return nil
		}, runID)
	})
	return events, err
}

// AttemptList returns a run's failed attempts, oldest first.
func (s *Store) AttemptList(ctx context.Context, runID string) ([]*klaxontype.Attempt, error) {
	var attempts []*klaxontype.Attempt
	err := s.read(ctx, func(conn *sqlite.Conn) error {
		return execute(conn, attemptListSQL, func(stmt *sqlite.Stmt) error {
			attempts = append(attempts, scanAttempt(stmt))
			return nil
		}, runID)
	})
	return attempts, err
}
