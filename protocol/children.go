package protocol

import (
	"encoding/json"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// States of a child run's start, in a ChildStartAnswer.
const (
	// ChildStarted: the child run exists and the parent's step at the
	// sequence records its ID (now, or by an earlier attempt: Duplicate).
	ChildStarted = "started"
	// ChildRefused: the child could not be started (an unknown workflow, an
	// input that fails its schema) and nothing was written: the worker fails
	// the step with Class and Message.
	ChildRefused = "failed"
)

// ChildStartRequest starts a child run from the parent's step at a sequence
// number (POST /api/v1/worker/runs/{run_id}/children/{seq}).
type ChildStartRequest struct {
	WorkerID string `json:"worker_id" minLength:"1" maxLength:"200"`
	// Workflow and Attempt are echoed from the parent's claim.
	Workflow string `json:"workflow" minLength:"1" maxLength:"200"`
	Attempt  int    `json:"attempt" minimum:"1"`
	Epoch    int64  `json:"epoch" minimum:"1"`
	// Name is the parent's step that starts the child.
	Name string `json:"name" minLength:"1" maxLength:"200"`
	// ChildWorkflow is the workflow the child runs, registered by any worker.
	ChildWorkflow string          `json:"child_workflow" minLength:"1" maxLength:"200"`
	Input         json.RawMessage `json:"input,omitempty" doc:"The child's input (JSON; absent: null). It must fit the child workflow's input schema."`
}

// ChildStartAnswer says whether the child run was started, and which.
type ChildStartAnswer struct {
	State string `json:"state" enum:"started,failed"`
	Seq   int    `json:"seq"`
	Name  string `json:"name"`
	// RunID and ChildWorkflow name the child when started.
	RunID         string `json:"run_id,omitempty"`
	ChildWorkflow string `json:"child_workflow,omitempty"`
	// Output is the parent step's output as the step log holds it
	// ({"run_id", "workflow"}), which a later claim memoizes.
	Output json.RawMessage `json:"output,omitempty"`
	// Duplicate is set when an earlier request had started the child.
	Duplicate bool `json:"duplicate"`
	// Class and Message are the step's failure when the child was refused.
	Class   klaxontype.FailureClass `json:"class,omitempty"`
	Message string                  `json:"message,omitempty"`
}

// ChildAwait is one await of a child run in a ChildAwaitRequest.
type ChildAwait struct {
	// Name is the await's step: the name the start step had, by convention.
	Name       string `json:"name" minLength:"1" maxLength:"200"`
	ChildRunID string `json:"child_run_id" minLength:"1" maxLength:"64"`
	// TimeoutMS is how long the parent awaits the child from when it first
	// reaches the await (0: 48 hours).
	TimeoutMS int64 `json:"timeout_ms,omitempty" minimum:"0" doc:"How long the parent awaits the child, counted by the server from when the run first reaches the await (0: 48 hours)."`
}

// ChildAwaitRequest awaits child runs, each a wait step taking consecutive
// sequence numbers from the path's (POST
// /api/v1/worker/runs/{run_id}/awaits/{seq}).
type ChildAwaitRequest struct {
	WorkerID string       `json:"worker_id" minLength:"1" maxLength:"200"`
	Workflow string       `json:"workflow" minLength:"1" maxLength:"200"`
	Attempt  int          `json:"attempt" minimum:"1"`
	Epoch    int64        `json:"epoch" minimum:"1"`
	Awaits   []ChildAwait `json:"awaits" minItems:"1" maxItems:"10000"`
	// StepFailures are as a WaitRequest's: recorded when the run goes
	// waiting, as no outcome follows.
	StepFailures []StepFailureReport `json:"step_failures,omitempty" maxItems:"10000"`
}

// ChildFailure is a child run that ended dead or cancelled while its parent
// awaited it.
type ChildFailure struct {
	RunID    string               `json:"run_id"`
	Workflow string               `json:"workflow"`
	Status   klaxontype.RunStatus `json:"status" enum:"dead,cancelled"`
	// Class and Reason are the child's failure.
	Class  klaxontype.FailureClass `json:"class"`
	Reason string                  `json:"reason"`
}

// ChildAwaitAnswer says what became of the awaits: satisfied with every
// child's output in the order of the awaits; failed or timed_out at one of
// them (Seq, Name), with the failure the worker raises in the workflow; or
// waiting, after which the worker stops the workflow and sends nothing more
// for the run.
type ChildAwaitAnswer struct {
	State   string            `json:"state" enum:"satisfied,failed,timed_out,waiting"`
	Outputs []json.RawMessage `json:"outputs,omitempty" doc:"The children's outputs, in the order of the awaits, when satisfied."`
	// Seq and Name are the await that failed or timed out.
	Seq     int                     `json:"seq,omitempty"`
	Name    string                  `json:"name,omitempty"`
	Class   klaxontype.FailureClass `json:"class,omitempty"`
	Message string                  `json:"message,omitempty"`
	Child   *ChildFailure           `json:"child,omitempty" doc:"The child that ended dead or cancelled, when failed."`
	// Until is when a waiting run is claimable again.
	Until time.Time `json:"until,omitzero"`
}

// ChildAwaitFailed is the state of an await whose child ended dead or
// cancelled.
const ChildAwaitFailed = "failed"
