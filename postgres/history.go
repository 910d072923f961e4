package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// insertEvent appends to a run's event log inside a transaction.
func insertEvent(ctx context.Context, q querier, event *klaxontype.Event) error {
	return insertEventWithRecord(ctx, q, event, nil)
}

// insertEventWithRecord appends a terminal event with its completion record,
// encoded by encodeRecord before the transaction; nil stores none.
func insertEventWithRecord(ctx context.Context, q querier, event *klaxontype.Event, record *string) error {
	_, err := q.Exec(ctx, eventInsertSQL, event.RunID, string(event.Type), event.Actor, event.At,
		orNull(event.Step), orNull(event.StepSeq), orNull(event.Message), record)
	return err
}

// encodeRecord encodes a completion record as the JSON of the events table's
// record column; nil stays nil, a NULL.
func encodeRecord(record *klaxontype.CompletionRecord) (*string, error) {
	if record == nil {
		return nil, nil
	}
	encoded, err := json.Marshal(record)
	if err != nil {
		return nil, fmt.Errorf("postgres: encoding the completion record: %w", err)
	}
	return new(string(encoded)), nil
}

// insertAttempt adds a failed attempt to a run's history, and its spend to the
// run's totals.
func insertAttempt(ctx context.Context, q querier, a *klaxontype.Attempt) error {
	args := []any{a.RunID, a.Attempt, a.At, a.Worker, orNull(a.Step), orNull(a.StepSeq),
		string(a.Class), a.Message, a.ClassifiedBy, int64(a.Duration / time.Microsecond), orNull(a.Stack)}
	if _, err := q.Exec(ctx, attemptInsertSQL, append(args, spendArgs(a.Spend)...)...); err != nil {
		return err
	}
	return addSpend(ctx, q, a.RunID, a.Spend)
}

// addSpend adds spend to a run's totals.
func addSpend(ctx context.Context, q querier, runID string, s klaxontype.Spend) error {
	if s.IsZero() {
		return nil
	}
	_, err := q.Exec(ctx, runAddSpendSQL, append([]any{runID}, spendArgs(s)...)...)
	return err
}

// EventList returns a run's event log, oldest first.
func (s *Store) EventList(ctx context.Context, runID string) ([]*klaxontype.Event, error) {
	var events []*klaxontype.Event
	err := s.read(ctx, func(ctx context.Context, q querier) (err error) {
		events, err = collectEvents(q.Query(ctx, eventListSQL, runID))
		return err
	})
	return events, err
}

// AttemptList returns a run's failed attempts, oldest first.
func (s *Store) AttemptList(ctx context.Context, runID string) ([]*klaxontype.Attempt, error) {
	var attempts []*klaxontype.Attempt
	err := s.read(ctx, func(ctx context.Context, q querier) (err error) {
		attempts, err = collectAttempts(q.Query(ctx, attemptListSQL, runID))
		return err
	})
	return attempts, err
}
