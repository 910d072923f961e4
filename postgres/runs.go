package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// RunEnqueue creates a pending run, or returns the run of the same workflow
// that already has the idempotency key.
func (s *Store) RunEnqueue(ctx context.Context, params *store.RunEnqueueParams) (*klaxontype.Run, bool, error) {
	if err := params.Validate(); err != nil {
		return nil, false, fmt.Errorf("postgres: %w", err)
	}
	entities := params.Entities
	if entities == nil {
		entities = map[string]string{}
	}
	var budgetTokens, budgetCost any
	if b := params.Budget; b != nil {
		if b.Tokens > 0 {
			budgetTokens = b.Tokens
		}
		if b.CostUSD > 0 {
			budgetCost = b.CostUSD
		}
	}
	if params.IdempotencyKey == "" {
		// Without a key an enqueue cannot meet another: it is group-committed
		// with the other writes, its audit record too.
		req := &writeRequest{enqueue: params, payload: s.keys.Seal(params.Input)}
		if err := s.writers.write(ctx, req); err != nil {
			return nil, false, err
		}
		s.notifier.announce(params.Workflow)
		if req.enqueued == nil {
			// Written by an earlier try of a batch whose commit was in doubt.
			run, err := s.RunGet(ctx, params.ID)
			return run, err == nil, err
		}
		return req.enqueued, true, nil
	}
	var (
		run     *klaxontype.Run
		created bool
	)
	err := s.transact(ctx, func(ctx context.Context, tx pgx.Tx) error {
		t := now()
		availableAt := params.AvailableAt
		if availableAt.IsZero() {
			availableAt = t
		}
		var err error
		run, err = opener{s.keys}.collectRun(tx.Query(ctx, runInsertSQL, params.ID, params.Workflow, params.WorkflowVersion,
			s.keys.Seal(params.Input), orNull(params.IdempotencyKey), entities, availableAt, t, budgetTokens, budgetCost, params.Priority))
		if errors.Is(err, klaxontype.ErrNotFound) {
			// The key is taken: return the run that has it.
			created = false
			run, err = opener{s.keys}.collectRun(tx.Query(ctx, runGetByIdempotencyKeySQL, params.Workflow, params.IdempotencyKey))
			if err != nil || !params.Audit {
				return err
			}
			return insertAudit(ctx, tx, params.AuditRecord(t, run.ID, false))
		}
		if err != nil {
			return err
		}
		created = true
		if err := insertChildLink(ctx, tx, params, t); err != nil {
			return err
		}
		if params.Audit {
			if err := insertAudit(ctx, tx, params.AuditRecord(t, params.ID, true)); err != nil {
				return err
			}
		}
		return insertEvent(ctx, tx, &klaxontype.Event{
			RunID: params.ID, Type: klaxontype.EventRunEnqueued, Actor: params.Actor, At: t,
		})
	})
	if err != nil {
		return nil, false, err
	}
	if created {
		s.notifier.announce(params.Workflow)
	}
	return run, created, nil
}

// queueEnqueues queues the batch's enqueues on b (their inputs sealed already), and sets each request's
// run when b's results are read.
func queueEnqueues(b *pgx.Batch, keys *store.Keyring, batch []*writeRequest) error {
	var (
		idx, version, priority        []int32
		id, workflow, entities, actor []string
		input                         [][]byte
		availableAt                   []time.Time
		budgetTokens                  []*int64
		budgetCost                    []*float64
	)
	t := now()
	byID := map[string]*writeRequest{}
	for i, req := range batch {
		p := req.enqueue
		if p == nil {
			continue
		}
		encoded := []byte("{}")
		if len(p.Entities) > 0 {
			var err error
			if encoded, err = json.Marshal(p.Entities); err != nil {
				return err
			}
		}
		at := p.AvailableAt
		if at.IsZero() {
			at = t
		}
		var tokens *int64
		var cost *float64
		if bg := p.Budget; bg != nil {
			if bg.Tokens > 0 {
				tokens = &bg.Tokens
			}
			if bg.CostUSD > 0 {
				cost = &bg.CostUSD
			}
		}
		idx = append(idx, int32(i))
		id = append(id, p.ID)
		workflow = append(workflow, p.Workflow)
		version = append(version, int32(p.WorkflowVersion))
		input = append(input, req.payload)
		entities = append(entities, string(encoded))
		availableAt = append(availableAt, at)
		budgetTokens = append(budgetTokens, tokens)
		budgetCost = append(budgetCost, cost)
		actor = append(actor, p.Actor)
		priority = append(priority, int32(p.Priority))
		byID[p.ID] = req
	}
	if len(idx) == 0 {
		return nil
	}
	b.Queue(runsEnqueueSQL, idx, id, workflow, version, input, entities, availableAt, budgetTokens, budgetCost, actor, t, priority).
		Query(func(rows pgx.Rows) error {
			runs, err := opener{keys}.collectRuns(rows, nil)
			for _, run := range runs {
				if req := byID[run.ID]; req != nil {
					req.enqueued = run
				}
			}
			return err
		})
	for _, i := range idx {
		if p := batch[i].enqueue; p.Audit {
			r := p.AuditRecord(t, p.ID, true)
			b.Queue(auditInsertSQL, r.At, r.Actor, string(r.Action), r.Target, string(r.Params), r.Result)
		}
	}
	return nil
}

