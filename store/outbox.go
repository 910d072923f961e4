package store

import (
	"context"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// OutboxMessage is a claimed notification: its delivery record, what kind of
// news it carries, and that news. One type for every kind, so that a
// dispatcher claims, settles and retries them all alike and only the code
// that finally delivers one looks inside.
type OutboxMessage struct {
	Delivery *klaxontype.Delivery
	Kind     klaxontype.NotificationKind
	// Payload is what the notification tells, as its Kind says: a
	// *klaxontype.DeadLetter (the entry with its attempts, as of the claim),
	// a *klaxontype.Breaker, a *klaxontype.AlertNotification or a
	// *klaxontype.ApprovalNotification (each as it was when the
	// notification was written).
	Payload any
}

// OutboxChannel sums up the pending notifications of one kind on one
// channel, as OutboxSummarize reads them. It is storage's record, not a wire
// format: the root package turns it into klaxon.OutboxSummary, and the HTTP
// API has its own JSON form of that.
type OutboxChannel struct {
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

// Outbox holds the notifications to deliver, for the dispatchers that
// deliver them and the person who gives a dead channel up.
type Outbox interface {
	// OutboxClaim takes due notifications of the given channels for a while,
	// with their entries, so that one dispatcher delivers each at a time.
	OutboxClaim(ctx context.Context, params *OutboxClaimParams) ([]*OutboxMessage, error)
	// OutboxSettle records the outcome of a delivery attempt; a delivered
	// notification has no last error.
	OutboxSettle(ctx context.Context, params *OutboxSettleParams) error
	// OutboxSummarize summarizes the notifications not yet delivered nor given
	// up, by channel and kind, ordered by channel then kind.
	OutboxSummarize(ctx context.Context) ([]*OutboxChannel, error)
	// OutboxGiveUp gives up the pending notifications of a channel that no
	// deliverer holds at the moment, recording the actor and the reason as
	// their last error, and returns how many.
	OutboxGiveUp(ctx context.Context, params *OutboxGiveUpParams) (int, error)
}

// OutboxClaimParams asks for notifications to deliver.
type OutboxClaimParams struct {
	Holder   string
	Channels []string
	Limit    int
	// Lease is how long the claimed notifications are reserved to Holder.
	Lease time.Duration
}

// OutboxGiveUpParams gives up a channel's pending notifications.
type OutboxGiveUpParams struct {
	Channel string
	Reason  string
	Actor   string
}

// OutboxSettleParams records a delivery attempt.
type OutboxSettleParams struct {
	ID     int64
	Holder string
	// State is delivered, pending (retry at NextAttemptAt) or given_up.
	State         klaxontype.DeliveryState
	NextAttemptAt time.Time
	Error         string
	// NotAttempted gives a claimed notification back without counting an
	// attempt, for a dispatcher that stops before calling the handler.
	NotAttempted bool
}
