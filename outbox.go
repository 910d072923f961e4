package klaxon

import (
	"context"

	"github.com/klaxonhq/klaxon/store"
)

// PendingNotifications sums up the outbox: the dead-letter, breaker and
// alert notifications not yet delivered nor given up, by channel and kind.
// Notifications pile up on a channel that no running process delivers.
func (c *Client) PendingNotifications(ctx context.Context) ([]*store.OutboxChannel, error) {
	return c.store.OutboxPending(ctx)
}

// GiveUpNotifications gives up the pending notifications of a channel that
// no deliverer holds at the moment, keeping who gave them up and why as their
// last error, and returns how many. For a channel nobody will deliver any
// more: a removed webhook or alert target.
func (c *Client) GiveUpNotifications(ctx context.Context, channel, reason, actor string) (int, error) {
	return c.store.OutboxGiveUp(ctx, &store.OutboxGiveUpParams{Channel: channel, Reason: reason, Actor: actorOr(actor)})
}
