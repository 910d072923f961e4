package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// StepCompensate records the outcome of a completed step's compensation. A
// compensation is recorded at most once: a step no longer completed keeps the
// first outcome.
func (s *Store) StepCompensate(ctx context.Context, params *store.StepCompensateParams) error {
	return s.writers.writeFunc(ctx, func(ctx context.Context, tx pgx.Tx) error {
		t := now()
		held, err := holdsLease(ctx, tx, params.Lease, params.Holder, klaxontype.RunStatusCompensating)
		if err != nil {
			return err
		}
		if !held {
			return suppress(ctx, tx, params.Lease, params.Holder, "compensation", "", params.Seq, klaxontype.ErrLeaseLost)
		}
		status, eventType, message := klaxontype.StepStatusCompensated, klaxontype.EventCompensationCompleted, ""
		if params.Error != "" {
			status, eventType, message = klaxontype.StepStatusCompensationFailed, klaxontype.EventCompensationFailed, params.Error
		}
		at := params.At
		if at.IsZero() {
			at = t
		}
		var name string
		err = tx.QueryRow(ctx, stepCompensateSQL, params.RunID, params.Seq, string(status), at, nullIfEmpty(params.Error)).Scan(&name)
		if errors.Is(err, pgx.ErrNoRows) {
			return reject(fmt.Errorf("compensation of step %d of run %s: %w", params.Seq, params.RunID, klaxontype.ErrStepExists))
		}
		if err != nil {
			return err
		}
		return insertEvent(ctx, tx, &klaxontype.Event{
			RunID: params.RunID, Type: eventType, Actor: params.Holder, At: t, Step: name, StepSeq: params.Seq, Message: message,
		})
	})
}

// StepList returns a run's step log by sequence.
func (s *Store) StepList(ctx context.Context, runID string) ([]*klaxontype.StepRecord, error) {
	var steps []*klaxontype.StepRecord
	err := s.read(ctx, func(ctx context.Context, q querier) (err error) {
		steps, err = collectSteps(q.Query(ctx, stepListSQL, runID))
		return err
	})
	return steps, err
}

// holdsLease reports whether holder holds the run at the lease's epoch, in one
// of the given statuses (running or compensating when none are given). It
// share-locks the run row until the transaction ends, so that no claim can
// take the run over in between.
func holdsLease(ctx context.Context, q querier, lease store.Lease, holder string, statuses ...klaxontype.RunStatus) (bool, error) {
	if len(statuses) == 0 {
		statuses = []klaxontype.RunStatus{klaxontype.RunStatusRunning, klaxontype.RunStatusCompensating}
	}
	var (
		epoch       int64
		status      string
		leaseHolder *string
	)
	err := q.QueryRow(ctx, runLeaseGetSQL, lease.RunID).Scan(&epoch, &status, &leaseHolder)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return epoch == lease.Epoch && str(leaseHolder) == holder && slices.Contains(statuses, klaxontype.RunStatus(status)), nil
}
