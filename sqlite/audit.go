package sqlite

import (
	"context"
	"encoding/json"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"zombiezen.com/go/sqlite"
)

func (t *tx) AuditInsert(_ context.Context, r *klaxontype.AuditRecord) error {
	return insertAudit(t.conn, r)
}

// insertAudit appends a record to the audit log inside the writer's
// transaction.
func insertAudit(conn *sqlite.Conn, r *klaxontype.AuditRecord) error {
	return execute(conn, auditInsertSQL, nil, r.At, r.Actor, string(r.Action), r.Target, string(r.Params), r.Result)
}

// AuditList returns audit records newest first.
func (s *Store) AuditList(ctx context.Context, params *store.AuditListParams) ([]*klaxontype.AuditRecord, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	records := []*klaxontype.AuditRecord{}
	err := s.read(ctx, func(conn *sqlite.Conn) error {
		records = records[:0]
		return execute(conn, auditListSQL, func(stmt *sqlite.Stmt) error {
			records = append(records, &klaxontype.AuditRecord{
				ID: stmt.GetInt64("id"), At: columnTime(stmt, "at"), Actor: stmt.GetText("actor"),
				Action: klaxontype.AuditAction(stmt.GetText("action")), Target: stmt.GetText("target"),
				Params: json.RawMessage(stmt.GetText("params")), Result: stmt.GetText("result"),
			})
			return nil
		}, micros(params.Since), params.Actor, string(params.Action), params.BeforeID, params.PageLimit())
	})
	return records, err
}
