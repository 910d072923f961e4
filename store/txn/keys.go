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
// It first counts, in the same transaction, the values still sealed under
// another key, and refuses while there is one: a process still running with
// the old ring (opened before the new key was recorded) may have written it
// behind the rotation, and a retired key may leave the ring, which would
// leave that value unreadable. newestPrefix is newest's envelope header.
func (r Rules) KeysRetireRule(ctx context.Context, newest string, newestPrefix []byte, params *store.KeysRetireParams) ([]string, error) {
	if params.Actor == "" {
		return nil, fmt.Errorf("a key rotation needs an actor: %w", klaxontype.ErrInvalid)
	}
	var retired []string
	err := r.transact(ctx, func(ctx context.Context, tx Tx) error {
		older, err := tx.KeysCountOlder(ctx, newestPrefix)
		if err != nil {
			return err
		}
		if older > 0 {
			return fmt.Errorf("%d stored values are still encrypted with an older key than %q, written after the rotation passed them by a process that still has the old key ring: "+
				"give every server and worker the new ring (newest key last), restart them, and run klaxon keys rotate again; no key was retired", older, newest)
		}
		at := r.now()
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
