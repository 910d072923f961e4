package klaxontype

import (
	"encoding/json"
	"time"
)

// WorkflowInfo is what the store knows of a workflow that some worker has
// registered, so that processes without the workflow's code (the CLI, the
// server) can refuse to enqueue a workflow nobody will work, or an input its
// workers could not decode.
type WorkflowInfo struct {
	Name    string `json:"name"`
	Version int    `json:"version"`
	// ExpectedSteps is the step manifest: the steps every completed run must
	// have executed.
	ExpectedSteps []string `json:"expected_steps,omitempty"`
	// InputSchema is the JSON Schema of the workflow's input type, against
	// which processes without the workflow's code check an enqueued input.
	// Empty when the registering worker recorded none.
	InputSchema json.RawMessage `json:"input_schema,omitempty"`
	// Policies are the policies the workflow was registered with; nil when
	// the registering worker recorded none.
	Policies     *WorkflowPolicies `json:"policies,omitempty"`
	RegisteredAt time.Time         `json:"registered_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
}

// WorkflowPolicies are the policies a workflow's workers apply to its runs,
// recorded at registration so that people and tools without the workflow's
// code can see them. Durations are nanoseconds in JSON, like every
// time.Duration in this package.
type WorkflowPolicies struct {
	// Retry is the retry policy with its defaults filled in: what the
	// workers really apply.
	Retry RetryPolicy `json:"retry"`
	// RunTimeout bounds each attempt; zero is no bound.
	RunTimeout time.Duration `json:"run_timeout,omitempty"`
	// Budget caps what each run may spend; nil is no cap.
	Budget *Budget `json:"budget,omitempty"`
	// Breaker is the retry-storm breaker's policy; nil when it never trips.
	Breaker *BreakerPolicy `json:"breaker,omitempty"`
	// SpendRateLimitUSDPerHour trips the breaker when the workflow's runs
	// spend more than this many dollars an hour; zero is no limit.
	SpendRateLimitUSDPerHour float64 `json:"spend_rate_limit_usd_per_hour,omitempty"`
	// DefaultPriority is the priority of a run enqueued without one; zero
	// is the default.
	DefaultPriority int `json:"default_priority,omitempty"`
	// Concurrency is the workflow's concurrency key; nil when its runs
	// are not limited by key.
	Concurrency *ConcurrencyPolicy `json:"concurrency,omitempty"`
	// OutputSchema is the JSON Schema of a run's output, when the workflow's
	// workers declared one: a worker of the protocol cannot complete a run
	// with an output that does not fit it.
	OutputSchema json.RawMessage `json:"output_schema,omitempty"`
	// StepOutputSchemas are the JSON Schemas of step outputs, by step name,
	// when declared: a checkpoint whose output does not fit is refused.
	StepOutputSchemas map[string]json.RawMessage `json:"step_output_schemas,omitempty"`
	// Redact are the JSON paths ($.customer.email, $.documents[*].text)
	// whose values the HTTP API, the dashboard and the notifications mask
	// for every token below admin, in every payload of the workflow's runs.
	// The store keeps the values intact.
	Redact []string `json:"redact,omitempty"`
	// RedactPatterns are regular expressions (Go RE2 syntax) whose matches
	// are masked like Redact's values, in every string of those payloads
	// and in the runs' error messages.
	RedactPatterns []string `json:"redact_patterns,omitempty"`
}
