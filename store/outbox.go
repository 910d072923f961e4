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
// channel.
type OutboxChannel struct {
	Channel string                      `json:"channel"`
	Kind    klaxontype.NotificationKind `json:"kind"`
	Pending int                         `json:"pending"`
	// Oldest is when the oldest of them was queued.
	Oldest time.Time `json:"oldest"`
	// Attempted counts those tried at least once; MaxAttempts is the most
	// tries of any.
	Attempted   int `json:"attempted"`
	MaxAttempts int `json:"max_attempts"`
	// LastError is the error of the most recently queued one that failed;
	// empty when none has failed yet.
	LastError string `json:"last_error,omitempty"`
}
