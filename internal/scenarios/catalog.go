package scenarios

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Catalog is the list of scenarios, as testdata/scenarios.json holds it.
type Catalog struct {
	Scenarios []*Scenario `json:"scenarios"`
}

// Scenario is one workflow shape and the outcome expected of it. Its name is
// also the workflow's name, so that every interpreter registers it as such.
type Scenario struct {
	Name string `json:"name"`
	// About says in a sentence what the scenario proves.
	About       string   `json:"about"`
	ExpectSteps []string `json:"expect_steps,omitempty"`
	Retry       *Retry   `json:"retry,omitempty"`
	Budget      *Budget  `json:"budget,omitempty"`
	Steps       []*Step  `json:"steps"`
	// Worker is "dedicated" when the scenario needs worker processes of its
	// own (it kills or starves one); the shared worker does not host it.
	Worker string `json:"worker,omitempty"`
	// Child marks a workflow that only the catalog's parents start (Step's
	// Child): the harness does not enqueue it by itself.
	Child bool `json:"child,omitempty"`
	// Action is what the harness does to the run while or after it runs.
	Action *Action  `json:"action,omitempty"`
	Expect Expected `json:"expect"`
}

// Dedicated reports whether the scenario runs on worker processes of its own.
func (s *Scenario) Dedicated() bool { return s.Worker == "dedicated" }

// Retry is the workflow's retry policy, in milliseconds as the worker
// protocol registers it.
type Retry struct {
	MaxAttempts      int            `json:"max_attempts,omitempty"`
	InitialBackoffMS int64          `json:"initial_backoff_ms,omitempty"`
	MaxBackoffMS     int64          `json:"max_backoff_ms,omitempty"`
	MaxRetryAfterMS  int64          `json:"max_retry_after_ms,omitempty"`
	Classes          map[string]int `json:"classes,omitempty"`
}

// Budget caps a run's spend; a zero field is no cap.
type Budget struct {
	Tokens int64   `json:"tokens,omitempty"`
	USD    float64 `json:"usd,omitempty"`
}

// Step is one step call of the workflow body and what the step does. Every
// execution of the step's function first records the effect Name on the
// effects server, whose answer (how many times it has now happened) drives the
// "only the first N times" behaviours the same way in every language.
type Step struct {
	Name string `json:"name"`
	// Value is the value the step returns, inside StepOutput.
	Value string `json:"value,omitempty"`
	// RenamedOnLaterAttempt is the name the body calls this step by when it
	// runs for the second time or later (nondeterminism).
	RenamedOnLaterAttempt string `json:"renamed_on_later_attempt,omitempty"`
	// TimeoutMS is the step's timeout; 0 is none.
	TimeoutMS int64 `json:"timeout_ms,omitempty"`
	// Block makes the step wait until the harness releases it.
	Block *Times `json:"block,omitempty"`
	// Sleep makes the step sleep, ignoring cancellation, before it returns.
	Sleep *Sleep `json:"sleep,omitempty"`
	// Spend is a model call the step records.
	Spend *Spend `json:"spend,omitempty"`
	// Fail makes the step fail.
	Fail *Fail `json:"fail,omitempty"`
	// Validate is a validator that rejects the step's output.
	Validate *Reject `json:"validate,omitempty"`
	// Compensate registers a compensation that records the effect
	// "NAME.compensate", and fails when Fail is set.
	Compensate *Compensation `json:"compensate,omitempty"`
	// Swallow makes the body catch the step's error and go on.
	Swallow bool `json:"swallow,omitempty"`
	// ReturnAfter makes the body return right after this step, leaving later
	// steps uncalled.
	ReturnAfter bool `json:"return_after,omitempty"`
	// Wait makes the step a durable wait named Name instead of a function:
	// it records no effect, and the harness's action answers it.
	Wait *Wait `json:"wait,omitempty"`
	// Child makes the step a fan-out to child runs instead of a function.
	Child *Child `json:"child,omitempty"`
}

// Child is a fan-out and fan-in: the body starts Count runs of the scenario
// Workflow, in steps named NAME-1 … NAME-N (in program order, with the
// inputs {"key": KEY/NAME-i}), then awaits them all at once (awaits named
// like the starts). For each child's output it adds "NAME-i:" and the
// child's completed steps joined with "+" to its own output.
type Child struct {
	Workflow string `json:"workflow"`
	Count    int    `json:"count"`
}

// ChildKey is the effects key of a child a fan-out step named name started
// i-th (from 1), in the run whose key is key.
func ChildKey(key, name string, i int) string { return fmt.Sprintf("%s/%s-%d", key, name, i) }

// ChildStep is the name of the i-th (from 1) child's start and await steps.
func ChildStep(name string, i int) string { return fmt.Sprintf("%s-%d", name, i) }

// Wait is a durable wait of the body: Kind "sleep" for MS, "signal" (its
// payload is the wait's result) or "approval" with Title, waited for MS
// (0: the engine's default).
type Wait struct {
	Kind  string `json:"kind"`
	MS    int64  `json:"ms,omitempty"`
	Title string `json:"title,omitempty"`
}

// Times limits a behaviour to the first N executions of a step; 0 is every
// execution.
type Times struct {
	First int `json:"first,omitempty"`
}

// Applies reports whether the behaviour applies to the step's nth execution.
func (t *Times) Applies(n int) bool { return t != nil && (t.First == 0 || n <= t.First) }

// Sleep is a sleep in the step's first N executions.
type Sleep struct {
	Times
	MS int64 `json:"ms"`
}

// Spend is a model call with its token counts, priced by the engine.
type Spend struct {
	Provider     string `json:"provider"`
	Model        string `json:"model"`
	InputTokens  int64  `json:"input_tokens"`
	OutputTokens int64  `json:"output_tokens"`
}

