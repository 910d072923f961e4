package klaxontype

import "time"

// WorkflowInfo is what the store knows of a workflow that some worker has
// registered, so that processes without the workflow's code (the CLI, the
// server) can refuse to enqueue a workflow nobody will work.
type WorkflowInfo struct {
	Name    string `json:"name"`
	Version int    `json:"version"`
	// ExpectedSteps is the step manifest: the steps every completed run must
	// have executed.
	ExpectedSteps []string  `json:"expected_steps,omitempty"`
	RegisteredAt  time.Time `json:"registered_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}
