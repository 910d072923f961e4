package store

import "context"

// Keys is the bookkeeping of encryption at rest: the rotation that re-seals
// stored payloads under the newest key of the store's ring, in bounded
// batches beside a running engine, and the retirement of the keys it made
// unnecessary. A store opened without keys refuses both.
type Keys interface {
	// KeysRotateBatch re-seals under the newest key every payload of the
	// next Limit runs after the run ID After (inputs, outputs, step outputs
	// live and archived, dead-letter inputs, signal payloads), and the
	// schedules' inputs with the first batch, in one transaction. A value
	// changed by the engine between the read and the write is left as the
	// engine wrote it and counted as Missed. Done is set when no run is left
	// after the batch.
	KeysRotateBatch(ctx context.Context, params *KeysRotateBatchParams) (*KeysRotateBatch, error)
	// KeysRetire marks every key but the newest retired once a rotation
	// re-sealed every value, so that they may leave the ring, and records
	// the rotation in the audit log (keys.rotate), in one transaction. It
	// returns the keys it retired. It refuses, retiring nothing, while a
	// stored value is still sealed under another key than the newest.
	KeysRetire(ctx context.Context, params *KeysRetireParams) (retired []string, err error)
	// KeysList returns the keys the database was written with, and whether
	// each is retired.
	KeysList(ctx context.Context) ([]KeyCheck, error)
}

// KeysRotateBatchParams asks for one batch of a rotation.
type KeysRotateBatchParams struct {
	// After is the last run ID of the previous batch; empty for the first.
	After string
	// Limit is the most runs in the batch; zero means 500.
	Limit int
}

// BatchLimit is Limit, or its default.
func (p *KeysRotateBatchParams) BatchLimit() int {
	if p.Limit <= 0 {
		return 500
	}
	return p.Limit
}

// KeysRotateBatch is what one batch of a rotation did.
type KeysRotateBatch struct {
	// Last is the batch's last run ID, the next batch's After.
	Last string
	// Runs is how many runs the batch covered.
	Runs int
	// Resealed is how many values it re-sealed under the newest key.
	Resealed int
	// Missed is how many values changed between its read and its write.
	Missed int
	// Done is set when no run follows the batch.
	Done bool
}

// KeysRetireParams records a finished rotation.
type KeysRetireParams struct {
	// Actor is who ran the rotation.
	Actor string
	// Runs and Resealed are the rotation's totals, for the audit record.
	Runs     int
	Resealed int
}
