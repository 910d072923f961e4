package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"zombiezen.com/go/sqlite"
)

// RunEnqueue creates a pending run, or returns the run of the same workflow
// that already has the idempotency key.
func (s *Store) RunEnqueue(ctx context.Context, params *store.RunEnqueueParams) (*klaxontype.Run, bool, error) {
	if err := params.Validate(); err != nil {
		return nil, false, fmt.Errorf("sqlite: %w", err)
	}
	entities := "{}"
	if len(params.Entities) > 0 {
		encoded, err := json.Marshal(params.Entities)
		if err != nil {
			return nil, false, err
		}
		entities = string(encoded)
	}
	var (
		run     *klaxontype.Run
		created bool
	)
	err := s.writer.write(func(conn *sqlite.Conn) error {
		run, created = nil, false
		if params.IdempotencyKey != "" {
			err := execute(conn, runGetByIdempotencyKeySQL, func(stmt *sqlite.Stmt) (err error) {
				run, err = scanRun(stmt, s.keys)
				return err
			}, params.Workflow, params.IdempotencyKey)
			if err != nil {
				return err
			}
			if run != nil {
				if params.Audit {
					return insertAudit(conn, params.AuditRecord(now(), run.ID, false))
				}
				return nil
			}
		}
		t := now()
		availableAt := params.AvailableAt
		if availableAt.IsZero() {
			availableAt = t
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
		err := execute(conn, runInsertSQL, func(stmt *sqlite.Stmt) (err error) {
			run, err = scanRun(stmt, s.keys)
			return err
		}, params.ID, params.Workflow, params.WorkflowVersion, s.keys.Seal(params.Input),
			nullIfEmpty(params.IdempotencyKey), entities, availableAt, t, budgetTokens, budgetCost, params.Priority)
		if err != nil {
			return err
		}
		for key, value := range params.Entities {
			if err := execute(conn, runEntityInsertSQL, nil, key, value, params.ID); err != nil {
				return err
			}
		}
		created = true
		if err := insertChildLink(conn, params, t); err != nil {
			return err
		}
		if params.Audit {
			if err := insertAudit(conn, params.AuditRecord(t, params.ID, true)); err != nil {
				return err
			}
		}
		return insertEvent(conn, &klaxontype.Event{
			RunID: params.ID, Type: klaxontype.EventRunEnqueued, Actor: params.Actor, At: t,
		})
	})
	if err != nil {
		return nil, false, err
	}
	return run, created, nil
}

// RunGet returns one run, or klaxontype.ErrNotFound.
func (s *Store) RunGet(ctx context.Context, id string) (*klaxontype.Run, error) {
	var run *klaxontype.Run
	err := s.read(ctx, func(conn *sqlite.Conn) error {
		return execute(conn, runGetSQL, func(stmt *sqlite.Stmt) (err error) {
			run, err = scanRun(stmt, s.keys)
			return err
		}, id)
	})
	if err != nil {
		return nil, err
	}
	if run == nil {
		return nil, fmt.Errorf("run %s: %w", id, klaxontype.ErrNotFound)
	}
	return run, nil
}

// RunList returns runs matching every filter, newest first.
func (s *Store) RunList(ctx context.Context, params *store.RunListParams) ([]*klaxontype.Run, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	statuses := params.Statuses
	if statuses == nil {
		statuses = []klaxontype.RunStatus{}
	}
	statusesJSON, err := json.Marshal(statuses)
	if err != nil {
		return nil, err
	}
	entities := params.Entities
	if entities == nil {
		entities = map[string]string{}
	}
	entitiesJSON, err := json.Marshal(entities)
	if err != nil {
		return nil, err
	}
	limit := params.Limit
	if limit <= 0 {
		limit = 100
	}
	var runs []*klaxontype.Run
	err = s.read(ctx, func(conn *sqlite.Conn) error {
		return execute(conn, runListSQL, func(stmt *sqlite.Stmt) error {
			run, err := scanRun(stmt, s.keys)
			if err != nil {
				return err
			}
			runs = append(runs, run)
			return nil
		}, params.Workflow, string(statusesJSON), params.BeforeID, string(entitiesJSON), limit,
			micros(params.CreatedAfter), micros(params.CreatedBefore))
	})
	return runs, err
}

// RunCountByWorkflowAndStatus counts every run by workflow and status.
func (s *Store) RunCountByWorkflowAndStatus(ctx context.Context) (map[string]map[klaxontype.RunStatus]int, error) {
	counts := make(map[string]map[klaxontype.RunStatus]int)
	err := s.read(ctx, func(conn *sqlite.Conn) error {
		clear(counts)
		return execute(conn, runCountByWorkflowStatusSQL, func(stmt *sqlite.Stmt) error {
			workflow := stmt.ColumnText(0)
			if counts[workflow] == nil {
				counts[workflow] = make(map[klaxontype.RunStatus]int)
			}
			counts[workflow][klaxontype.RunStatus(stmt.ColumnText(1))] = stmt.ColumnInt(2)
			return nil
		})
	})
	return counts, err
}

// RunCountByStatus counts runs by status, optionally of one workflow.
func (s *Store) RunCountByStatus(ctx context.Context, params *store.RunCountByStatusParams) (map[klaxontype.RunStatus]int, error) {
	counts := make(map[klaxontype.RunStatus]int)
	err := s.read(ctx, func(conn *sqlite.Conn) error {
		return execute(conn, runCountByStatusSQL, func(stmt *sqlite.Stmt) error {
			counts[klaxontype.RunStatus(stmt.ColumnText(0))] = stmt.ColumnInt(1)
			return nil
		}, params.Workflow)
	})
	return counts, err
}
