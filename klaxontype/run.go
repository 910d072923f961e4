package klaxontype

import (
	"encoding/json"
	"time"
)

// Run is one execution of a workflow, as the store keeps it.
type Run struct {
	// ID is a ULID, so runs sort by the time they were enqueued.
	ID string `json:"id"`
	// Workflow is the name of the workflow the run executes.
	Workflow string `json:"workflow"`
	// WorkflowVersion is the workflow's version when the run was enqueued.
	WorkflowVersion int `json:"workflow_version"`
	// Status is where the run is in its life.
	Status RunStatus `json:"status"`
	// Input is the run's input as JSON.
	Input json.RawMessage `json:"input"`
	// Output is the workflow's result as JSON, set when the run completed.
	Output json.RawMessage `json:"output,omitempty"`
	// IdempotencyKey deduplicates enqueues of the same workflow: a second enqueue
	// with the same key returns this run instead of creating another.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// Entities are string labels (document_id=42) that runs can be filtered by.
	Entities map[string]string `json:"entities,omitempty"`
	// Attempt counts the claims that executed the run; the current or last one.
	Attempt int `json:"attempt"`
	// Retries counts the retries that were scheduled after failed attempts.
	Retries int `json:"retries"`
	// AttemptOffset is the attempt count when the run was last replayed from
	// the dead-letter queue: the retry budget counts attempts after it.
	AttemptOffset int `json:"attempt_offset,omitempty"`
	// StepGeneration counts from-step replays; steps executed afresh after one
	// get idempotency keys of the new generation.
	StepGeneration int `json:"step_generation,omitempty"`
	// ReplayOf is the dead run this run restarts, for a run created by a
	// restart replay.
	ReplayOf string `json:"replay_of,omitempty"`
	// Spend totals the model calls of every attempt: completed steps and
	// failed attempts, each counted once.
	Spend Spend `json:"spend"`
	// Budget caps the run's spend; nil when the enqueue set none (the
	// workflow's budget applies).
	Budget *Budget `json:"budget,omitempty"`
	// Priority orders claims, MinPriority..MaxPriority: a higher one is
	// claimed first, aged by PriorityAging so that no run starves.
	Priority int `json:"priority"`
	// ConcurrencyKey is the key of the workflow's concurrency limit the
	// run is judged under, once a worker judged it; empty when the
	// workflow has none, or the run's key was empty.
	ConcurrencyKey string `json:"concurrency_key,omitempty"`
	// ConcurrencySlot says whether the run holds one of its key's slots
	// or waits in pending for one.
	ConcurrencySlot ConcurrencySlot `json:"concurrency_slot,omitempty"`
	// Epoch is the fencing token of the current lease. Each claim increments it,
	// and every write of a holder carries it, so that a holder whose lease was
	// taken over cannot write any more.
	Epoch int64 `json:"epoch"`
	// LeaseHolder is the worker holding the lease, empty when none does.
	LeaseHolder string `json:"lease_holder,omitempty"`
	// LeaseExpiresAt is when the lease ends unless a heartbeat extends it.
	LeaseExpiresAt time.Time `json:"lease_expires_at,omitzero"`
	// AvailableAt is when a pending or retrying run may next be claimed.
	AvailableAt time.Time `json:"available_at"`
	// Failure says why a run is dead or compensating; nil otherwise.
	Failure *RunFailure `json:"failure,omitempty"`
	// CreatedAt is when the run was enqueued.
	CreatedAt time.Time `json:"created_at"`
	// UpdatedAt is when the run's row last changed.
	UpdatedAt time.Time `json:"updated_at"`
	// StartedAt is when a worker first claimed the run.
	StartedAt time.Time `json:"started_at,omitzero"`
	// FinishedAt is when the run reached a terminal status.
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

// RunFailure is the terminal failure of a run: its class, a reason a person can
// read, and the step that failed (empty when the workflow body itself failed).
type RunFailure struct {
	Class   FailureClass `json:"class"`
	Reason  string       `json:"reason"`
	Step    string       `json:"step,omitempty"`
	StepSeq int          `json:"step_seq,omitempty"`
}
