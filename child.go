package klaxon

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/internal/engine"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// ErrChildFailed is the condition, matched with errors.Is, of an await of a
// child run that ended dead or cancelled; errors.As gives the
// *klaxontype.ChildError, with the child's ID, class and reason.
var ErrChildFailed = klaxontype.ErrChildFailed

// ChildOption configures a child run.
type ChildOption func(*childOptions)

type childOptions struct {
	timeout time.Duration
}

// ChildTimeout bounds how long the parent awaits the child, from when it
// first reaches the await; default DefaultWaitTimeout. Past it the await
// fails with an error matching ErrWaitTimedOut; the child goes on.
func ChildTimeout(d time.Duration) ChildOption {
	return func(o *childOptions) { o.timeout = d }
}

// ChildRun is a child run started by StartChild, to await later.
type ChildRun[O any] struct {
	name    string
	timeout time.Duration
	started *Future[childStarted]
}

// childStarted is the output of a child's start step in the parent's step
// log: the durable link to the child.
type childStarted struct {
	RunID    string `json:"run_id"`
	Workflow string `json:"workflow"`
}

// StartChild starts a run of another workflow, a child of the run ctx
// belongs to, and returns a handle to await it with. The start is a step
// named name: it takes its sequence number when StartChild is called, in
// program order, and records the child's run ID in the step log, so a
// retried or taken-over parent finds its child instead of starting another
// (the child's enqueue idempotency key is derived from the step's). Start
// many, then await them with AwaitChildren, for fan-out and fan-in.
//
// The workflow is named like Client.Enqueue's, registered with this client or
// by any worker of the store; an unknown workflow or an input that does not
// fit fails the step permanently and starts nothing. Cancelling the parent
// cancels its open children.
func StartChild[O any](ctx context.Context, name, workflow string, input any, opts ...ChildOption) *ChildRun[O] {
	var options childOptions
	for _, opt := range opts {
		opt(&options)
	}
	child := &ChildRun[O]{name: name, timeout: options.timeout}
	child.started = Go(ctx, name, func(ctx context.Context) (childStarted, error) {
		encoded, err := json.Marshal(input)
		if err != nil {
			return childStarted{}, Permanent(fmt.Errorf("child %q: encode its input: %w", name, err))
		}
		run, err := engine.ChildStart(ctx, workflow, encoded)
		if err != nil {
			return childStarted{}, err
		}
		traceChildStarted(ctx, run)
		return childStarted{RunID: run.ID, Workflow: run.Workflow}, nil
	})
	return child
}

// RunID returns the child's run ID once its start step ended, or its error.
func (c *ChildRun[O]) RunID() (string, error) {
	started, err := c.started.Await()
	return started.RunID, err
}

// Await waits durably for the child to end and returns its output: the run
// holds no worker meanwhile, and is woken when the child ends. The await is
// a step named like the start, after it in the step log. A child that ends
// dead or cancelled fails the step with the child's class and a reason
// naming it (ErrChildFailed); once the child is resolved or replayed and
// completes, a parent that died of it resumes. Like Sleep, when the run
// must wait it returns an error that the workflow must return.
func (c *ChildRun[O]) Await(ctx context.Context) (O, error) {
	outputs, err := AwaitChildren(ctx, c)
	if err != nil {
		var zero O
		return zero, err
	}
	return outputs[0], nil
}

// AwaitChildren awaits child runs started by StartChild and returns their
// outputs in the order given. Every await takes its sequence number before
// any is looked at, so the run goes waiting once on all the children still
// running, and is woken once the last of them ended, or at once when one
// failed: a fan-in over hundreds of children replays the parent a few times,
// not once per child. The first child that failed, in the order given, fails
// the parent's step.
func AwaitChildren[O any](ctx context.Context, children ...*ChildRun[O]) ([]O, error) {
	awaits := make([]engine.ChildAwait, len(children))
	codes := make([]*waitCode[O], len(children))
	for i, child := range children {
		started, err := child.started.Await()
		if err != nil {
			return nil, err
		}
		codes[i] = &waitCode[O]{schema: outputSchema[O]}
		awaits[i] = engine.ChildAwait{Name: child.name, ChildRunID: started.RunID, Timeout: child.timeout, Code: codes[i]}
	}
	if _, err := engine.AwaitChildren(ctx, awaits); err != nil {
		return nil, err
	}
	outputs := make([]O, len(children))
	for i, code := range codes {
		outputs[i] = code.out
	}
	return outputs, nil
}

// Child starts a run of another workflow and awaits its output: StartChild
// then Await.
func Child[O any](ctx context.Context, name, workflow string, input any, opts ...ChildOption) (O, error) {
	return StartChild[O](ctx, name, workflow, input, opts...).Await(ctx)
}

// childStarter starts and reads child runs for the engine, with the
// client's knowledge of workflows and their inputs.
type childStarter struct{ c *Client }

func (s childStarter) ChildStart(ctx context.Context, params *store.RunEnqueueParams) (*klaxontype.Run, error) {
	// A child takes its own workflow's default priority, not its parent's.
	defaults, err := s.c.checkEnqueue(ctx, params.Workflow, params.Input)
	if err != nil {
		return nil, Permanent(fmt.Errorf("child run of workflow %q: %w", params.Workflow, err))
	}
	params.ID, params.WorkflowVersion, params.Priority = newID(), defaults.version, defaults.priority
	run, created, err := s.c.store.RunEnqueue(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("klaxon: start child run of %s: %w", params.Workflow, err)
	}
	if created {
		s.c.wakeWorker()
	}
	return run, nil
}

func (s childStarter) RunGet(ctx context.Context, id string) (*klaxontype.Run, error) {
	return s.c.store.RunGet(ctx, id)
}

// RunFamily returns a run's parent, when it is a child run, and the child
// runs its steps started, with their statuses.
func (c *Client) RunFamily(ctx context.Context, runID string) (*klaxontype.RunFamily, error) {
	return c.store.RunFamily(ctx, runID)
}
