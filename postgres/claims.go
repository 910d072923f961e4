package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// reclaimedRow is a run taken over from a holder whose lease expired.
type reclaimedRow struct {
	runRow
	OldHolder    *string    `db:"old_holder"`
	OldExpiresAt *time.Time `db:"old_expires_at"`
	OldAttempt   int        `db:"old_attempt"`
}

// RunsClaim takes runs whose lease expired first, then available runs, in one
// transaction; rows another worker is claiming are skipped, not waited for.
func (s *Store) RunsClaim(ctx context.Context, params *store.RunsClaimParams) ([]*store.ClaimedRun, error) {
	if params.Holder == "" || params.Limit <= 0 || params.LeaseDuration <= 0 {
		return nil, errors.New("postgres: a claim needs a holder, a positive limit and a lease duration")
	}
	workflows := params.Workflows
	if workflows == nil {
		workflows = []string{}
	}
	var claimed []*store.ClaimedRun
	err := s.transact(ctx, func(ctx context.Context, tx pgx.Tx) error {
		claimed = claimed[:0]
		t := now()
		expires := t.Add(params.LeaseDuration)
		reclaimed, err := reclaimExpired(ctx, tx, params, workflows, t, expires)
		if err != nil {
			return err
		}
		claimed = append(claimed, reclaimed...)
		if remaining := params.Limit - len(claimed); remaining > 0 {
			runs, err := collectRuns(tx.Query(ctx, runsClaimAvailableSQL, params.Holder, expires, t, workflows, remaining))
			if err != nil {
				return err
			}
			ids := make([]string, 0, len(runs))
			messages := make([]string, 0, len(runs))
			for _, run := range runs {
				claimed = append(claimed, &store.ClaimedRun{Run: run})
				ids = append(ids, run.ID)
				messages = append(messages, fmt.Sprintf("attempt %d, epoch %d", run.Attempt, run.Epoch))
			}
			if len(ids) > 0 {
				_, err := tx.Exec(ctx, eventsInsertManySQL, ids, messages, string(klaxontype.EventRunClaimed), params.Holder, t)
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil || len(claimed) == 0 {
		return nil, err
	}
	// Only the holder writes a held run's steps, so reading the logs after the
	// claim committed sees exactly what the claim would have. The claim is
	// committed: a caller that stops waiting now would strand the runs until
	// their leases expire, so the read ignores cancellation.
	if err := s.attachStepLogs(context.WithoutCancel(ctx), claimed); err != nil {
		return nil, err
	}
	return claimed, nil
}

// attachStepLogs reads the step logs of claimed runs in one query.
func (s *Store) attachStepLogs(ctx context.Context, claimed []*store.ClaimedRun) error {
	byID := make(map[string]*store.ClaimedRun, len(claimed))
	ids := make([]string, 0, len(claimed))
	for _, c := range claimed {
		byID[c.Run.ID] = c
		ids = append(ids, c.Run.ID)
		c.Steps = nil
	}
	return s.read(ctx, func(ctx context.Context, q querier) error {
		steps, err := collectSteps(q.Query(ctx, stepsOfRunsSQL, ids))
		if err != nil {
			return err
		}
		for _, c := range claimed {
			c.Steps = nil
		}
		for _, step := range steps {
			c := byID[step.RunID]
			c.Steps = append(c.Steps, step)
		}
		return nil
	})
}

// reclaimExpired takes over runs whose lease expired. A run whose holder
// vanished gets the lost attempt in its history and a lease.reclaimed event; a
// compensating run released on shutdown (no holder) is simply claimed.
func reclaimExpired(ctx context.Context, tx pgx.Tx, params *store.RunsClaimParams, workflows []string, t, expires time.Time) ([]*store.ClaimedRun, error) {
	rows, err := tx.Query(ctx, runsReclaimExpiredSQL, params.Holder, expires, t, workflows, params.Limit)
	if err != nil {
		return nil, err
	}
	taken, err := pgx.CollectRows(rows, pgx.RowToAddrOfStructByName[reclaimedRow])
	if err != nil {
		return nil, err
	}
	claimed := make([]*store.ClaimedRun, 0, len(taken))
	for _, row := range taken {
		run := row.run()
		if row.OldHolder == nil {
			claimed = append(claimed, &store.ClaimedRun{Run: run})
			continue
		}
		message := fmt.Sprintf("lease of %s expired at %s without a heartbeat; the worker died or hung",
			*row.OldHolder, utc(row.OldExpiresAt).Format(time.RFC3339Nano))
		err := insertAttempt(ctx, tx, &klaxontype.Attempt{
			RunID: run.ID, Attempt: row.OldAttempt, At: t, Worker: *row.OldHolder,
			Class: klaxontype.ClassTransient, Message: message, ClassifiedBy: "lease",
		})
		if err != nil {
			return nil, err
		}
		err = insertEvent(ctx, tx, &klaxontype.Event{
			RunID: run.ID, Type: klaxontype.EventLeaseReclaimed, Actor: params.Holder, At: t,
			Message: fmt.Sprintf("%s; now attempt %d, epoch %d", message, run.Attempt, run.Epoch),
		})
		if err != nil {
			return nil, err
		}
		claimed = append(claimed, &store.ClaimedRun{Run: run, Reclaimed: true})
	}
	return claimed, nil
}
