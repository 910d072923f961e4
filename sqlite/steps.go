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
		if err := executeBound(conn, stepInsertSQL, func(stmt *sqlite.Stmt) { bindStep(stmt, params, output) }); err != nil {
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

// bindStep binds step_insert.sql's parameters.
func bindStep(stmt *sqlite.Stmt, params *store.StepCheckpointParams, output []byte) {
	stmt.BindText(1, params.RunID)
	stmt.BindInt64(2, int64(params.Seq))
	stmt.BindText(3, params.Name)
	stmt.BindInt64(4, int64(params.Attempt))
	stmt.BindInt64(5, params.Epoch)
	stmt.BindText(6, params.IdempotencyKey)
	stmt.BindBytes(7, output)
	bindTime(stmt, 8, params.StartedAt)
	bindTime(stmt, 9, params.FinishedAt)
	stmt.BindText(10, params.Holder)
	spend := &params.Spend
	stmt.BindInt64(11, spend.Usage.InputTokens)
	stmt.BindInt64(12, spend.Usage.OutputTokens)
	stmt.BindInt64(13, spend.Usage.CachedTokens)
	stmt.BindFloat(14, spend.Cost.USD)
	stmt.BindBool(15, spend.Cost.Unknown)
	stmt.BindInt64(16, int64(spend.ModelCalls))
	stmt.BindInt64(17, int64(params.RateLimitWait))
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
