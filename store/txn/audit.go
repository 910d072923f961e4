package txn

import (
	"context"
	"encoding/json"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// audit appends a person's action to the audit log, in the transaction of
// the action: it is recorded exactly when it took effect.
func audit(ctx context.Context, tx Tx, at time.Time, actor string, action klaxontype.AuditAction, target string, params map[string]any, result string) error {
	if params == nil {
		params = map[string]any{}
	}
	encoded, err := json.Marshal(params)
	if err != nil {
		return err
	}
	return tx.AuditInsert(ctx, &klaxontype.AuditRecord{
		At: at, Actor: actor, Action: action, Target: target, Params: encoded, Result: result,
	})
}

// AuditAppend records an action that has no write of its own, in a
// transaction of its own.
func (r Rules) AuditAppend(ctx context.Context, params *store.AuditAppendParams) error {
	if err := params.Validate(); err != nil {
		return err
	}
	return r.transact(ctx, func(ctx context.Context, tx Tx) error {
		return audit(ctx, tx, r.now(), params.Actor, params.Action, params.Target, params.Params, params.Result)
	})
}
