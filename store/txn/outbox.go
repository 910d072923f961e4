package txn

import (
	"context"
	"fmt"

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
		given, err = tx.OutboxGiveUp(ctx, params.Channel, store.OutboxGiveUpError(params), r.now())
		if err != nil {
			return fmt.Errorf("give up the notifications of channel %s: %w", params.Channel, err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return given, nil
}
