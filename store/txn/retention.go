package txn

import (
	"context"
	"fmt"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// RunsDelete deletes a batch of old ended runs with everything recorded of
// them, and records the deletion in the audit log, in one transaction: a
// batch is deleted whole or not at all, so retention stopped half-way and run
// again finishes the job. The batch yields to the hot path's writes (see
// NewRules). A run that is no longer ended, or has an open
// dead-letter entry, is left alone however it was selected.
func (r Rules) RunsDelete(ctx context.Context, params *store.RunsDeleteParams) ([]string, error) {
	if params.Actor == "" || params.Rule == "" {
		return nil, invalid("deleting runs needs an actor and the rule it applies, for the audit log")
	}
	if len(params.IDs) == 0 {
		return []string{}, nil
	}
	if len(params.IDs) > store.MaxRetentionBatch {
		return nil, invalid("a retention batch of %d runs is more than %d", len(params.IDs), store.MaxRetentionBatch)
	}
	var deleted []string
	err := r.background(ctx, func(ctx context.Context, tx Tx) (err error) {
		if deleted, err = tx.RunsDelete(ctx, params.IDs); err != nil || len(deleted) == 0 {
			return err
		}
		if err := tx.RunHistoryDelete(ctx, deleted); err != nil {
			return err
		}
		return audit(ctx, tx, r.now(), params.Actor, klaxontype.AuditRetentionDelete, "runs", map[string]any{
			"rule": params.Rule, "runs": deleted,
		}, fmt.Sprintf("deleted %d ended runs with their history", len(deleted)))
	})
	if err != nil {
		return nil, err
	}
	return deleted, nil
}
