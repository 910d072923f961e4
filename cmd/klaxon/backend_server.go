package main

import (
	"context"
	"encoding/json"

	"github.com/klaxonhq/klaxon"
	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// serverPageSize is the largest page a server lists; longer lists are read a
// page at a time.
const serverPageSize = 1000

// serverBackend acts through a Klaxon server's API. The server records the
// token's name as the actor of every action, so the actor arguments are
// unused.
type serverBackend struct {
	name   string
	client *klaxonhttp.Client
	// pageSize is how many runs or entries one request asks for.
	pageSize int
}

func newServerBackend(rawURL, token string) (*serverBackend, error) {
	u, err := checkServerURL(rawURL)
	if err != nil {
		return nil, err
	}
	name := u.Redacted()
	return &serverBackend{name: name, client: klaxonhttp.NewClient(u.String(), token, nil), pageSize: serverPageSize}, nil
}

func (b *serverBackend) Name() string { return b.name }

func (b *serverBackend) Close() error { return nil }

func (b *serverBackend) Runs(ctx context.Context, params *store.RunListParams) ([]*klaxontype.Run, error) {
	query := &klaxonhttp.RunQuery{
		Statuses: params.Statuses, Workflow: params.Workflow, Entities: params.Entities,
		Since: params.CreatedAfter, Until: params.CreatedBefore, Cursor: params.BeforeID,
	}
	var runs []*klaxontype.Run
	for {
		query.Limit = min(params.Limit-len(runs), b.pageSize)
		page, err := b.client.Runs(ctx, query)
		if err != nil {
			return nil, err
		}
		runs = append(runs, page.Runs...)
		if page.NextCursor == "" || len(runs) >= params.Limit {
			return runs, nil
		}
		query.Cursor = page.NextCursor
	}
}

func (b *serverBackend) Run(ctx context.Context, id string) (*runDetail, error) {
	detail, err := b.client.Run(ctx, id)
	if err != nil {
		return nil, err
	}
	result := &runDetail{Run: detail.Run, Steps: detail.Steps, Attempts: detail.Attempts, Events: detail.Events,
		Waits: detail.Waits, Signals: detail.Signals, Family: detail.Family}
	if m := detail.Manifest; m != nil {
		result.Manifest = &manifest{Expected: m.Expected, Executed: m.Executed, Missing: m.Missing}
	}
	return result, nil
}

// The server records its token's name as the actor of signals and decisions.
func (b *serverBackend) Signal(ctx context.Context, runID, name string, payload []byte, key, _ string) (*klaxon.SignalResult, error) {
	return b.client.Signal(ctx, runID, name, payload, key)
}

func (b *serverBackend) SignalEntity(ctx context.Context, entityKey, entityValue, name string, payload []byte, key, _ string) ([]*klaxon.SignalResult, error) {
	return b.client.SignalEntity(ctx, entityKey, entityValue, name, payload, key)
}

func (b *serverBackend) Approvals(ctx context.Context, limit int) ([]*klaxontype.Wait, error) {
	return b.client.Approvals(ctx, limit)
}

func (b *serverBackend) DecideApproval(ctx context.Context, runID, name string, decision klaxon.Decision, _ string) (*klaxontype.ApprovalDecision, error) {
	return b.client.DecideApproval(ctx, runID, name, decision)
}

func (b *serverBackend) Cancel(ctx context.Context, id, reason, _ string) (*klaxontype.Run, error) {
	return b.client.Cancel(ctx, id, reason)
}

func (b *serverBackend) Enqueue(ctx context.Context, request *enqueueRequest, _ string) (*klaxon.EnqueueResult, error) {
	response, err := b.client.Enqueue(ctx, &klaxonhttp.EnqueueRequest{
		Workflow: request.Workflow, Input: request.Input, IdempotencyKey: request.IdempotencyKey, Entities: request.Entities,
		Priority: request.Priority,
	})
	if err != nil {
		return nil, err
	}
	return &klaxon.EnqueueResult{Run: response.Run, Deduplicated: response.Deduplicated}, nil
}

func (b *serverBackend) Workflows(ctx context.Context) ([]string, error) {
	workflows, err := b.client.Workflows(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(workflows))
	for _, workflow := range workflows {
		names = append(names, workflow.Name)
	}
	return names, nil
}

func (b *serverBackend) DeadLetters(ctx context.Context, params *klaxon.DeadLetterFilter) ([]*klaxontype.DeadLetter, error) {
	query := &klaxonhttp.DeadLetterQuery{
		Classes: params.Classes, States: params.States, Workflow: params.Workflow, Channel: params.Channel,
		Entities: params.Entities, Since: params.CreatedAfter, Until: params.CreatedBefore, Cursor: params.BeforeID,
	}
	var entries []*klaxontype.DeadLetter
	for {
		query.Limit = min(params.Limit-len(entries), b.pageSize)
		page, err := b.client.DeadLetters(ctx, query)
		if err != nil {
			return nil, err
		}
		entries = append(entries, page.Entries...)
		if page.NextCursor == "" || len(entries) >= params.Limit {
			return entries, nil
		}
		query.Cursor = page.NextCursor
	}
}

func (b *serverBackend) DeadLetter(ctx context.Context, id string) (*klaxontype.DeadLetter, error) {
	return b.client.DeadLetter(ctx, id)
}

func (b *serverBackend) PlanReplay(ctx context.Context, id string, options klaxon.ReplayOptions) (*klaxon.ReplayPlan, error) {
	response, err := b.client.Replay(ctx, id, replayRequest(options, true))
	if err != nil {
		return nil, err
	}
	return response.Plan, nil
}

func (b *serverBackend) Replay(ctx context.Context, id string, options klaxon.ReplayOptions) (*klaxontype.DeadLetter, error) {
	response, err := b.client.Replay(ctx, id, replayRequest(options, false))
	if err != nil {
		return nil, err
	}
	return response.Entry, nil
}

func replayRequest(options klaxon.ReplayOptions, dryRun bool) *klaxonhttp.ReplayRequest {
	return &klaxonhttp.ReplayRequest{Mode: options.Mode, Step: options.Step, Input: json.RawMessage(options.Input), Budget: options.Budget, DryRun: dryRun}
}

func (b *serverBackend) ReplayMatching(ctx context.Context, params *klaxon.DeadLetterFilter, options klaxon.ReplayOptions, dryRun bool) (*klaxon.BulkReplayResult, error) {
	filter := deadLetterFilter(params)
	return b.client.ReplayMatching(ctx, &klaxonhttp.BulkReplayRequest{
		Filter: filter, All: filterEmpty(filter), Mode: options.Mode, Step: options.Step,
		Input: json.RawMessage(options.Input), Budget: options.Budget, DryRun: dryRun, EntryIDs: params.EntryIDs,
	})
}

func (b *serverBackend) Resolve(ctx context.Context, id, step string, output []byte, _ string) (*klaxontype.DeadLetter, error) {
	return b.client.Resolve(ctx, id, step, output)
}

func (b *serverBackend) Discard(ctx context.Context, id, reason, _ string) (*klaxontype.DeadLetter, error) {
	return b.client.Discard(ctx, id, reason)
}

func (b *serverBackend) DiscardMatching(ctx context.Context, params *klaxon.DeadLetterFilter, reason, _ string, dryRun bool) (*klaxon.BulkDiscardResult, error) {
	filter := deadLetterFilter(params)
	return b.client.DiscardMatching(ctx, &klaxonhttp.BulkDiscardRequest{
		Filter: filter, All: filterEmpty(filter), Reason: reason, DryRun: dryRun, EntryIDs: params.EntryIDs,
	})
}

func (b *serverBackend) PurgeDeadLetters(ctx context.Context, params *klaxon.DeadLetterFilter, _ string) (int, error) {
	filter := deadLetterFilter(params)
	return b.client.PurgeDeadLetters(ctx, &klaxonhttp.PurgeRequest{
		Filter: filter, States: params.States, All: filterEmpty(filter) && len(params.States) == 0,
	})
}

func (b *serverBackend) Breakers(ctx context.Context) ([]*klaxontype.Breaker, error) {
	return b.client.Breakers(ctx)
}

func (b *serverBackend) ResetBreaker(ctx context.Context, workflow, _ string) error {
	return b.client.ResetBreaker(ctx, workflow)
}

func (b *serverBackend) PendingNotifications(ctx context.Context) ([]*klaxon.OutboxSummary, error) {
	return b.client.PendingNotifications(ctx)
}

// GiveUpNotifications records the token's name as the actor, as the server
// does for every action.
func (b *serverBackend) GiveUpNotifications(ctx context.Context, channel, reason, _ string) (int, error) {
	return b.client.GiveUpNotifications(ctx, channel, reason)
}

func (b *serverBackend) Stats(ctx context.Context, query klaxon.StatsQuery) (*klaxontype.Stats, error) {
	return b.client.Stats(ctx, query)
}

// deadLetterFilter is the API's form of a list filter, without its states.
func deadLetterFilter(params *klaxon.DeadLetterFilter) klaxonhttp.DeadLetterFilter {
	return klaxonhttp.DeadLetterFilter{
		Classes: params.Classes, Workflow: params.Workflow, Channel: params.Channel, Entities: params.Entities,
		Since: params.CreatedAfter, Until: params.CreatedBefore,
	}
}

// filterEmpty reports whether a filter matches every entry, which the server
// only acts on with all: true; the commands have already asked for --all or
// --all-matching.
func filterEmpty(filter klaxonhttp.DeadLetterFilter) bool {
	return len(filter.Classes) == 0 && filter.Workflow == "" && filter.Channel == "" && len(filter.Entities) == 0 &&
		filter.Since.IsZero() && filter.Until.IsZero()
}

func (b *serverBackend) Alerts(ctx context.Context, state klaxonhttp.AlertStateFilter) ([]*klaxontype.Alert, error) {
	return b.client.Alerts(ctx, state)
}

// Audit reads the server's audit log a page at a time until it has the
// filter's limit.
func (b *serverBackend) Audit(ctx context.Context, filter *klaxon.AuditFilter) ([]*klaxontype.AuditRecord, error) {
	query := &klaxonhttp.AuditQuery{Since: filter.Since, Actor: filter.Actor, Action: filter.Action}
	records := []*klaxontype.AuditRecord{}
	for len(records) < filter.Limit {
		query.Limit = min(filter.Limit-len(records), 1000)
		page, err := b.client.Audit(ctx, query)
		if err != nil {
			return nil, err
		}
		records = append(records, page.Records...)
		if page.NextCursor == "" {
			break
		}
		query.Cursor = page.NextCursor
	}
	return records, nil
}

func (b *serverBackend) Workers(ctx context.Context, limit int) ([]*klaxontype.Worker, error) {
	return b.client.Workers(ctx, limit)
}
