// Package engine runs workflows durably: it claims runs under leases, keeps the
// leases alive with heartbeats, executes each run against its step log so that
// completed steps are replayed rather than run again, classifies failures,
// schedules retries, runs compensations in reverse and dead-letters what cannot
// be retried.
//
// It may import only the standard library, klaxontype, store, protocol,
// redact and internal/classify;
// never a store implementation, and never the root package.
package engine
