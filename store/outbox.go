package store

import (
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
	// a *klaxontype.Breaker or a *klaxontype.AlertNotification (each as it
	// was when the notification was written).
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
