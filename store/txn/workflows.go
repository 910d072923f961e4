package txn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// WorkflowRegister records that a worker can execute a workflow, creating or
// updating its entry.
func (r Rules) WorkflowRegister(ctx context.Context, params *store.WorkflowRegisterParams) error {
	if params.Name == "" {
		return errors.New("store: workflow name is empty")
	}
	steps := params.ExpectedSteps
	if steps == nil {
		steps = []string{}
	}
	row := &WorkflowRow{Name: params.Name, Version: params.Version, At: r.now()}
	var err error
	if row.ExpectedSteps, err = json.Marshal(steps); err != nil {
		return err
	}
	if params.Policies != nil {
		if row.Policies, err = json.Marshal(params.Policies); err != nil {
			return err
		}
	}
	if len(params.InputSchema) > 0 {
		row.InputSchema = params.InputSchema
	}
	return r.transact(ctx, func(ctx context.Context, tx Tx) error {
		return tx.WorkflowUpsert(ctx, row)
	})
}

// OutboxSettle records the outcome of a delivery attempt by the holder of the
// notification; a delivery clears the error of an earlier try. A
// notification no longer held is refused with klaxontype.ErrLeaseLost.
func (r Rules) OutboxSettle(ctx context.Context, params *store.OutboxSettleParams) error {
	switch params.State {
	case klaxontype.DeliveryDelivered, klaxontype.DeliveryPending, klaxontype.DeliveryGivenUp:
	default:
		return invalid("delivery state %q", params.State)
	}
	// A delivery error is what a webhook or a chat service answered.
	if storable := store.StorableText(params.Error); storable != params.Error {
		copied := *params
		copied.Error = storable
		params = &copied
	}
	return r.transact(ctx, func(ctx context.Context, tx Tx) error {
		t := r.now()
		next := params.NextAttemptAt
		if next.IsZero() {
			next = t
		}
		// A delivered notification is not failing: an earlier try's error
		// would only mislead (its attempts still say how many tries it took).
		clearError := params.State == klaxontype.DeliveryDelivered
		held, err := tx.OutboxSettle(ctx, params, next, !params.NotAttempted, clearError, t)
		if err != nil {
			return err
		}
		if !held {
			return fmt.Errorf("notification %d is not held by %s: %w", params.ID, params.Holder, klaxontype.ErrLeaseLost)
		}
		return nil
	})
}
