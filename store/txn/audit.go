package txn

import (
	"context"
	"encoding/json"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
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
