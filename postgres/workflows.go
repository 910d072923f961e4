package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// WorkflowRegister records that a worker can execute a workflow.
func (s *Store) WorkflowRegister(ctx context.Context, params *store.WorkflowRegisterParams) error {
	if params.Name == "" {
		return errors.New("postgres: workflow name is empty")
	}
	steps := params.ExpectedSteps
	if steps == nil {
		steps = []string{}
	}
	return s.transact(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, workflowRegisterSQL, params.Name, params.Version, steps, now())
		return err
	})
}

type workflowRow struct {
	Name          string    `db:"name"`
	Version       int       `db:"version"`
	ExpectedSteps []string  `db:"expected_steps"`
	RegisteredAt  time.Time `db:"registered_at"`
	UpdatedAt     time.Time `db:"updated_at"`
}

// WorkflowList returns every registered workflow by name.
func (s *Store) WorkflowList(ctx context.Context) ([]*klaxontype.WorkflowInfo, error) {
	var list []*klaxontype.WorkflowInfo
	err := s.read(ctx, func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, workflowListSQL)
		if err != nil {
			return err
		}
		rowsOf, err := pgx.CollectRows(rows, pgx.RowToAddrOfStructByName[workflowRow])
		if err != nil {
			return err
		}
		list = make([]*klaxontype.WorkflowInfo, len(rowsOf))
		for i, r := range rowsOf {
			list[i] = &klaxontype.WorkflowInfo{
				Name: r.Name, Version: r.Version, ExpectedSteps: r.ExpectedSteps,
				RegisteredAt: r.RegisteredAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
			}
			if len(r.ExpectedSteps) == 0 {
				list[i].ExpectedSteps = nil
			}
		}
		return nil
	})
	return list, err
}
