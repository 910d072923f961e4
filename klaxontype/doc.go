// Package klaxontype holds the primitives every Klaxon package shares: run
// statuses, failure classes, the records of the step log, event log and attempt
// history, and the sentinel errors of storage.
//
// It may import only the standard library: the root package, the stores and
// the engine's internal packages all depend on it, and must do so without a
// cycle.
package klaxontype
