package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// reclaimedRow is a run taken over from a holder whose lease expired.
type reclaimedRow struct {
	runRow
	OldHolder      *string `db:"old_holder"`
	OldAttempt     int     `db:"old_attempt"`
	ReclaimMessage *string `db:"reclaim_message"`
}

// RunsClaim takes runs whose lease expired first, then available runs, and
// reads their step logs: three statements in one round trip, one implicit
// transaction. Rows another worker is claiming are skipped, not waited for.
func (s *Store) RunsClaim(ctx context.Context, params *store.RunsClaimParams) ([]*store.ClaimedRun, error) {
	if params.Holder == "" || params.Limit <= 0 || params.LeaseDuration <= 0 {
		return nil, errors.New("postgres: a claim needs a holder, a positive limit and a lease duration")
	}
	if s.isClosed() {
		return nil, klaxontype.ErrClosed
	}
	workflows := params.Workflows
	if workflows == nil {
		workflows = []string{}
	}
	var claimed []*store.ClaimedRun
	// The claim commits at the end of the batch: a caller that stops waiting
	// then would strand the runs until their leases expire, so it ignores
	// cancellation once sent.
	err := s.retry(ctx, func(ctx context.Context) error {
		claimed = claimed[:0]
		t := now()
		expires := t.Add(params.LeaseDuration)
		b := &pgx.Batch{}
		b.Queue(runsReclaimExpiredSQL, params.Holder, expires, t, workflows, params.Limit).Query(func(rows pgx.Rows) error {
			taken, err := pgx.CollectRows(rows, pgx.RowToAddrOfStructByName[reclaimedRow])
			if err != nil {
				return err
			}
			for _, row := range taken {
				run, err := row.run(s.keys)
				if err != nil {
					return err
				}
				claimed = append(claimed, &store.ClaimedRun{Run: run, Reclaimed: row.OldHolder != nil})
			}
			return nil
		})
		b.Queue(runsClaimAvailableSQL, params.Holder, expires, t, workflows, params.Limit).Query(func(rows pgx.Rows) error {
			runs, err := opener{s.keys}.collectRuns(rows, nil)
			for _, run := range runs {
				claimed = append(claimed, &store.ClaimedRun{Run: run})
			}
			return err
		})
		b.Queue(stepsOfClaimedSQL, params.Holder, expires).Query(func(rows pgx.Rows) error {
			steps, err := opener{s.keys}.collectSteps(rows, nil)
			if err != nil {
				return err
			}
			byID := make(map[string]*store.ClaimedRun, len(claimed))
			for _, c := range claimed {
				byID[c.Run.ID] = c
			}
			for _, step := range steps {
				if c := byID[step.RunID]; c != nil {
					c.Steps = append(c.Steps, step)
				}
			}
			return nil
		})
		return s.pool.SendBatch(context.WithoutCancel(ctx), b).Close()
	})
	if err != nil || len(claimed) == 0 {
		return nil, err
	}
	return claimed, nil
}
