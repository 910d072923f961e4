package sqlite

import (
	"context"
	"fmt"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"zombiezen.com/go/sqlite"
)

// StepCheckpoint records a completed step under the holder's lease.
func (s *Store) StepCheckpoint(ctx context.Context, params *store.StepCheckpointParams) error {
	output := params.Output
	if output == nil {
		output = []byte("null")
	}
	return s.writer.write(func(conn *sqlite.Conn) error {
		err := execute(conn, stepInsertSQL, nil, params.RunID, params.Seq, params.Name, params.Attempt,
			params.Epoch, params.IdempotencyKey, output, params.StartedAt, params.FinishedAt, params.Holder)
		if err != nil {
			return err
		}
		t := now()
		if conn.Changes() == 0 {
			cause := klaxontype.ErrLeaseLost
			exists, err := stepExists(conn, params.RunID, params.Seq)
			if err != nil {
				return err
			}
			if exists {
				cause = klaxontype.ErrStepExists
			}
			return suppress(conn, params.Lease, params.Holder, t, "checkpoint", params.Name, params.Seq, cause)
		}
		return insertEvent(conn, &klaxontype.Event{
			RunID: params.RunID, Type: klaxontype.EventStepCompleted, Actor: params.Holder, At: t,
			Step: params.Name, StepSeq: params.Seq,
		})
	})
}

func stepExists(conn *sqlite.Conn, runID string, seq int) (bool, error) {
	exists := false
	err := execute(conn, stepExistsSQL, func(*sqlite.Stmt) error {
		exists = true
		return nil
	}, runID, seq)
	return exists, err
}

// StepCompensate records the outcome of a completed step's compensation. A
// compensation is recorded at most once: a step no longer completed keeps the
// first outcome.
func (s *Store) StepCompensate(ctx context.Context, params *store.StepCompensateParams) error {
	return s.writer.write(func(conn *sqlite.Conn) error {
		t := now()
		held := false
		err := execute(conn, runLeaseGetSQL, func(stmt *sqlite.Stmt) error {
			held = stmt.GetInt64("epoch") == params.Epoch && stmt.GetText("lease_holder") == params.Holder &&
				stmt.GetText("status") == string(klaxontype.RunStatusCompensating)
			return nil
		}, params.RunID)
		if err != nil {
			return err
		}
		if !held {
			return suppress(conn, params.Lease, params.Holder, t, "compensation", "", params.Seq, klaxontype.ErrLeaseLost)
		}
		status, eventType, message := klaxontype.StepStatusCompensated, klaxontype.EventCompensationCompleted, ""
		if params.Error != "" {
			status, eventType, message = klaxontype.StepStatusCompensationFailed, klaxontype.EventCompensationFailed, params.Error
		}
		at := params.At
		if at.IsZero() {
			at = t
		}
		name := ""
		err = execute(conn, stepCompensateSQL, func(stmt *sqlite.Stmt) error {
			name = stmt.GetText("name")
			return nil
		}, params.RunID, params.Seq, string(status), at, nullIfEmpty(params.Error))
		if err != nil {
			return err
		}
		if name == "" {
			return reject(fmt.Errorf("compensation of step %d of run %s: %w", params.Seq, params.RunID, klaxontype.ErrStepExists))
		}
		return insertEvent(conn, &klaxontype.Event{
			RunID: params.RunID, Type: eventType, Actor: params.Holder, At: t, Step: name, StepSeq: params.Seq, Message: message,
		})
	})
}

// StepList returns a run's step log by sequence.
func (s *Store) StepList(ctx context.Context, runID string) ([]*klaxontype.StepRecord, error) {
	var steps []*klaxontype.StepRecord
	err := s.read(ctx, func(conn *sqlite.Conn) (err error) {
		steps, err = listSteps(conn, runID)
		return err
	})
	return steps, err
}

func listSteps(conn *sqlite.Conn, runID string) ([]*klaxontype.StepRecord, error) {
	var steps []*klaxontype.StepRecord
	err := execute(conn, stepListSQL, func(stmt *sqlite.Stmt) error {
		steps = append(steps, scanStep(stmt))
		return nil
	}, runID)
	return steps, err
}
