package sqlite

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"zombiezen.com/go/sqlite"
)

// WorkflowRegister records that a worker can execute a workflow.
func (s *Store) WorkflowRegister(ctx context.Context, params *store.WorkflowRegisterParams) error {
	if params.Name == "" {
		return errors.New("sqlite: workflow name is empty")
	}
	steps := params.ExpectedSteps
	if steps == nil {
		steps = []string{}
	}
	expected, err := json.Marshal(steps)
	if err != nil {
		return err
	}
	var policies any
	if params.Policies != nil {
		encoded, err := json.Marshal(params.Policies)
		if err != nil {
			return err
		}
		policies = string(encoded)
	}
	schema := nullIfEmpty(string(params.InputSchema))
	return s.writer.write(func(conn *sqlite.Conn) error {
		return execute(conn, workflowRegisterSQL, nil, params.Name, params.Version, string(expected), schema, policies, now())
	})
}

// WorkflowList returns every registered workflow by name.
func (s *Store) WorkflowList(ctx context.Context) ([]*klaxontype.WorkflowInfo, error) {
	var list []*klaxontype.WorkflowInfo
	err := s.read(ctx, func(conn *sqlite.Conn) error {
		return execute(conn, workflowListSQL, func(stmt *sqlite.Stmt) error {
			info := &klaxontype.WorkflowInfo{
				Name:         stmt.GetText("name"),
				Version:      int(stmt.GetInt64("version")),
				RegisteredAt: columnTime(stmt, "registered_at"),
				UpdatedAt:    columnTime(stmt, "updated_at"),
			}
			if err := json.Unmarshal([]byte(stmt.GetText("expected_steps")), &info.ExpectedSteps); err != nil {
				return err
			}
			if len(info.ExpectedSteps) == 0 {
				info.ExpectedSteps = nil
			}
			if schema := stmt.GetText("input_schema"); schema != "" {
				info.InputSchema = json.RawMessage(schema)
			}
			if policies := stmt.GetText("policies"); policies != "" {
				info.Policies = new(klaxontype.WorkflowPolicies)
				if err := json.Unmarshal([]byte(policies), info.Policies); err != nil {
					return err
				}
			}
			list = append(list, info)
			return nil
		})
	})
	return list, err
}
