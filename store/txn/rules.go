package txn

import (
	"context"
	"time"
)

// Transact runs fn in one transaction of a store and commits what it wrote
// only when fn returns nil; an error from fn rolls back everything fn wrote
// and is returned as it is. It retries the whole transaction when the
// database fails transiently, so fn must not keep state between calls.
type Transact func(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error

// Rules are the store methods written once over Tx. A store embeds Rules,
// made with NewRules, and so implements those methods of store.Store.
type Rules struct {
	transact   Transact
	batch      Transact
	background Transact
	now        func() time.Time
}

// NewRules returns the rules over a store's transactions. transact runs a
// person's write in a transaction of its own; batch runs a lease holder's
// write in the transaction the store group-commits holders' writes in, with
// the same all-or-nothing promise. background runs maintenance — retention's
// deletes — in a transaction that yields to the others where they share a
// writer (SQLite), so that it never stalls the hot path. now gives the time
// the store records (UTC).
func NewRules(transact, batch, background Transact, now func() time.Time) Rules {
	return Rules{transact: transact, batch: batch, background: background, now: now}
}
