package klaxontype

import (
	"encoding/json"
	"time"
)

// DeadLetterState is where a dead-letter entry is in its handling.
type DeadLetterState string

const (
	// DeadLetterOpen is an entry waiting for a person (or a bulk action): the
	// run is dead and nobody has acted on it yet.
	DeadLetterOpen DeadLetterState = "open"
	// DeadLetterReplayed is an entry whose run was replayed; the entry links to
	// the replay (the same run resumed, or a new run).
	DeadLetterReplayed DeadLetterState = "replayed"
	// DeadLetterResolved is an entry whose failed step a person completed by
	// hand; the run continued from there.
	DeadLetterResolved DeadLetterState = "resolved"
	// DeadLetterDiscarded is an entry a person closed without action; the run
	// stays dead.
	DeadLetterDiscarded DeadLetterState = "discarded"
)

// DeadLetterStates lists every entry state.
func DeadLetterStates() []DeadLetterState {
	return []DeadLetterState{DeadLetterOpen, DeadLetterReplayed, DeadLetterResolved, DeadLetterDiscarded}
}

// Valid reports whether s is one of DeadLetterStates.
func (s DeadLetterState) Valid() bool {
	for _, known := range DeadLetterStates() {
		if s == known {
			return true
		}
	}
	return false
}

// ReplayMode says how a dead run is replayed.
type ReplayMode string

const (
	// ReplayResume keeps every completed step and retries from the failed one,
	// with the same idempotency keys.
	ReplayResume ReplayMode = "resume"
	// ReplayFromStep discards a step and every later one and runs them again,
	// under a new generation of idempotency keys.
	ReplayFromStep ReplayMode = "from-step"
	// ReplayRestart creates a new run of the workflow from scratch, linked to
	// the dead one.
	ReplayRestart ReplayMode = "restart"
)

// ReplayModes lists every replay mode.
func ReplayModes() []ReplayMode { return []ReplayMode{ReplayResume, ReplayFromStep, ReplayRestart} }

// Valid reports whether m is one of ReplayModes.
func (m ReplayMode) Valid() bool {
	for _, known := range ReplayModes() {
		if m == known {
			return true
		}
	}
	return false
}

// FailedStep names the step a run failed in.
type FailedStep struct {
	Name string `json:"name"`
	Seq  int    `json:"seq"`
}

// DeadLetter is an entry of the dead-letter queue: a run that ended dead, with
// everything needed to understand it and act on it.
type DeadLetter struct {
	ID              string       `json:"id"`
	RunID           string       `json:"run_id"`
	Workflow        string       `json:"workflow"`
	WorkflowVersion int          `json:"workflow_version"`
	Class           FailureClass `json:"class"`
	Reason          string       `json:"reason"`
	// Step is the failed step; nil when the workflow body itself failed.
	Step *FailedStep `json:"step"`
	// OutputSchema is the JSON Schema of the failed step's output type, against
	// which an output supplied to resolve the entry is checked.
	OutputSchema json.RawMessage `json:"output_schema,omitempty"`
	// Input is the run's input when it died.
	Input    json.RawMessage   `json:"input"`
	Entities map[string]string `json:"entities"`
	// Attempts is every failed attempt of the run, oldest first (filled by a
	// single-entry lookup, not by listing).
	Attempts []*Attempt `json:"attempts"`
	// Channel is where the entry was routed.
	Channel string          `json:"channel"`
	State   DeadLetterState `json:"state"`
	// Deliveries is the state of the entry's notification to its channel.
	Deliveries []*Delivery `json:"deliveries,omitempty"`
	CreatedAt  time.Time   `json:"created_at"`
	UpdatedAt  time.Time   `json:"updated_at"`
	// ClosedBy, ClosedAt and CloseReason say who moved the entry out of open,
	// when, and why.
	ClosedBy    string    `json:"closed_by,omitempty"`
	ClosedAt    time.Time `json:"closed_at,omitzero"`
	CloseReason string    `json:"close_reason,omitempty"`
	// ReplayMode and ReplayRunID link a replayed entry to its replay: the same
	// run (resume, from-step) or a new one (restart).
	ReplayMode  ReplayMode `json:"replay_mode,omitempty"`
	ReplayRunID string     `json:"replay_run_id,omitempty"`
}

// DeliveryState is where a dead-letter notification is.
type DeliveryState string

const (
	// DeliveryPending is a notification not yet delivered; it is retried with
	// backoff.
	DeliveryPending DeliveryState = "pending"
	// DeliveryDelivered is a notification its channel's handler accepted.
	DeliveryDelivered DeliveryState = "delivered"
	// DeliveryGivenUp is a notification abandoned after its last attempt.
	DeliveryGivenUp DeliveryState = "given_up"
)

// Delivery is the notification of one dead-letter entry to its channel, kept in
// an outbox in the same store so that a crash cannot lose it.
type Delivery struct {
	ID            int64         `json:"id"`
	EntryID       string        `json:"entry_id"`
	Channel       string        `json:"channel"`
	State         DeliveryState `json:"state"`
	Attempts      int           `json:"attempts"`
	NextAttemptAt time.Time     `json:"next_attempt_at,omitzero"`
	LastError     string        `json:"last_error,omitempty"`
	CreatedAt     time.Time     `json:"created_at"`
	DeliveredAt   time.Time     `json:"delivered_at,omitzero"`
}