// notifyRuns wakes idle workers of every process once the transaction that
// made a run available commits. NOTIFY serializes the commits that send one,
// so the frequent writes (enqueue, release, retry) announce after their
// commit instead, coalesced (notifier.announce); the rare ones use this.
func notifyRuns(ctx context.Context, q querier, workflow string) error {
	_, err := q.Exec(ctx, runsNotifySQL, workflow)
	return err
}

// RunGet returns one run, or klaxontype.ErrNotFound.
func (s *Store) RunGet(ctx context.Context, id string) (*klaxontype.Run, error) {
	var run *klaxontype.Run
	err := s.read(ctx, func(ctx context.Context, q querier) (err error) {
		run, err = opener{s.keys}.collectRun(q.Query(ctx, runGetSQL, id))
		return err
	})
	if errors.Is(err, klaxontype.ErrNotFound) {
		return nil, fmt.Errorf("run %s: %w", id, klaxontype.ErrNotFound)
	}
	return run, err
}

// RunList returns runs matching every filter, newest first.
func (s *Store) RunList(ctx context.Context, params *store.RunListParams) ([]*klaxontype.Run, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	statuses := make([]string, len(params.Statuses))
	for i, status := range params.Statuses {
		statuses[i] = string(status)
	}
	entities := params.Entities
	if entities == nil {
		entities = map[string]string{}
	}
	limit := params.Limit
	if limit <= 0 {
		limit = 100
	}
	var runs []*klaxontype.Run
	err := s.read(ctx, func(ctx context.Context, q querier) (err error) {
		// Planned for its arguments each time (see DLQList): a generic plan
		// cannot tell an absent filter from a present one.
		runs, err = opener{s.keys}.collectRuns(q.Query(ctx, runListSQL, pgx.QueryExecModeCacheDescribe,
			params.Workflow, statuses, params.BeforeID, entities, limit,
			orNull(params.CreatedAfter), orNull(params.CreatedBefore)))
		return err
	})
	return runs, err
}

// RunCountByWorkflowAndStatus counts every run by workflow and status.
func (s *Store) RunCountByWorkflowAndStatus(ctx context.Context) (map[string]map[klaxontype.RunStatus]int, error) {
	var counts map[string]map[klaxontype.RunStatus]int
	err := s.read(ctx, func(ctx context.Context, q querier) error {
		counts = make(map[string]map[klaxontype.RunStatus]int)
		rows, err := q.Query(ctx, runCountByWorkflowStatusSQL)
		if err != nil {
			return err
		}
		var workflow, status string
		var count int
		_, err = pgx.ForEachRow(rows, []any{&workflow, &status, &count}, func() error {
			if counts[workflow] == nil {
				counts[workflow] = make(map[klaxontype.RunStatus]int)
			}
			counts[workflow][klaxontype.RunStatus(status)] = count
			return nil
		})
		return err
	})
	return counts, err
}

// RunCountByStatus counts runs by status, optionally of one workflow.
func (s *Store) RunCountByStatus(ctx context.Context, params *store.RunCountByStatusParams) (map[klaxontype.RunStatus]int, error) {
	var counts map[klaxontype.RunStatus]int
	err := s.read(ctx, func(ctx context.Context, q querier) error {
		counts = make(map[klaxontype.RunStatus]int)
		rows, err := q.Query(ctx, runCountByStatusSQL, params.Workflow)
		if err != nil {
			return err
		}
		var status string
		var count int
		_, err = pgx.ForEachRow(rows, []any{&status, &count}, func() error {
			counts[klaxontype.RunStatus(status)] = count
			return nil
		})
		return err
	})
	return counts, err
}
