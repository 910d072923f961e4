package sqlite

import (
	"context"

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
	output = s.keys.Seal(output)
	return s.writer.write(func(conn *sqlite.Conn) error {
		args := []any{params.RunID, params.Seq, params.Name, params.Attempt,
			params.Epoch, params.IdempotencyKey, output, params.StartedAt, params.FinishedAt, params.Holder}
		if err := execute(conn, stepInsertSQL, nil, append(append(args, spendArgs(params.Spend)...), int64(params.RateLimitWait))...); err != nil {
			return err
		}
		t := now()
		if conn.Changes() == 0 {
			// Refused: a stale lease is the first reason; a step already in the
			// log under the current lease is the second.
			cause := klaxontype.ErrStepExists
			held, err := holdsLease(conn, params.Lease, params.Holder)
			if err != nil {
				return err
			}
			if !held {
				cause = klaxontype.ErrLeaseLost
			}
			return suppress(conn, params.Lease, params.Holder, t, "checkpoint", params.Name, params.Seq, cause)
		}
		if err := addSpend(conn, params.RunID, params.Spend); err != nil {
			return err
		}
		return insertEvent(conn, &klaxontype.Event{
			RunID: params.RunID, Type: klaxontype.EventStepCompleted, Actor: params.Holder, At: t,
			Step: params.Name, StepSeq: params.Seq,
		})
	})
}

// StepList returns a run's step log by sequence.
func (s *Store) StepList(ctx context.Context, runID string) ([]*klaxontype.StepRecord, error) {
	var steps []*klaxontype.StepRecord
	err := s.read(ctx, func(conn *sqlite.Conn) (err error) {
		steps, err = listSteps(conn, s.keys, runID)
		return err
	})
	return steps, err
}

func listSteps(conn *sqlite.Conn, keys *store.Keyring, runID string) ([]*klaxontype.StepRecord, error) {
	var steps []*klaxontype.StepRecord
	err := execute(conn, stepListSQL, func(stmt *sqlite.Stmt) error {
		step, err := scanStep(stmt, keys)
		if err != nil {
			return err
		}
		steps = append(steps, step)
		return nil
	}, runID)
	return steps, err
}

// holdsLease reports whether holder holds the run at the lease's epoch, in one
// of the given statuses (running or compensating when none are given).
func holdsLease(conn *sqlite.Conn, lease store.Lease, holder string, statuses ...klaxontype.RunStatus) (bool, error) {
	if len(statuses) == 0 {
		statuses = []klaxontype.RunStatus{klaxontype.RunStatusRunning, klaxontype.RunStatusCompensating}
	}
	held := false
	err := execute(conn, runLeaseGetSQL, func(stmt *sqlite.Stmt) error {
		if stmt.GetInt64("epoch") != lease.Epoch || stmt.GetText("lease_holder") != holder {
			return nil
		}
		status := klaxontype.RunStatus(stmt.GetText("status"))
		for _, s := range statuses {
			held = held || status == s
		}
		return nil
	}, lease.RunID)
	return held, err
}
