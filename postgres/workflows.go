package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
)

type workflowRow struct {
	Name          string    `db:"name"`
	Version       int       `db:"version"`
	ExpectedSteps []string  `db:"expected_steps"`
	InputSchema   *string   `db:"input_schema"`
	Policies      []byte    `db:"policies"`
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
			if r.InputSchema != nil && *r.InputSchema != "" {
				list[i].InputSchema = json.RawMessage(*r.InputSchema)
			}
			if len(r.Policies) > 0 {
				list[i].Policies = new(klaxontype.WorkflowPolicies)
				if err := json.Unmarshal(r.Policies, list[i].Policies); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return list, err
}
