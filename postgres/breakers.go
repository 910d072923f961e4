package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// BreakerTrip opens a workflow's breaker until a time.
func (s *Store) BreakerTrip(ctx context.Context, params *store.BreakerTripParams) (bool, error) {
	if params.Workflow == "" || params.Reason == "" || params.Actor == "" {
		return false, fmt.Errorf("%w: tripping a breaker needs a workflow, a reason and an actor", klaxontype.ErrInvalid)
	}
	opened := false
	err := s.transact(ctx, func(ctx context.Context, tx pgx.Tx) error {
		t := now()
		// The upsert decides, on the row it locks, whether this trip opens the
		// breaker: of concurrent trips of a closed breaker, one opens it and
		// notifies; the others find it open and extend it.
		rows, err := tx.Query(ctx, breakerOpenSQL, params.Workflow, params.Reason, t, params.Until, params.Actor)
		if err != nil {
			return err
		}
		row, err := pgx.CollectOneRow(rows, pgx.RowToAddrOfStructByName[breakerRow])
		if errors.Is(err, pgx.ErrNoRows) {
			opened = false
			_, err := tx.Exec(ctx, breakerExtendSQL, params.Workflow, params.Reason, params.Until, params.Actor)
			return err
		}
		if err != nil {
			return err
		}
		opened = true
		if len(params.Channels) > 0 {
			payload, err := json.Marshal(row.breaker(t))
			if err != nil {
				return err
			}
			for _, channel := range params.Channels {
				if _, err := tx.Exec(ctx, outboxInsertBreakerSQL, channel, t, string(payload)); err != nil {
					return err
				}
			}
		}
		if params.RunID == "" {
			return nil
		}
		return insertEvent(ctx, tx, &klaxontype.Event{
			RunID: params.RunID, Type: klaxontype.EventBreakerTripped, Actor: params.Actor, At: t,
			Message: fmt.Sprintf("breaker of %s open until %s: %s", params.Workflow, params.Until.UTC().Format("2006-01-02T15:04:05Z"), params.Reason),
		})
	})
	return opened, err
}

// BreakerReset closes an open breaker.
func (s *Store) BreakerReset(ctx context.Context, params *store.BreakerResetParams) error {
	if params.Actor == "" {
		return fmt.Errorf("%w: resetting a breaker needs an actor", klaxontype.ErrInvalid)
	}
	return s.transact(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, breakerResetSQL, params.Workflow, now(), params.Actor)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("no open breaker for workflow %q: %w", params.Workflow, klaxontype.ErrNotFound)
		}
		// The workflow's runs are claimable again: idle workers of every
		// process wake instead of waiting for their next poll.
		return notifyRuns(ctx, tx, params.Workflow)
	})
}

// BreakerList returns every breaker that ever tripped.
func (s *Store) BreakerList(ctx context.Context) ([]*klaxontype.Breaker, error) {
	breakers := []*klaxontype.Breaker{}
	err := s.read(ctx, func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, breakerListSQL)
		if err != nil {
			return err
		}
		rowsOf, err := pgx.CollectRows(rows, pgx.RowToAddrOfStructByName[breakerRow])
		if err != nil {
			return err
		}
		t := now()
		breakers = make([]*klaxontype.Breaker, len(rowsOf))
		for i, r := range rowsOf {
			breakers[i] = r.breaker(t)
		}
		return nil
	})
	return breakers, err
}
