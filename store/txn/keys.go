package txn

import (
	"context"
	"fmt"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// KeysRetireRule retires every encryption key but newest after a rotation
// re-sealed every value under it, and records the rotation in the audit
// log in the same transaction: a key is dropped from the record of keys
// the database needs exactly when the rotation that freed it is recorded.
func (r Rules) KeysRetireRule(ctx context.Context, newest string, params *store.KeysRetireParams) ([]string, error) {
	if params.Actor == "" {
		return nil, fmt.Errorf("a key rotation needs an actor: %w", klaxontype.ErrInvalid)
	}
	var retired []string
	err := r.transact(ctx, func(ctx context.Context, tx Tx) error {
		at := r.now()
		var err error
		if retired, err = tx.KeysRetire(ctx, newest, at); err != nil {
			return err
		}
		result := fmt.Sprintf("re-sealed %d values of %d runs under key %q; retired %d keys", params.Resealed, params.Runs, newest, len(retired))
		return audit(ctx, tx, at, params.Actor, klaxontype.AuditKeysRotate, newest, map[string]any{
			"retired": append([]string{}, retired...), "runs": params.Runs, "resealed": params.Resealed,
		}, result)
	})
	if err != nil {
		return nil, err
	}
	return retired, nil
}
