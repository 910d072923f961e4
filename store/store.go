// Package store defines Store, the only road from Klaxon to storage, made of
// one role interface per job, each in a file of its own with the parameters
// of its methods (engine.go, runs.go, dead_letters.go, outbox.go,
// breakers.go, alerts.go, reports.go, totals.go, audit.go, retention.go, workers.go,
// waits.go, schedules.go, keys.go, children.go, rate_limits.go); keyring.go
// seals the payloads they keep.
// The SQLite and PostgreSQL stores implement it, and the conformance suite in
// store/storetest runs unchanged against each.
//
// It may import only the standard library and klaxontype: no database library's
// types cross this boundary, and stores translate their errors into the
// sentinels of klaxontype (no rows becomes ErrNotFound).
package store

// Store is durable storage for runs, the step log, the event log and the
// attempt history, made of one role interface per job; each consumer asks for
// the narrowest role it uses. Methods are named noun first, then verb, and
// take (ctx, *Params) or (ctx, id). All methods are safe for concurrent use;
// a write returns only once it is durable, and a refused write changes
// nothing but the duplicate.suppressed event it records.
type Store interface {
	Engine
	Runs
	DeadLetters
	Outbox
	Breakers
	Alerts
	Reports
	Totals
	Audit
	Retention
	Workers
	Waits
	Schedules
	Keys
	Children
	RateLimits

	// Close releases the store's resources after pending writes are durable.
	Close() error
}
