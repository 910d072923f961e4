// Package klaxontype holds the primitives every Klaxon package shares: run
// statuses, failure classes, the records of the step log, event log and attempt
// history, and the sentinel errors of storage.
//
// It may import only the standard library, so that the root package, the stores
// and the engine's internal packages can all depend on it without a cycle.
package klaxontype
