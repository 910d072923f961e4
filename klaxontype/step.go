package klaxontype

import (
	"encoding/json"
	"time"
)

// StepStatus is the state of a step in the step log. Only completed steps are
// recorded; failed executions live in the attempt history and the event log, so
// that no step output is ever overwritten.
type StepStatus string

const (
	// StepStatusCompleted is a step whose output is checkpointed. A later attempt
	// of the run returns the stored output instead of running the step again.
	StepStatusCompleted StepStatus = "completed"
	// StepStatusCompensated is a completed step whose compensation has run after
	// the run failed for good.
	StepStatusCompensated StepStatus = "compensated"
	// StepStatusCompensationFailed is a completed step whose compensation
	// returned an error.
	StepStatusCompensationFailed StepStatus = "compensation_failed"
)

// StepStatuses lists every step status.
func StepStatuses() []StepStatus {
	return []StepStatus{StepStatusCompleted, StepStatusCompensated, StepStatusCompensationFailed}
}

// StepRecord is one entry of the step log (the saga log).
type StepRecord struct {
	RunID string `json:"run_id"`
	// Seq is the step's sequence number within the run, from 1, in the order
	// the workflow called its steps.
	Seq  int    `json:"seq"`
	Name string `json:"name"`
	// Status is completed, or the outcome of its compensation.
	Status StepStatus `json:"status"`
	// Attempt is the run attempt that executed the step.
	Attempt int `json:"attempt"`
	// Epoch is the fencing epoch of the lease under which it was written.
	Epoch int64 `json:"epoch"`
	// IdempotencyKey is the key the step's function was handed; stable across
	// retries of the run.
	IdempotencyKey string `json:"idempotency_key"`
	// Output is the step's result as JSON.
	Output     json.RawMessage `json:"output"`
	StartedAt  time.Time       `json:"started_at"`
	FinishedAt time.Time       `json:"finished_at"`
	// CompensatedAt is when the compensation finished, zero if it never ran.
	CompensatedAt time.Time `json:"compensated_at,omitzero"`
	// CompensationError is the compensation's error, if it failed.
	CompensationError string `json:"compensation_error,omitempty"`
	// Spend is what the step's model calls cost.
	Spend Spend `json:"spend"`
	// ResolvedBy is the person who supplied the step's output by hand when
	// resolving a dead-letter entry; empty for a step that ran.
	ResolvedBy string `json:"resolved_by,omitempty"`
	// RateLimitWait is how long the step waited for rate-limit capacity
	// before its function ran, in the attempt that executed it.
	RateLimitWait time.Duration `json:"rate_limit_wait,omitempty"`
}

// Duration is how long the step's function ran.
func (s *StepRecord) Duration() time.Duration { return s.FinishedAt.Sub(s.StartedAt) }
