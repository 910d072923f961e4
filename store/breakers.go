package store

import (
	"context"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// BreakerTallyParams selects what a workflow's breaker judges. A zero time
// leaves its part of the tally out, at no cost.
type BreakerTallyParams struct {
	Workflow string
	// AttemptsSince starts the window of the retry-storm breaker: attempts
	// that ended at or after it are counted.
	AttemptsSince time.Time
	// SpendSince starts the window of the spend-rate limit: spend recorded
	// at or after it is summed.
	SpendSince time.Time
}

// BreakerTally is a workflow's recent attempts and spend, from every worker.
//
// An attempt is counted when it ended as a worker's breaker watch counts it:
// a failed attempt is one in the attempt history (retried, or the last one of
// a run that went dead), by the time its worker recorded; a successful one is
// a run that completed, by the time it finished. The attempts of a worker
// whose lease ran out (recorded when the run is reclaimed) are not counted:
// no worker saw them end. Spend is what checkpointed steps recorded, by the
// time each step finished, and what failed attempts recorded with their
// failure.
type BreakerTally struct {
	// Attempts counts the attempts that ended since AttemptsSince, failed or
	// not; Failed counts those that failed.
	Attempts int
	Failed   int
	// Cost sums the spend since SpendSince; Unknown when any of it had no
	// price, USD then summing the known part.
	Cost klaxontype.Cost
}

// Breakers are the per-workflow retry-storm breakers, shared by every worker
// of the store.
type Breakers interface {
	// BreakerTrip opens a workflow's breaker until a time, recording a
	// breaker.tripped event on the run that tripped it. Tripping an open
	// breaker extends it; opened reports whether it was closed before.
	BreakerTrip(ctx context.Context, params *BreakerTripParams) (opened bool, err error)
	// BreakerReset closes an open breaker; klaxontype.ErrNotFound when it is
	// not open.
	BreakerReset(ctx context.Context, params *BreakerResetParams) error
	// BreakerList returns every breaker that ever tripped, by workflow, with
	// Open true for those still open.
	BreakerList(ctx context.Context) ([]*klaxontype.Breaker, error)
	// BreakerTally counts a workflow's attempts that ended, and sums its
	// spend, since the times given, across every worker of the store: what
	// the workflow's breaker judges. Only what happened after the breaker
	// last opened counts, so that a breaker that was reset is not tripped
	// again by the history that tripped it.
	BreakerTally(ctx context.Context, params *BreakerTallyParams) (*BreakerTally, error)
}

// BreakerTripParams opens a breaker.
type BreakerTripParams struct {
	Workflow string
	Reason   string
	Until    time.Time
	Actor    string
	// RunID is the run whose attempt tripped the breaker.
	RunID string
	// Channels are notified, through the outbox, when the breaker opens.
	Channels []string
}

// BreakerResetParams closes a breaker.
type BreakerResetParams struct {
	Workflow string
	Actor    string
}
