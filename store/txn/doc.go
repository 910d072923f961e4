// Package txn writes once the rules about what a person's write means —
// dead-letter replay, resolve, discard and purge, cancelling a run, giving up
// an outbox channel — over Tx, the few primitive reads and writes each store
// implements in SQL. A store embeds Rules to offer them.
//
// A rule refuses by returning an error, and every store then rolls back the
// whole transaction: a refused write changes nothing, in any store.
//
// It may import only the standard library, klaxontype and store.
package txn
