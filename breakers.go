package klaxon

import (
	"context"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// Breakers lists every workflow breaker that ever tripped; Open says which
// still hold their workflow's runs.
func (c *Client) Breakers(ctx context.Context) ([]*klaxontype.Breaker, error) {
	return c.store.BreakerList(ctx)
}

// ResetBreaker closes a workflow's open breaker: its waiting runs are claimed
// again at once.
func (c *Client) ResetBreaker(ctx context.Context, workflow, actor string) error {
	if err := c.store.BreakerReset(ctx, &store.BreakerResetParams{Workflow: workflow, Actor: actorOr(actor)}); err != nil {
		return err
	}
	c.wakeWorker()
	return nil
}
