package main

import (
	"context"
	"errors"
	"time"

	"github.com/klaxonhq/klaxon"
	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// storeBackend acts on the database directly, through a client that starts
// no workers.
type storeBackend struct {
	*database
	client *klaxon.Client
}

func (b *storeBackend) Runs(ctx context.Context, params *store.RunListParams) ([]*klaxontype.Run, error) {
	return b.database.RunList(ctx, params)
}

func (b *storeBackend) Run(ctx context.Context, id string) (*runDetail, error) {
	run, err := b.database.RunGet(ctx, id)
	if err != nil {
		return nil, err
	}
	detail := &runDetail{Run: run}
	if detail.Steps, err = b.database.StepList(ctx, run.ID); err != nil {
		return nil, err
	}
	if detail.Attempts, err = b.database.AttemptList(ctx, run.ID); err != nil {
		return nil, err
	}
	if detail.Events, err = b.database.EventList(ctx, run.ID); err != nil {
		return nil, err
	}
	workflows, err := b.database.WorkflowList(ctx)
	if err != nil {
		return nil, err
	}
	detail.Manifest = runManifest(run, workflows, detail.Steps)
	if detail.Waits, err = b.client.Waits(ctx, run.ID); err != nil {
		return nil, err
	}
	if detail.Signals, err = b.client.Signals(ctx, run.ID); err != nil {
		return nil, err
	}
	if detail.Family, err = b.client.RunFamily(ctx, run.ID); err != nil {
		return nil, err
	}
	return detail, nil
}

func (b *storeBackend) Signal(ctx context.Context, runID, name string, payload []byte, key, actor string) (*klaxon.SignalResult, error) {
	return b.client.Signal(ctx, runID, name, payload, actor, klaxon.SignalKey(key))
}

func (b *storeBackend) SignalEntity(ctx context.Context, entityKey, entityValue, name string, payload []byte, key, actor string) ([]*klaxon.SignalResult, error) {
	return b.client.SignalEntity(ctx, entityKey, entityValue, name, payload, actor, klaxon.SignalKey(key))
}

func (b *storeBackend) Approvals(ctx context.Context, limit int) ([]*klaxontype.Wait, error) {
	return b.client.Approvals(ctx, limit)
}

func (b *storeBackend) DecideApproval(ctx context.Context, runID, name string, decision klaxon.Decision, actor string) (*klaxontype.ApprovalDecision, error) {
	return b.client.DecideApproval(ctx, runID, name, decision, actor)
}

func (b *storeBackend) Cancel(ctx context.Context, id, reason, actor string) (*klaxontype.Run, error) {
	return b.client.Cancel(ctx, id, reason, actor)
}

func (b *storeBackend) Enqueue(ctx context.Context, request *enqueueRequest, actor string) (*klaxon.EnqueueResult, error) {
	// A person's enqueue, as through the API: audited.
	opts := []klaxon.EnqueueOption{klaxon.Audited()}
	if request.IdempotencyKey != "" {
		opts = append(opts, klaxon.WithIdempotencyKey(request.IdempotencyKey))
	}
	for key, value := range request.Entities {
		opts = append(opts, klaxon.WithEntity(key, value))
	}
	if request.Priority != nil {
		opts = append(opts, klaxon.WithPriority(*request.Priority))
	}
	result, err := b.client.EnqueueAs(ctx, actor, request.Workflow, request.Input, opts...)
	var unknown *klaxon.UnknownWorkflowError
	if errors.As(err, &unknown) {
		// As a server answers it, so that the command handles one error.
		return nil, errors.Join(klaxontype.ErrNotFound, err)
	}
	if err != nil {
		return nil, err
	}
	return result, nil
}

func (b *storeBackend) Workflows(ctx context.Context) ([]string, error) {
	workflows, err := b.database.WorkflowList(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(workflows))
	for _, workflow := range workflows {
		names = append(names, workflow.Name)
	}
	return names, nil
}

func (b *storeBackend) DeadLetters(ctx context.Context, params *klaxon.DeadLetterFilter) ([]*klaxontype.DeadLetter, error) {
	return b.client.DeadLetters(ctx, params)
}

func (b *storeBackend) DeadLetter(ctx context.Context, id string) (*klaxontype.DeadLetter, error) {
	return b.client.DeadLetter(ctx, id)
}

func (b *storeBackend) PlanReplay(ctx context.Context, id string, options klaxon.ReplayOptions) (*klaxon.ReplayPlan, error) {
	return b.client.PlanReplay(ctx, id, options)
}

func (b *storeBackend) Replay(ctx context.Context, id string, options klaxon.ReplayOptions) (*klaxontype.DeadLetter, error) {
	return b.client.Replay(ctx, id, options)
}

func (b *storeBackend) ReplayMatching(ctx context.Context, params *klaxon.DeadLetterFilter, options klaxon.ReplayOptions, dryRun bool) (*klaxon.BulkReplayResult, error) {
	return b.client.ReplayMatching(ctx, params, options, dryRun)
}

func (b *storeBackend) Resolve(ctx context.Context, id, step string, output []byte, actor string) (*klaxontype.DeadLetter, error) {
	return b.client.Resolve(ctx, id, step, output, actor)
}

func (b *storeBackend) Discard(ctx context.Context, id, reason, actor string) (*klaxontype.DeadLetter, error) {
	return b.client.Discard(ctx, id, reason, actor)
}

func (b *storeBackend) DiscardMatching(ctx context.Context, params *klaxon.DeadLetterFilter, reason, actor string, dryRun bool) (*klaxon.BulkDiscardResult, error) {
	return b.client.DiscardMatching(ctx, params, reason, actor, dryRun)
}

func (b *storeBackend) PurgeDeadLetters(ctx context.Context, params *klaxon.DeadLetterFilter, actor string) (int, error) {
	return b.client.PurgeDeadLetters(ctx, params, actor)
}

func (b *storeBackend) Breakers(ctx context.Context) ([]*klaxontype.Breaker, error) {
	return b.database.BreakerList(ctx)
}

func (b *storeBackend) ResetBreaker(ctx context.Context, workflow, actor string) error {
	return b.client.ResetBreaker(ctx, workflow, actor)
}

func (b *storeBackend) PendingNotifications(ctx context.Context) ([]*klaxon.OutboxSummary, error) {
	return b.client.PendingNotifications(ctx)
}

func (b *storeBackend) GiveUpNotifications(ctx context.Context, channel, reason, actor string) (int, error) {
	return b.client.GiveUpNotifications(ctx, channel, reason, actor)
}

func (b *storeBackend) Alerts(ctx context.Context, state klaxonhttp.AlertStateFilter) ([]*klaxontype.Alert, error) {
	return b.database.AlertList(ctx, klaxonhttp.AlertListParams(state, time.Now()))
}

func (b *storeBackend) Stats(ctx context.Context, query klaxon.StatsQuery) (*klaxontype.Stats, error) {
	return b.client.Stats(ctx, query)
}

func (b *storeBackend) Audit(ctx context.Context, filter *klaxon.AuditFilter) ([]*klaxontype.AuditRecord, error) {
	return b.client.AuditLog(ctx, filter)
}

func (b *storeBackend) Workers(ctx context.Context, limit int) ([]*klaxontype.Worker, error) {
	return b.client.Workers(ctx, limit)
}
