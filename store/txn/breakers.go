package txn

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// BreakerTrip opens a workflow's breaker until a time, notifying its
// channels and recording a breaker.tripped event on the run that tripped it.
// Tripping an open breaker extends it, quietly; opened reports whether it was
// closed before. Of concurrent trips of a closed breaker, one opens it.
func (r Rules) BreakerTrip(ctx context.Context, params *store.BreakerTripParams) (opened bool, err error) {
	if params.Workflow == "" || params.Reason == "" || params.Actor == "" {
		return false, invalid("tripping a breaker needs a workflow, a reason and an actor")
	}
	err = r.transact(ctx, func(ctx context.Context, tx Tx) error {
		t := r.now()
		breaker, err := tx.BreakerOpen(ctx, params, t)
		if err != nil {
			return err
		}
		if opened = breaker != nil; !opened {
			return nil
		}
		if len(params.Channels) > 0 {
			payload, err := json.Marshal(breaker)
			if err != nil {
				return err
			}
			for _, channel := range params.Channels {
				if err := tx.OutboxInsert(ctx, &OutboxInsertParams{Channel: channel, Payload: payload, At: t}); err != nil {
					return err
				}
			}
		}
		if params.RunID == "" {
			return nil
		}
		return tx.EventInsert(ctx, &klaxontype.Event{
			RunID: params.RunID, Type: klaxontype.EventBreakerTripped, Actor: params.Actor, At: t,
			Message: fmt.Sprintf("breaker of %s open until %s: %s", params.Workflow, params.Until.UTC().Format("2006-01-02T15:04:05Z"), params.Reason),
		}, nil)
	})
	if err != nil {
		return false, err
	}
	return opened, nil
}

// BreakerReset closes an open breaker; klaxontype.ErrNotFound when it is not
// open.
func (r Rules) BreakerReset(ctx context.Context, params *store.BreakerResetParams) error {
	if params.Actor == "" {
		return invalid("resetting a breaker needs an actor")
	}
	return r.transact(ctx, func(ctx context.Context, tx Tx) error {
		t := r.now()
		closed, err := tx.BreakerClose(ctx, params, t)
		if err != nil {
			return err
		}
		if !closed {
			return fmt.Errorf("no open breaker for workflow %q: %w", params.Workflow, klaxontype.ErrNotFound)
		}
		if err := audit(ctx, tx, t, params.Actor, klaxontype.AuditBreakerReset, params.Workflow, nil,
			"breaker closed; the workflow's runs are claimable again"); err != nil {
			return err
		}
		// The workflow's runs are claimable again: idle workers wake instead
		// of waiting for their next poll.
		return tx.RunsAvailable(ctx, params.Workflow)
	})
}
