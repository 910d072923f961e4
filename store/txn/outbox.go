package txn

import (
	"context"
	"fmt"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// OutboxGiveUp gives up the pending notifications of a channel that no
// deliverer holds at the moment, keeping who gave them up and why as their
// last error, and counts them.
func (r Rules) OutboxGiveUp(ctx context.Context, params *store.OutboxGiveUpParams) (int, error) {
	if err := store.CheckOutboxGiveUp(params); err != nil {
		return 0, err
	}
	var given int
	err := r.transact(ctx, func(ctx context.Context, tx Tx) (err error) {
		t := r.now()
		given, err = tx.OutboxGiveUp(ctx, params.Channel, store.OutboxGiveUpError(params), t)
		if err != nil {
			return fmt.Errorf("give up the notifications of channel %s: %w", params.Channel, err)
		}
		return audit(ctx, tx, t, params.Actor, klaxontype.AuditOutboxGiveUp, params.Channel, map[string]any{
			"reason": params.Reason,
		}, fmt.Sprintf("gave up %d notifications", given))
	})
	if err != nil {
		return 0, err
	}
	return given, nil
}
