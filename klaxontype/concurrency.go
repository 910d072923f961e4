package klaxontype

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// ConcurrencySlot is where a run with a concurrency key stands with its
// key's slots. A run without a key, or one no worker has judged yet, has
// none.
type ConcurrencySlot string

const (
	// SlotHeld: the run holds one of its key's slots, from when a worker
	// first admitted it until the run ends (completed, dead or cancelled).
	// It keeps the slot while it backs off, waits or compensates, because
	// it is still in the middle of its work for that key.
	SlotHeld ConcurrencySlot = "held"
	// SlotWaiting: every slot of the run's key was held when a worker
	// claimed it, so it waits in pending, out of every claim, until a slot
	// frees and it is admitted, oldest first.
	SlotWaiting ConcurrencySlot = "waiting"
)

// ConcurrencySlots lists every slot state.
func ConcurrencySlots() []ConcurrencySlot { return []ConcurrencySlot{SlotHeld, SlotWaiting} }

// ConcurrencyPolicy is a workflow's concurrency key as its registration
// records it: at most Limit runs with the same key run at once across every
// worker of the database.
type ConcurrencyPolicy struct {
	// KeyPath is the JSON path ($.customer.id) of the input value that is
	// the run's key, for workers of the protocol; empty when a Go function
	// computes the key.
	KeyPath string `json:"key_path,omitempty"`
	// Limit is how many runs of one key may hold a slot at once, at least 1.
	Limit int `json:"limit"`
}

// MaxConcurrencyKeyBytes bounds a concurrency key as stored: a longer key is
// replaced by its SHA-256 digest, which groups runs the same way.
const MaxConcurrencyKeyBytes = 200

// ParkedUntil is the available_at of a run waiting for a slot: later than
// any claim looks, so that claims never walk those runs, however many
// there are.
var ParkedUntil = time.Date(9999, time.January, 1, 0, 0, 0, 0, time.UTC)

// CheckConcurrencyLimit refuses a limit below 1 with an error matching
// ErrInvalid.
func CheckConcurrencyLimit(limit int) error {
	if limit < 1 {
		return fmt.Errorf("%w: concurrency limit %d: give at least 1 run at once per key", ErrInvalid, limit)
	}
	return nil
}

// ConcurrencyKeyOf is the key a run is limited under, as stored: the key a
// workflow computed, or its digest when it is longer than
// MaxConcurrencyKeyBytes.
func ConcurrencyKeyOf(key string) string {
	if len(key) <= MaxConcurrencyKeyBytes {
		return key
	}
	digest := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(digest[:])
}
