package klaxon

import (
	"context"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// OutboxSummary sums up the pending notifications of one kind on one
// channel: enough to tell a channel nobody delivers (the count and the age
// grow, nothing was tried) from one whose recipient refuses them (tried, with
// an error).
type OutboxSummary struct {
	Channel string
	Kind    klaxontype.NotificationKind
	Pending int
	// Oldest is when the oldest of them was queued.
	Oldest time.Time
	// Attempted counts those tried at least once; MaxAttempts is the most
	// tries of any.
	Attempted   int
	MaxAttempts int
	// LastError is the error of the most recently queued one that failed;
	// empty when none has failed yet.
	LastError string
}

// PendingNotifications sums up the outbox: the dead-letter, breaker and
// alert notifications not yet delivered nor given up, by channel and kind.
// Notifications pile up on a channel that no running process delivers.
func (c *Client) PendingNotifications(ctx context.Context) ([]*OutboxSummary, error) {
	channels, err := c.store.OutboxSummarize(ctx)
	if err != nil {
		return nil, err
	}
	summaries := make([]*OutboxSummary, len(channels))
	for i, channel := range channels {
		summaries[i] = outboxSummaryOf(channel)
	}
	return summaries, nil
}

// outboxSummaryOf is the one place a store's summary becomes the user's, so
// that the store's type can change without the public API noticing.
func outboxSummaryOf(c *store.OutboxChannel) *OutboxSummary {
	return &OutboxSummary{
		Channel: c.Channel, Kind: c.Kind, Pending: c.Pending, Oldest: c.Oldest,
		Attempted: c.Attempted, MaxAttempts: c.MaxAttempts, LastError: c.LastError,
	}
}

// GiveUpNotifications gives up the pending notifications of a channel that
// no deliverer holds at the moment, keeping who gave them up and why as their
// last error, and returns how many. For a channel nobody will deliver any
// more: a removed webhook or alert target.
func (c *Client) GiveUpNotifications(ctx context.Context, channel, reason, actor string) (int, error) {
	return c.store.OutboxGiveUp(ctx, &store.OutboxGiveUpParams{Channel: channel, Reason: reason, Actor: actorOr(actor)})
}
