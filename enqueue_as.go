package klaxon

import (
	"context"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// EnqueueAs is Enqueue on behalf of someone: actor (a person, or the name of
// the HTTP API token that asked) is recorded on the run.enqueued event instead
// of "client". Like Enqueue it needs no workflow code: a workflow some worker
// registered in the store is enough. The input is then checked against the
// input schema the worker recorded (an *InputError wrapping
// klaxontype.ErrInvalid names every path that does not fit), or only has to
// be JSON when it recorded none.
func (c *Client) EnqueueAs(ctx context.Context, actor, workflow string, input []byte, opts ...EnqueueOption) (*EnqueueResult, error) {
	var options enqueueOptions
	for _, opt := range opts {
		opt(&options)
	}
	if len(input) == 0 {
		input = []byte("null")
	}
	if options.priority != nil {
		if err := klaxontype.CheckPriority(*options.priority); err != nil {
			return nil, fmt.Errorf("klaxon: enqueue %s: %w", workflow, err)
		}
	}
	defaults, err := c.checkEnqueue(ctx, workflow, input)
	if err != nil {
		return nil, err
	}
	priority := defaults.priority
	if options.priority != nil {
		priority = *options.priority
	}
	params := &store.RunEnqueueParams{
		ID: newID(), Workflow: workflow, WorkflowVersion: defaults.version, Input: input,
		IdempotencyKey: options.idempotencyKey, Entities: options.entities, Actor: actorOr(actor),
		Budget: options.budget, Audit: options.audited, Priority: priority,
	}
	if options.delay > 0 {
		params.AvailableAt = time.Now().Add(options.delay)
	}
	run, created, err := c.store.RunEnqueue(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("klaxon: enqueue %s: %w", workflow, err)
	}
	if created && options.delay <= 0 {
		c.wakeWorker()
	}
	return &EnqueueResult{Run: run, Deduplicated: !created}, nil
}
