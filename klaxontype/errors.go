package klaxontype

import (
	"errors"
	"fmt"
)

var (
	// ErrNotFound is returned by a store when the record asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrLeaseLost is returned for a write by a holder whose lease is no longer
	// current: its epoch is stale, or the run is no longer held. The store
	// records the rejected write as a duplicate.suppressed event.
	ErrLeaseLost = errors.New("lease lost: another worker holds the run")
	// ErrStepExists is returned for a checkpoint of a step that is already in
	// the step log; the stored output is never overwritten.
	ErrStepExists = errors.New("step already checkpointed")
	// ErrClosed is returned by a store that has been closed.
	ErrClosed = errors.New("store closed")
	// ErrEntryNotOpen is returned when acting on a dead-letter entry that was
	// already replayed, resolved or discarded; the error names its state.
	ErrEntryNotOpen = errors.New("dead-letter entry is not open")
	// ErrRunNotCancellable is returned when cancelling a run that has ended
	// (completed, dead or cancelled) or is compensating, which always ends
	// dead with its entry in the dead-letter queue; the error names the
	// run's status, and nothing changes.
	ErrRunNotCancellable = errors.New("run cannot be cancelled")
	// ErrInvalid is returned for a request that names something that is not
	// there (a step not in the log, a run that is not dead) or is malformed.
	ErrInvalid = errors.New("invalid request")
)

// SchemaTooNewError is returned when a database was written by a newer version
// of Klaxon than the running binary understands.
type SchemaTooNewError struct {
	// Database is the schema version found in the database.
	Database int
	// Supported is the newest schema version this binary knows.
	Supported int
}

func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("database schema version %d is newer than this klaxon supports (%d): upgrade klaxon before using this database", e.Database, e.Supported)
}

// ErrManifestConflict is a workflow registration whose step manifest
// differs from the one recorded for the same version.
var ErrManifestConflict = errors.New("manifest conflicts with the registered one")

// ErrNondeterminism is a step reported at a sequence number where the step
// log holds another step.
var ErrNondeterminism = errors.New("another step is recorded at this sequence")

// ErrInvalidOutput is an output that does not fit its registered JSON
// Schema.
var ErrInvalidOutput = errors.New("output does not fit its schema")
