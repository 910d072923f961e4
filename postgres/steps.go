package postgres

import (
	"context"
	"errors"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// StepList returns a run's step log by sequence.
func (s *Store) StepList(ctx context.Context, runID string) ([]*klaxontype.StepRecord, error) {
	var steps []*klaxontype.StepRecord
	err := s.read(ctx, func(ctx context.Context, q querier) (err error) {
		steps, err = opener{s.keys}.collectSteps(q.Query(ctx, stepListSQL, runID))
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
