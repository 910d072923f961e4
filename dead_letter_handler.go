package klaxon

import (
	"context"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// DeadLetterHandler is told of every dead-letter entry routed to its channel.
// Notifications go through an outbox in the store, so a crash between a run's
// death and its notification does not lose it: delivery is at least once, and
// a handler that must act once should key on the entry ID.
type DeadLetterHandler interface {
	HandleDeadLetter(ctx context.Context, entry *klaxontype.DeadLetter) error
}

// BreakerHandler is a DeadLetterHandler that is also told when a workflow's
// breaker opens (a retry storm goes to the channel of transient failures, a
// spend rate to that of budget_exceeded). A channel's handler that does not
// implement it is not told.
type BreakerHandler interface {
	HandleBreaker(ctx context.Context, breaker *klaxontype.Breaker) error
}

// ApprovalHandler is a DeadLetterHandler that is also told when a run asks
// a person for a decision (AwaitApproval): register it on the channel
// "approvals". A channel's handler that does not implement it is not told.
type ApprovalHandler interface {
	HandleApproval(ctx context.Context, request *klaxontype.ApprovalNotification) error
}

// DeadLetterHandlerFunc is a Go callback as a DeadLetterHandler.
type DeadLetterHandlerFunc func(ctx context.Context, entry *klaxontype.DeadLetter) error

// HandleDeadLetter calls f.
func (f DeadLetterHandlerFunc) HandleDeadLetter(ctx context.Context, entry *klaxontype.DeadLetter) error {
	return f(ctx, entry)
}
