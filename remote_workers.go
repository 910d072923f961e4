package klaxon

import (
	"context"
	"errors"
	"fmt"

	"github.com/klaxonhq/klaxon/internal/engine"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/protocol"
)

// RemoteWorkers serves the worker protocol (docs/worker-protocol.md): it
// lets processes in any language host workflows, under the same rules as
// this package's workers — fencing, the step log, retries, routing,
// manifests, budgets, breakers and compensation — applied by the engine in
// this process over the client's store. The HTTP server exposes it under
// /api/v1/worker/. Each call stands alone, so any number of processes may
// serve the workers of one database.
type RemoteWorkers struct {
	remote *engine.Remote
}

// RemoteWorkersConfig configures RemoteWorkers.
type RemoteWorkersConfig struct {
	// Price prices a model call a worker reports: the same table as package
	// llm's (llm.DefaultPrices().Cost). Nil leaves every cost unknown, so a
	// cost budget stops a run at its first model call.
	Price func(provider, model string, usage klaxontype.TokenUsage) klaxontype.Cost
}

// RemoteWorkers returns the client's side of the worker protocol. The
// client's configuration applies to the runs remote workers execute: its
// classification rules, routes, hooks (metrics, traces) and breaker
// settings. Enqueues through the client wake its waiting claims at once.
func (c *Client) RemoteWorkers(config RemoteWorkersConfig) (*RemoteWorkers, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.remote != nil {
		return c.remote, nil
	}
	remote, err := engine.NewRemote(engine.RemoteConfig{
		Store: c.store, Classifier: classifier(c.config.ClassifyRules), Routes: c.config.Routes,
		NewID: newID, Logger: c.config.Logger, OnStep: c.config.OnStep, OnAttempt: c.config.OnAttempt,
		OnSpend: c.config.OnSpend, OnBreaker: c.config.OnBreaker, Tracer: c.tracer(),
		BreakerCheckInterval: c.config.BreakerCheckInterval,
		Price:                config.Price, CheckSchema: checkAgainstSchema, Children: childStarter{c},
		OnDeadLetter: func(string, string) {
			if c.delivery != nil {
				c.delivery.Wake()
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("klaxon: %w", err)
	}
	c.remote = &RemoteWorkers{remote: remote}
	return c.remote, nil
}

// Register records a worker's workflows.
func (r *RemoteWorkers) Register(ctx context.Context, request *protocol.RegisterRequest) (*protocol.RegisterAnswer, error) {
	answer, err := r.remote.Register(ctx, request)
	return answer, remoteErr(err)
}

// Claim takes runs for a worker, waiting for one up to the request's wait.
func (r *RemoteWorkers) Claim(ctx context.Context, request *protocol.ClaimRequest) (*protocol.ClaimAnswer, error) {
	answer, err := r.remote.Claim(ctx, request)
	return answer, remoteErr(err)
}

// Heartbeat renews a worker's leases and names those it lost.
func (r *RemoteWorkers) Heartbeat(ctx context.Context, request *protocol.HeartbeatRequest) (*protocol.HeartbeatAnswer, error) {
	answer, err := r.remote.Heartbeat(ctx, request)
	return answer, remoteErr(err)
}

// Checkpoint records a step a worker completed.
func (r *RemoteWorkers) Checkpoint(ctx context.Context, runID string, seq int, request *protocol.CheckpointRequest) (*protocol.CheckpointAnswer, error) {
	answer, err := r.remote.Checkpoint(ctx, runID, seq, request)
	return answer, remoteErr(err)
}

// Outcome settles an attempt a worker reports the end of.
func (r *RemoteWorkers) Outcome(ctx context.Context, runID string, request *protocol.OutcomeRequest) (*protocol.OutcomeAnswer, error) {
	answer, err := r.remote.Outcome(ctx, runID, request)
	return answer, remoteErr(err)
}

// Wait runs a durable wait a worker's workflow reached: its result, its
// timeout, or the run given up to it, waiting.
func (r *RemoteWorkers) Wait(ctx context.Context, runID string, seq int, request *protocol.WaitRequest) (*protocol.WaitAnswer, error) {
	answer, err := r.remote.Wait(ctx, runID, seq, request)
	return answer, remoteErr(err)
}

// ChildStart starts a child run from a worker's step.
func (r *RemoteWorkers) ChildStart(ctx context.Context, runID string, seq int, request *protocol.ChildStartRequest) (*protocol.ChildStartAnswer, error) {
	answer, err := r.remote.ChildStart(ctx, runID, seq, request)
	return answer, remoteErr(err)
}

// ChildAwait awaits child runs a worker's workflow started: their outputs,
// the failure of one, or the run given up to them, waiting.
func (r *RemoteWorkers) ChildAwait(ctx context.Context, runID string, seq int, request *protocol.ChildAwaitRequest) (*protocol.ChildAwaitAnswer, error) {
	answer, err := r.remote.ChildAwait(ctx, runID, seq, request)
	return answer, remoteErr(err)
}

// Compensation records a compensation a worker ran.
func (r *RemoteWorkers) Compensation(ctx context.Context, runID string, seq int, request *protocol.CompensationRequest) (bool, error) {
	recorded, err := r.remote.Compensation(ctx, runID, seq, request)
	return recorded, remoteErr(err)
}

// Release gives a held run back to the queue.
func (r *RemoteWorkers) Release(ctx context.Context, runID string, request *protocol.ReleaseRequest) error {
	return remoteErr(r.remote.Release(ctx, runID, request))
}

// Wake makes waiting claims look for runs now.
func (r *RemoteWorkers) Wake() { r.remote.Wake() }

// remoteErr gives the engine's errors the root package's types.
func remoteErr(err error) error {
	var unknown *engine.UnknownWorkflowError
	if errors.As(err, &unknown) {
		return &UnknownWorkflowError{Name: unknown.Name}
	}
	return err
}
