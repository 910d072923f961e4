package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// LeasesExtend renews a holder's leases and reports the ones it lost. Leases
// whose rows are locked by a write in flight are tried again a few
// milliseconds later, until renewed or lost.
func (s *Store) LeasesExtend(ctx context.Context, params *store.LeasesExtendParams) ([]string, error) {
	if len(params.Leases) == 0 {
		return nil, nil
	}
	// Rows are locked in ID order, as every other multi-run write locks them.
	pending := slices.Clone(params.Leases)
	slices.SortFunc(pending, func(a, b store.Lease) int { return compareStrings(a.RunID, b.RunID) })
	var lost []string
	for try := 0; len(pending) > 0; try++ {
		if try > 0 {
			select {
			case <-time.After(time.Duration(min(try, 20)) * time.Millisecond):
			case <-ctx.Done():
				return lost, ctx.Err()
			}
		}
		ids := make([]string, len(pending))
		epochs := make([]int64, len(pending))
		for i, lease := range pending {
			ids[i], epochs[i] = lease.RunID, lease.Epoch
		}
		var skipped, lostNow []string
		err := s.transact(ctx, func(ctx context.Context, tx pgx.Tx) error {
			skipped, lostNow = skipped[:0], lostNow[:0]
			t := now()
			rows, err := tx.Query(ctx, runsLeaseExtendSQL, ids, epochs, params.Holder, t.Add(params.Duration), t)
			if err != nil {
				return err
			}
			var id string
			var isLost bool
			_, err = pgx.ForEachRow(rows, []any{&id, &isLost}, func() error {
				if isLost {
					lostNow = append(lostNow, id)
				} else {
					skipped = append(skipped, id)
				}
				return nil
			})
			return err
		})
		if err != nil {
			return lost, err
		}
		lost = append(lost, lostNow...)
		pending = slices.DeleteFunc(pending, func(l store.Lease) bool { return !slices.Contains(skipped, l.RunID) })
	}
	return lost, nil
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
	var workflow string
	err := s.writers.writeFunc(ctx, func(ctx context.Context, tx pgx.Tx) error {
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
		workflow = workflows[0]
		return insertEvent(ctx, tx, &klaxontype.Event{
			RunID: params.RunID, Type: klaxontype.EventLeaseReleased, Actor: params.Holder, At: t,
			Message: "worker stopping; the run is available to other workers",
		})
	})
	if err == nil {
		s.notifier.announce(workflow)
	}
	return err
}
