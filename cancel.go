package klaxon

import (
	"context"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// Cancel stops a run for good and returns it, cancelled. A pending or
// retrying run is never claimed again. A running run loses its lease at once:
// this client's worker stops executing it at once, a worker in another
// process at its next checkpoint or heartbeat; either cancels the context of
// the workflow and its steps and records nothing more (late writes appear in
// the event log as duplicate.suppressed). The run is not retried or dead-lettered, and the
// compensations of its completed steps are not run. Reason and actor are
// recorded on the run's failure (class cancelled) and its run.cancelled
// event; actor defaults to "client".
//
// A run that has ended, or is compensating (it ends in the dead-letter
// queue, where it can be discarded), is refused with an error matching
// klaxontype.ErrRunNotCancellable; an unknown run with klaxontype.ErrNotFound.
func (c *Client) Cancel(ctx context.Context, runID, reason, actor string) (*klaxontype.Run, error) {
	run, err := c.store.RunCancel(ctx, &store.RunCancelParams{ID: runID, Reason: reason, Actor: actorOr(actor)})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	worker := c.worker
	c.mu.Unlock()
	if worker != nil {
		// This process's worker need not wait for its next heartbeat.
		worker.StopCancelled(runID)
	}
	return run, nil
}
