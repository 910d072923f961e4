package klaxontype

import "time"

// Worker is a worker process as the workers registry knows it: what it said
// of itself when it registered (its language, SDK and runtime), the
// workflows it hosts, and when it was last heard from. A worker's ID is the
// lease holder of the runs it claims, so a run's holder or an attempt's
// worker names its record.
type Worker struct {
	// ID is the worker's identity (for example host-pid-random).
	ID string `json:"id"`
	// Language is the language of the worker's SDK: go, python, typescript;
	// empty when the worker did not say.
	Language string `json:"language"`
	// SDKVersion is the version of the worker's SDK, "devel" for a Go worker
	// built without module version information; empty when not said.
	SDKVersion string `json:"sdk_version"`
	// Runtime is the runtime the worker said it runs on, such as go1.24.1 or
	// CPython 3.11.2; empty when not said.
	Runtime string `json:"runtime"`
	// Workflows are the names of the workflows the worker registered, sorted.
	Workflows []string `json:"workflows"`
	// RegisteredAt is the worker's latest registration.
	RegisteredAt time.Time `json:"registered_at"`
	// LastSeenAt is the worker's latest registration or heartbeat: a worker
	// not seen for a few heartbeat intervals has stopped or lost the server.
	LastSeenAt time.Time `json:"last_seen_at"`
}