// Fail is how a step fails: Kind "class" raises a failure of Class (with
// RetryAfterMS for rate_limited), "error" a plain error or exception the code
// did not classify, "panic" a programming error (a Go panic, a Python
// TypeError).
type Fail struct {
	Times
	Kind         string `json:"kind"`
	Class        string `json:"class,omitempty"`
	Message      string `json:"message"`
	RetryAfterMS int64  `json:"retry_after_ms,omitempty"`
}

// Reject is a validator that rejects the step's output in its first N
// executions with Message.
type Reject struct {
	Times
	Message string `json:"message"`
}

// Compensation is a step's undo.
type Compensation struct {
	Fail    bool   `json:"fail,omitempty"`
	Message string `json:"message,omitempty"`
}

// Action is what the harness does to a run: "cancel" once Step blocks;
// "kill" (SIGKILL the worker once Step blocks, then start another);
// "stale" (the worker holding Step is frozen with SIGSTOP, another takes the
// run over once the lease expires and completes it, then the first resumes
// and checkpoints late, which must be refused as duplicate.suppressed);
// "resolve" the dead-letter entry with Output for Step; "replay" the entry
// from Step; "signal" (send the signal Signal with Output as its payload
// once Step blocks, before the run reaches the wait, then release Step);
// "approve" the approval Step once the run waits on it; "release_children"
// (once the run waits on the children of its fan-out step Step, release
// every step of theirs that blocks).
type Action struct {
	Kind   string          `json:"kind"`
	Step   string          `json:"step"`
	Output json.RawMessage `json:"output,omitempty"`
	Signal string          `json:"signal,omitempty"`
}

// Expected is the outcome every language must reach.
type Expected struct {
	Status string `json:"status"`
	Class  string `json:"class,omitempty"`
	// Attempts is the run's attempt count when it ended.
	Attempts int `json:"attempts"`
	// AttemptClasses are the classes of the run's failed attempts, oldest
	// first.
	AttemptClasses []string `json:"attempt_classes"`
	// FailedStep names the step of the run's failure.
	FailedStep string `json:"failed_step,omitempty"`
	// Steps is the step log: each step's name and status, in sequence order.
	Steps []StepRecord `json:"steps"`
	// Effects counts every effect recorded on the effects server: "body" once
	// per execution of the workflow body, each step's name once per execution
	// of its function, "NAME.compensate" per compensation.
	Effects map[string]int `json:"effects"`
	// Channel is the dead-letter channel of a dead run.
	Channel string `json:"channel,omitempty"`
	// DeadLetterState is the state of the run's (last) dead-letter entry.
	DeadLetterState string `json:"dead_letter_state,omitempty"`
	// Output is the run's output when it completed.
	Output json.RawMessage `json:"output,omitempty"`
	// Tokens is the run's total tokens.
	Tokens int64 `json:"tokens,omitempty"`
	// CostUSD is the run's total cost, priced by the engine's one price
	// table whichever language reported the model calls.
	CostUSD *float64 `json:"cost_usd,omitempty"`
	// Reason is how the run's failure reason must begin: the text an
	// operator reads, the same whichever language the run was worked in.
	Reason string `json:"reason,omitempty"`
	// AttemptMessages are how the messages of the failed attempts must
	// begin, oldest first.
	AttemptMessages []string `json:"attempt_messages,omitempty"`
	// Events are the types of the run's event log, in order, leaving out
	// duplicate.suppressed: whether a worker that lost a run (cancelled, say)
	// still sends a write depends on when it hears of it. The stale action
	// asserts its refused checkpoint on its own.
	Events []string `json:"events"`
	// Children are the statuses of the run's child runs, in the order they
	// were started; not asserted when absent.
	Children []string `json:"children,omitempty"`
	// MinRetryDelayMS is the least time between the first failed attempt and
	// the step that completed after it (a Retry-After honoured).
	MinRetryDelayMS int64 `json:"min_retry_delay_ms,omitempty"`
}

// StepRecord is a step of the expected step log. Execution, when not 0, is the
// execution of the step's function whose output the log holds.
type StepRecord struct {
	Name      string `json:"name"`
	Status    string `json:"status"`
	Execution int    `json:"execution,omitempty"`
}

// Input is every scenario run's input: Key names the run on the effects
// server, so that a worker needs no run ID to count its effects.
type Input struct {
	Key string `json:"key"`
}

// StepOutput is every step's output.
type StepOutput struct {
	Value string `json:"value"`
	// Execution is the count of the step's effect when this output was made.
	Execution int `json:"execution"`
}

// Output is every workflow's output: the names of the steps whose calls
// returned, in order.
type Output struct {
	Completed []string `json:"completed"`
}

// Load reads a catalog file and checks it.
func Load(path string) (*Catalog, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var catalog Catalog
	if err := json.Unmarshal(data, &catalog); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	seen := map[string]bool{}
	for _, scenario := range catalog.Scenarios {
		if scenario.Name == "" || seen[scenario.Name] {
			return nil, fmt.Errorf("%s: a scenario without a name, or a name used twice (%q)", path, scenario.Name)
		}
		seen[scenario.Name] = true
		if len(scenario.Steps) == 0 {
			return nil, fmt.Errorf("%s: scenario %s has no steps", path, scenario.Name)
		}
	}
	return &catalog, nil
}

// Get returns the named scenario, or nil.
func (c *Catalog) Get(name string) *Scenario {
	for _, scenario := range c.Scenarios {
		if scenario.Name == name {
			return scenario
		}
	}
	return nil
}

// Millis turns milliseconds into a duration.
func Millis(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }
