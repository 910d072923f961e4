package postgres

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// LeasesExtend renews a holder's leases and reports the ones it lost.
func (s *Store) LeasesExtend(ctx context.Context, params *store.LeasesExtendParams) ([]string, error) {
	if len(params.Leases) == 0 {
		return nil, nil
	}
	// Rows are locked in ID order, as every other multi-run write locks them.
	leases := slices.Clone(params.Leases)
	slices.SortFunc(leases, func(a, b store.Lease) int { return compareStrings(a.RunID, b.RunID) })
	ids := make([]string, len(leases))
	epochs := make([]int64, len(leases))
	for i, lease := range leases {
		ids[i], epochs[i] = lease.RunID, lease.Epoch
	}
	var lost []string
	err := s.writers.writeFunc(ctx, func(ctx context.Context, tx pgx.Tx) error {
		t := now()
		rows, err := tx.Query(ctx, runsLeaseExtendSQL, ids, epochs, params.Holder, t.Add(params.Duration), t)
		if err != nil {
			return err
		}
		renewed, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		lost = lost[:0]
		for _, id := range ids {
			if !slices.Contains(renewed, id) {
				lost = append(lost, id)
			}
		}
		return nil
	})
	return lost, err
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// RunRelease gives a held run back without counting a failed attempt.
func (s *Store) RunRelease(ctx context.Context, params *store.RunReleaseParams) error {
	return s.writers.writeFunc(ctx, func(ctx context.Context, tx pgx.Tx) error {
		t := now()
		rows, err := tx.Query(ctx, runReleaseSQL, params.RunID, params.Epoch, params.Holder, t)
		if err != nil {
			return err
		}
		workflows, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if len(workflows) == 0 {
			return suppress(ctx, tx, params.Lease, params.Holder, "release", "", 0, klaxontype.ErrLeaseLost)
		}
		err = insertEvent(ctx, tx, &klaxontype.Event{
			RunID: params.RunID, Type: klaxontype.EventLeaseReleased, Actor: params.Holder, At: t,
			Message: "worker stopping; the run is available to other workers",
		})
		if err != nil {
			return err
		}
		return notifyRuns(ctx, tx, workflows[0])
	})
}
