// Package protocol is the worker protocol's wire format in one place: the
// requests a worker process in any language sends to a Klaxon server under
// /api/v1/worker/, and the server's answers. docs/worker-protocol.md explains
// the sequence; the engine's side is internal/engine's Remote.
//
// It may import only the standard library and klaxontype.
package protocol

import (
	"encoding/json"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// Limits of the protocol's requests.
const (
	// MaxClaimLimit is the most runs one claim takes.
	MaxClaimLimit = 256
	// MaxWait is the longest a claim waits for a run.
	MaxWait = 30 * time.Second
	// DefaultLease is the lease a claim gets unless it asks for another.
	DefaultLease = 30 * time.Second
	// MinLease and MaxLease bound the lease a claim or heartbeat may ask for.
	MinLease = time.Second
	MaxLease = 10 * time.Minute
	// MaxSeq is the highest step sequence number a checkpoint may carry.
	MaxSeq = 100_000
)

// Modes of a claimed run.
const (
	// ModeRun executes the workflow.
	ModeRun = "run"
	// ModeReplay replays the step log only, to find the compensations of a
	// run that failed for good while its worker was lost.
	ModeReplay = "replay"
)

// Results of an attempt a worker reports.
const (
	ResultCompleted   = "completed"
	ResultFailed      = "failed"
	ResultReplayed    = "replayed"
	ResultCompensated = "compensated"
)

// What comes next after an outcome.
const (
	NextCompleted  = "completed"
	NextRetrying   = "retrying"
	NextCompensate = "compensate"
	NextDead       = "dead"
	// NextReleased: the worker was stopping and the run went back to the
	// queue.
	NextReleased = "released"
)

// Kinds of error a worker reports.
const (
	// KindFailure is an error that says its class.
	KindFailure = "failure"
	// KindTimeout is a step or run past its timeout.
	KindTimeout = "timeout"
	// KindPanic is a programming error, permanent as a Go panic is.
	KindPanic = "panic"
	// KindError is anything else: the server's classifier decides.
	KindError = "error"
)

// WorkerInfo describes a worker process.
type WorkerInfo struct {
	ID         string `json:"id" doc:"The worker's identity (host-pid-random): the lease holder of the runs it claims." maxLength:"200"`
	Language   string `json:"language,omitempty" doc:"The language of the worker's SDK: python, typescript, go." maxLength:"40"`
	SDKVersion string `json:"sdk_version,omitempty" doc:"The SDK's version." maxLength:"40"`
	Runtime    string `json:"runtime,omitempty" doc:"The runtime, e.g. CPython 3.11.2." maxLength:"200"`
}

// RetrySettings is a workflow's retry policy; zero fields take the engine's
// defaults.
type RetrySettings struct {
	MaxAttempts      int                             `json:"max_attempts,omitempty" minimum:"0" maximum:"1000"`
	InitialBackoffMS int64                           `json:"initial_backoff_ms,omitempty" minimum:"0"`
	MaxBackoffMS     int64                           `json:"max_backoff_ms,omitempty" minimum:"0"`
	MaxRetryAfterMS  int64                           `json:"max_retry_after_ms,omitempty" minimum:"0"`
	Classes          map[klaxontype.FailureClass]int `json:"classes,omitempty" doc:"Attempts per failure class, the first included (1: never retried)."`
}

// BudgetCaps caps a run's spend; zero is no cap.
type BudgetCaps struct {
	Tokens int64   `json:"tokens,omitempty" minimum:"0"`
	USD    float64 `json:"usd,omitempty" minimum:"0"`
}

// HostedWorkflow is a workflow a worker hosts, with its policies.
type HostedWorkflow struct {
	Name              string                     `json:"name" minLength:"1" maxLength:"200"`
	Version           int                        `json:"version,omitempty" minimum:"0"`
	ExpectSteps       []string                   `json:"expect_steps,omitempty" doc:"The step manifest: the steps a run must execute to be complete."`
	Retry             *RetrySettings             `json:"retry,omitempty"`
	Budget            *BudgetCaps                `json:"budget,omitempty"`
	RunTimeoutMS      int64                      `json:"run_timeout_ms,omitempty" minimum:"0"`
	InputSchema       json.RawMessage            `json:"input_schema,omitempty" doc:"JSON Schema of the input: enqueues that do not fit it are refused."`
	OutputSchema      json.RawMessage            `json:"output_schema,omitempty" doc:"JSON Schema of the run's output."`
	StepOutputSchemas map[string]json.RawMessage `json:"step_output_schemas,omitempty" doc:"JSON Schemas of step outputs, by step name."`
	Redact            []string                   `json:"redact,omitempty" maxItems:"100" doc:"JSON paths ($.customer.email, $.documents[*].text) whose values the API, the dashboard and notifications mask for tokens below admin."`
	RedactPatterns    []string                   `json:"redact_patterns,omitempty" maxItems:"100" doc:"Regular expressions (Go RE2 syntax) whose matches are masked likewise, in every string of the run's payloads and error messages."`
	Concurrency       *ConcurrencySettings       `json:"concurrency,omitempty" doc:"A concurrency key: at most limit runs with the same key run at once across every worker."`
	DefaultPriority   int                        `json:"default_priority,omitempty" minimum:"-100" maximum:"100" doc:"The priority of runs enqueued without one."`
}

// ConcurrencySettings limit how many runs with the same key run at once.
type ConcurrencySettings struct {
	Key   string `json:"key" minLength:"3" doc:"JSON path of the input value that is the run's key ($.customer.id); a run with nothing there is not limited."`
	Limit int    `json:"limit" minimum:"1" doc:"Runs of one key that may run at once, waiting, backing off or compensating included."`
}

// RegisterRequest registers a worker's workflows.
type RegisterRequest struct {
	Worker    WorkerInfo       `json:"worker"`
	Workflows []HostedWorkflow `json:"workflows" minItems:"1" maxItems:"1000"`
}

// RegisterAnswer tells the worker its lease and heartbeat interval.
type RegisterAnswer struct {
	WorkerID    string               `json:"worker_id"`
	LeaseMS     int64                `json:"lease_ms"`
	HeartbeatMS int64                `json:"heartbeat_ms"`
	Workflows   []RegisteredWorkflow `json:"workflows"`
}

// RegisteredWorkflow names a workflow as registered.
type RegisteredWorkflow struct {
	Name    string `json:"name"`
	Version int    `json:"version"`
}

// ClaimRequest asks for runs, waiting up to WaitMS for one.
type ClaimRequest struct {
	WorkerID  string   `json:"worker_id" minLength:"1" maxLength:"200"`
	Workflows []string `json:"workflows" minItems:"1" maxItems:"1000"`
	Limit     int      `json:"limit" minimum:"1" maximum:"256"`
	WaitMS    int64    `json:"wait_ms,omitempty" minimum:"0" maximum:"30000"`
	LeaseMS   int64    `json:"lease_ms,omitempty" minimum:"0" maximum:"600000"`
}

// ClaimAnswer holds the runs claimed; none when the wait ran out.
type ClaimAnswer struct {
	Runs []ClaimedRun `json:"runs"`
}

// ClaimedRun is a run the worker now holds, with its step log.
type ClaimedRun struct {
	RunID           string          `json:"run_id"`
	Workflow        string          `json:"workflow"`
	WorkflowVersion int             `json:"workflow_version"`
	Attempt         int             `json:"attempt"`
	Epoch           int64           `json:"epoch"`
	Mode            string          `json:"mode" enum:"run,replay"`
	Reclaimed       bool            `json:"reclaimed"`
	Input           json.RawMessage `json:"input"`
	Steps           []LoggedStep    `json:"steps"`
	StepGeneration  int             `json:"step_generation"`
	RunTimeoutMS    int64           `json:"run_timeout_ms"`
	Budget          *BudgetCaps     `json:"budget"`
	Doom            *Doom           `json:"doom" doc:"Set when no new step may begin: every step not in the log fails with it."`
}

// LoggedStep is a step of the log.
type LoggedStep struct {
	Seq            int                   `json:"seq"`
	Name           string                `json:"name"`
	Status         klaxontype.StepStatus `json:"status"`
	Output         json.RawMessage       `json:"output"`
	IdempotencyKey string                `json:"idempotency_key"`
}

// Doom is a class and a message.
type Doom struct {
	Class   klaxontype.FailureClass `json:"class"`
	Message string                  `json:"message"`
}

// ModelUsage is one model call's usage; the server prices it.
type ModelUsage struct {
	Provider          string `json:"provider,omitempty" maxLength:"100"`
	Model             string `json:"model" maxLength:"200"`
	InputTokens       int64  `json:"input_tokens" minimum:"0"`
	OutputTokens      int64  `json:"output_tokens" minimum:"0"`
	CachedInputTokens int64  `json:"cached_input_tokens,omitempty" minimum:"0"`
}

// PricedSpend is priced spend.
type PricedSpend struct {
	InputTokens  int64   `json:"input_tokens"`
	OutputTokens int64   `json:"output_tokens"`
	CachedTokens int64   `json:"cached_tokens"`
	CostUSD      float64 `json:"cost_usd"`
	CostUnknown  bool    `json:"cost_unknown" doc:"Set when a model's price is not known: the cost is then not the whole."`
	ModelCalls   int     `json:"model_calls"`
}

// SpendOf is a klaxontype.Spend on the wire.
func SpendOf(s klaxontype.Spend) PricedSpend {
	return PricedSpend{
		InputTokens: s.Usage.InputTokens, OutputTokens: s.Usage.OutputTokens, CachedTokens: s.Usage.CachedTokens,
		CostUSD: s.Cost.USD, CostUnknown: s.Cost.Unknown, ModelCalls: s.ModelCalls,
	}
}

// CheckpointRequest records a completed step.
type CheckpointRequest struct {
	WorkerID         string          `json:"worker_id" minLength:"1" maxLength:"200"`
	Workflow         string          `json:"workflow" minLength:"1" maxLength:"200"`
	Attempt          int             `json:"attempt" minimum:"1"`
	Epoch            int64           `json:"epoch" minimum:"1"`
	Name             string          `json:"name" minLength:"1" maxLength:"200"`
	IdempotencyKey   string          `json:"idempotency_key" minLength:"1" maxLength:"1000"`
	Output           json.RawMessage `json:"output"`
	DurationMS       int64           `json:"duration_ms,omitempty" minimum:"0"`
	ModelCalls       []ModelUsage    `json:"model_calls,omitempty" maxItems:"10000"`
	FailedModelCalls []ModelUsage    `json:"failed_model_calls,omitempty" maxItems:"10000"`
}

// CheckpointAnswer is the step as recorded.
type CheckpointAnswer struct {
	Seq            int         `json:"seq"`
	Name           string      `json:"name"`
	IdempotencyKey string      `json:"idempotency_key"`
	Spend          PricedSpend `json:"spend"`
	Duplicate      bool        `json:"duplicate" doc:"Set when an earlier identical request had recorded the step."`
	Doom           *Doom       `json:"doom" doc:"Set when the run's spend reached its budget: no new step may begin."`
}

// ReportedError is an error a worker reports.
type ReportedError struct {
	Kind         string                  `json:"kind" enum:"failure,timeout,panic,error"`
	Class        klaxontype.FailureClass `json:"class,omitempty"`
	Message      string                  `json:"message" maxLength:"100000"`
	Type         string                  `json:"type,omitempty" maxLength:"200"`
	Traceback    string                  `json:"traceback,omitempty" maxLength:"200000"`
	Step         string                  `json:"step,omitempty" maxLength:"200"`
	Seq          int                     `json:"seq,omitempty" minimum:"0"`
	RetryAfterMS int64                   `json:"retry_after_ms,omitempty" minimum:"0"`
}

// StepFailureReport is a failed step execution of the attempt.
type StepFailureReport struct {
	Seq        int           `json:"seq" minimum:"1"`
	Name       string        `json:"name" minLength:"1" maxLength:"200"`
	Error      ReportedError `json:"error"`
	ModelCalls []ModelUsage  `json:"model_calls,omitempty" maxItems:"10000"`
	DurationMS int64         `json:"duration_ms,omitempty" minimum:"0"`
}

// OutcomeRequest reports how an attempt's body ended.
type OutcomeRequest struct {
	WorkerID     string              `json:"worker_id" minLength:"1" maxLength:"200"`
	Attempt      int                 `json:"attempt" minimum:"1"`
	Epoch        int64               `json:"epoch" minimum:"1"`
	Mode         string              `json:"mode" enum:"run,replay"`
	Reclaimed    bool                `json:"reclaimed,omitempty"`
	Result       string              `json:"result" enum:"completed,failed,replayed,compensated"`
	Output       json.RawMessage     `json:"output,omitempty"`
	Error        *ReportedError      `json:"error,omitempty"`
	DurationMS   int64               `json:"duration_ms,omitempty" minimum:"0"`
	StepsDone    []int               `json:"steps_done,omitempty" maxItems:"100000"`
	Compensable  []int               `json:"compensable,omitempty" maxItems:"100000"`
	StepFailures []StepFailureReport `json:"step_failures,omitempty" maxItems:"10000"`
}

// OutcomeAnswer says what comes next.
type OutcomeAnswer struct {
	Next         string                  `json:"next" enum:"completed,retrying,compensate,dead,released"`
	Class        klaxontype.FailureClass `json:"class,omitempty"`
	Reason       string                  `json:"reason,omitempty"`
	RetryAt      time.Time               `json:"retry_at,omitzero"`
	DeadLetterID string                  `json:"dead_letter_id,omitempty"`
	Compensate   []CompensationToRun     `json:"compensate"`
}

// CompensationToRun is a compensation to run.
type CompensationToRun struct {
	Seq            int    `json:"seq"`
	Name           string `json:"name"`
	IdempotencyKey string `json:"idempotency_key"`
}

// CompensationRequest records a compensation's outcome.
type CompensationRequest struct {
	WorkerID string         `json:"worker_id" minLength:"1" maxLength:"200"`
	Epoch    int64          `json:"epoch" minimum:"1"`
	Error    *ReportedError `json:"error,omitempty"`
}

// CompensationAnswer says whether the outcome was recorded now.
type CompensationAnswer struct {
	Recorded bool `json:"recorded" doc:"False when an earlier attempt had recorded it."`
}

// HeldLease names a held run.
type HeldLease struct {
	RunID string `json:"run_id" minLength:"1" maxLength:"100"`
	Epoch int64  `json:"epoch" minimum:"1"`
}

// HeartbeatRequest renews leases.
type HeartbeatRequest struct {
	WorkerID string      `json:"worker_id" minLength:"1" maxLength:"200"`
	LeaseMS  int64       `json:"lease_ms,omitempty" minimum:"0" maximum:"600000"`
	Leases   []HeldLease `json:"leases" maxItems:"10000"`
}

// HeartbeatAnswer lists the leases lost.
type HeartbeatAnswer struct {
	Lost []string `json:"lost"`
}

// ReleaseRequest gives a held run back.
type ReleaseRequest struct {
	WorkerID string `json:"worker_id" minLength:"1" maxLength:"200"`
	Epoch    int64  `json:"epoch" minimum:"1"`
}

// LeaseOf is the lease a request asks for: the default when unset.
func LeaseOf(ms int64) (time.Duration, bool) {
	if ms == 0 {
		return DefaultLease, true
	}
	d := time.Duration(ms) * time.Millisecond
	return d, d >= MinLease && d <= MaxLease
}

// States of a wait a worker reached, in a WaitAnswer: the wait's
// klaxontype.WaitState names.
const (
	// WaitSatisfied: the wait's result is recorded in the step log (a due
	// sleep, a kept signal taken at once, or a wait recorded before); the
	// workflow goes on with Output.
	WaitSatisfied = string(klaxontype.WaitSatisfied)
	// WaitTimedOut: a wait for a signal or an approval passed its deadline
	// unanswered; the workflow's wait raises a timeout failure, which it may
	// catch.
	WaitTimedOut = string(klaxontype.WaitTimedOut)
	// WaitWaiting: the run now waits, with no lease: the worker stops the
	// workflow at once and sends nothing more for the run, not even an
	// outcome. A later claim goes on from the step log.
	WaitWaiting = string(klaxontype.WaitOpen)
)

// WaitRequest is a durable wait the workflow reached at a step's sequence
// number: a sleep, a wait for a signal, or a request for a person's approval.
type WaitRequest struct {
	WorkerID string              `json:"worker_id" minLength:"1" maxLength:"200"`
	Workflow string              `json:"workflow" minLength:"1" maxLength:"200"`
	Attempt  int                 `json:"attempt" minimum:"1"`
	Epoch    int64               `json:"epoch" minimum:"1"`
	Name     string              `json:"name" minLength:"1" maxLength:"200"`
	Kind     klaxontype.WaitKind `json:"kind" enum:"sleep,signal,approval"`
	// TimeoutMS is a sleep's duration, or how long a wait for a signal or a
	// decision lasts (0: the server's default, 48h), counted by the server
	// from when the run first reaches the wait.
	TimeoutMS int64 `json:"timeout_ms,omitempty" minimum:"0" doc:"A sleep's duration, or how long a signal or an approval is waited for (0: 48 hours); the server counts it from when the run first reaches the wait."`
	// Until is a sleep's due time (sleep_until); it excludes TimeoutMS.
	Until time.Time `json:"until,omitzero" doc:"A sleep's due time, for a sleep until a date the workflow chose; not with timeout_ms."`
	// Request is what an approval asks a person.
	Request *klaxontype.ApprovalRequest `json:"request,omitempty" doc:"What an approval asks: title, body, data, approvers. Only for kind approval."`
	// StepFailures are the failed step executions of the attempt so far,
	// recorded with the wait when the run goes waiting, since no outcome
	// follows then.
	StepFailures []StepFailureReport `json:"step_failures,omitempty" maxItems:"10000" doc:"The attempt's failed step executions so far: recorded when the run goes waiting, as no outcome follows."`
}

// WaitAnswer says what became of a wait.
type WaitAnswer struct {
	State string `json:"state" enum:"satisfied,timed_out,waiting"`
	Seq   int    `json:"seq"`
	Name  string `json:"name"`
	// Output is the wait's result when satisfied: null for a sleep, the
	// signal's payload, or the approval decision.
	Output json.RawMessage `json:"output,omitempty" doc:"The result when satisfied: null for a sleep, the signal's payload, or the decision {approved, by, at, comment, data}."`
	// Class and Message are the failure of a wait that timed out.
	Class   klaxontype.FailureClass `json:"class,omitempty"`
	Message string                  `json:"message,omitempty"`
	// Deadline is when the wait is due or times out, fixed when the run first
	// reached it.
	Deadline time.Time `json:"deadline,omitzero"`
	// Until is when a waiting run is claimable again.
	Until time.Time `json:"until,omitzero"`
}

// RateLimitAcquireRequest asks for one step execution's capacity of a rate
// limit (POST /api/v1/worker/ratelimits/acquire).
type RateLimitAcquireRequest struct {
	WorkerID string `json:"worker_id" minLength:"1" maxLength:"200"`
	// RunID is the run whose step asks, for the server's logs.
	RunID string `json:"run_id,omitempty" maxLength:"64"`
	Key   string `json:"key" minLength:"1" maxLength:"200"`
	// Tokens is the estimate of the tokens the step will use, reserved now
	// and settled with RateLimitSettleRequest.
	Tokens int64 `json:"tokens,omitempty" minimum:"0"`
}

// RateLimitAcquireAnswer says when the step may run. Granted: after WaitMS
// milliseconds, its capacity reserved. Not granted: the capacity is due only
// at RetryAt, further off than the server lets a step wait reserved; the
// worker asks again then.
type RateLimitAcquireAnswer struct {
	Granted bool      `json:"granted"`
	WaitMS  int64     `json:"wait_ms"`
	RetryAt time.Time `json:"retry_at,omitzero"`
	// Tokens is what was reserved, to settle against the tokens used.
	Tokens int64 `json:"tokens"`
}

// RateLimitSettleRequest charges a limit the tokens a step used against
// those it reserved (POST /api/v1/worker/ratelimits/settle).
type RateLimitSettleRequest struct {
	WorkerID string `json:"worker_id" minLength:"1" maxLength:"200"`
	Key      string `json:"key" minLength:"1" maxLength:"200"`
	Reserved int64  `json:"reserved" minimum:"0"`
	Used     int64  `json:"used" minimum:"0"`
}
