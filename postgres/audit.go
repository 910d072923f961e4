package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

func (t *tx) AuditInsert(ctx context.Context, r *klaxontype.AuditRecord) error {
	return insertAudit(ctx, t.tx, r)
}

// insertAudit appends a record to the audit log in a transaction.
func insertAudit(ctx context.Context, q querier, r *klaxontype.AuditRecord) error {
	_, err := q.Exec(ctx, auditInsertSQL, r.At, r.Actor, string(r.Action), r.Target, string(r.Params), r.Result)
	return err
}

// auditRow is a row of the audit log.
type auditRow struct {
	ID     int64     `db:"id"`
	At     time.Time `db:"at"`
	Actor  string    `db:"actor"`
	Action string    `db:"action"`
	Target string    `db:"target"`
	Params string    `db:"params"`
	Result string    `db:"result"`
}

// AuditList returns audit records newest first.
func (s *Store) AuditList(ctx context.Context, params *store.AuditListParams) ([]*klaxontype.AuditRecord, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	records := []*klaxontype.AuditRecord{}
	err := s.read(ctx, func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, auditListSQL, orNull(params.Since), params.Actor, string(params.Action), params.BeforeID, params.PageLimit())
		if err != nil {
			return err
		}
		rowsOf, err := pgx.CollectRows(rows, pgx.RowToAddrOfStructByName[auditRow])
		if err != nil {
			return err
		}
		records = make([]*klaxontype.AuditRecord, len(rowsOf))
		for i, r := range rowsOf {
			records[i] = &klaxontype.AuditRecord{
				ID: r.ID, At: r.At.UTC(), Actor: r.Actor, Action: klaxontype.AuditAction(r.Action),
				Target: r.Target, Params: json.RawMessage(r.Params), Result: r.Result,
			}
		}
		return nil
	})
	return records, err
}
