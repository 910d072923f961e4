package sqlite

import (
	"context"
	"encoding/json"

	"github.com/klaxonhq/klaxon/klaxontype"
	"zombiezen.com/go/sqlite"
)

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
