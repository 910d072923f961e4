package klaxon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/klaxonhq/klaxon/internal/engine"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// Workflow is a named Go function from In to Out made of steps, with its
// policies. Make one with NewWorkflow and register it with a Client.
type Workflow[In, Out any] struct {
	name    string
	fn      func(ctx context.Context, input In) (Out, error)
	options workflowOptions
}

type workflowOptions struct {
	version         int
	expectedSteps   []string
	retry           klaxontype.RetryPolicy
	runTimeout      time.Duration
	budget          klaxontype.Budget
	breaker         klaxontype.BreakerPolicy
	spendRate       float64
	schedules       []*scheduleDeclaration
	defaultPriority int
	// concurrencyKey and concurrencyLimit are WithConcurrencyKey's,
	// checked by Client.Register; concurrencyKey is nil without one.
	concurrencyKey   func(input []byte) (string, error)
	concurrencyLimit int
	// redact and redactPatterns are the redaction rule (Redact,
	// RedactPattern), checked by Client.Register.
	redact         []string
	redactPatterns []string
}

// WorkflowOption sets a policy of a workflow.
type WorkflowOption func(*workflowOptions)

// Version sets the workflow's version, recorded on every run; default 1.
func Version(version int) WorkflowOption {
	return func(o *workflowOptions) { o.version = version }
}

// ExpectSteps declares the workflow's step manifest: the names of the steps
// every run must execute. A run whose workflow returns without having executed
// all of them ends dead with the class partial_completion, never completed.
func ExpectSteps(names ...string) WorkflowOption {
	return func(o *workflowOptions) { o.expectedSteps = append([]string(nil), names...) }
}

// WithRetryPolicy sets how often and how soon failed runs are retried.
func WithRetryPolicy(policy klaxontype.RetryPolicy) WorkflowOption {
	return func(o *workflowOptions) { o.retry = policy }
}

// RunTimeout bounds each attempt of the workflow function. An attempt that runs
// past it fails with the class timeout and is retried like any timeout.
func RunTimeout(timeout time.Duration) WorkflowOption {
	return func(o *workflowOptions) { o.runTimeout = timeout }
}

// WithBudget caps what each run may spend on model calls, in tokens and
// dollars; a run that reaches it fails with budget_exceeded at its next model
// call. WithRunBudget overrides it for one run.
func WithBudget(budget klaxontype.Budget) WorkflowOption {
	return func(o *workflowOptions) { o.budget = budget }
}

// WithBreaker trips the workflow's breaker on a retry storm: when, over the
// policy's window, enough attempts ended and enough of them failed. While it
// is open the workflow's pending and retrying runs wait unclaimed, not
// dropped, until the cool-down ends or Client.ResetBreaker.
func WithBreaker(policy klaxontype.BreakerPolicy) WorkflowOption {
	return func(o *workflowOptions) { o.breaker = policy }
}

// WithSpendRateLimit trips the workflow's breaker when its runs spend more
// than usdPerHour dollars on model calls within an hour (or when a cost is
// unknown, since the rate then cannot be kept).
func WithSpendRateLimit(usdPerHour float64) WorkflowOption {
	return func(o *workflowOptions) { o.spendRate = usdPerHour }
}

// DefaultPriority sets the priority of the workflow's runs enqueued without
// WithPriority, klaxontype.MinPriority..MaxPriority (-100..100); default 0.
// It is recorded with the workflow's registration, so that an enqueue from a
// process without the workflow's code (the HTTP API, the klaxon command)
// applies it too. Client.Register refuses a priority out of range.
func DefaultPriority(priority int) WorkflowOption {
	return func(o *workflowOptions) { o.defaultPriority = priority }
}

// WithConcurrencyKey limits the workflow's runs by a key computed from
// their input: at most limit runs with the same key run at once, across
// every worker of the database (one run per customer at a time, ten per
// tenant). A worker judges a run when it first claims it: when the key's
// slots are all held, or older runs of the key wait already, the run waits
// in pending, out of every claim, and takes a slot when one frees, oldest
// first; nothing is dropped. A run holds its slot until it ends, through
// backoffs, waits and compensation. A run whose key is empty is not
// limited. Keys are shown to every reader of the run: use IDs, not
// personal data. Client.Register refuses a limit below 1.
//
// It panics when key is nil, like http.HandleFunc with a nil handler.
func WithConcurrencyKey[In any](key func(input In) string, limit int) WorkflowOption {
	if key == nil {
		panic("klaxon: WithConcurrencyKey: the key function is nil")
	}
	return func(o *workflowOptions) {
		o.concurrencyLimit = limit
		o.concurrencyKey = func(input []byte) (string, error) {
			var in In
			if err := json.Unmarshal(input, &in); err != nil {
				return "", err
			}
			return key(in), nil
		}
	}
}

// NewWorkflow defines a workflow. The function is called on every attempt of a
// run; see the package documentation for the determinism rule it must follow.
func NewWorkflow[In, Out any](name string, fn func(ctx context.Context, input In) (Out, error), opts ...WorkflowOption) *Workflow[In, Out] {
	w := &Workflow[In, Out]{name: name, fn: fn, options: workflowOptions{version: 1}}
	for _, opt := range opts {
		opt(&w.options)
	}
	return w
}

// Name is the workflow's name, under which runs are enqueued.
func (w *Workflow[In, Out]) Name() string { return w.name }

// Registrable is a workflow a Client can register: any *Workflow.
type Registrable interface {
	Name() string
	definition() *engine.Definition
	checkInput(input []byte) error
	inputSchema() []byte
	scheduleDeclarations() []*scheduleDeclaration
	checkRedaction() error
	redaction() (paths, patterns []string)
}

func (w *Workflow[In, Out]) definition() *engine.Definition {
	return &engine.Definition{
		Name:             w.name,
		Version:          w.options.version,
		ExpectedSteps:    w.options.expectedSteps,
		Retry:            w.options.retry.WithDefaults(),
		RunTimeout:       w.options.runTimeout,
		Budget:           w.options.budget,
		Breaker:          w.options.breaker,
		SpendRateLimit:   w.options.spendRate,
		Priority:         w.options.defaultPriority,
		ConcurrencyKey:   w.options.concurrencyKey,
		ConcurrencyLimit: w.options.concurrencyLimit,
		Execute:          w.execute,
	}
}

// checkDefinition refuses a workflow whose options cannot be kept, naming
// the workflow and the option.
func checkDefinition(w Registrable) error {
	definition := w.definition()
	if err := klaxontype.CheckPriority(definition.Priority); err != nil {
		return fmt.Errorf("klaxon: workflow %q: DefaultPriority: %w", w.Name(), err)
	}
	if definition.ConcurrencyKey != nil {
		if err := klaxontype.CheckConcurrencyLimit(definition.ConcurrencyLimit); err != nil {
			return fmt.Errorf("klaxon: workflow %q: WithConcurrencyKey: %w", w.Name(), err)
		}
	}
	return nil
}

// scheduleDeclarations are the schedules declared with Schedule.
func (w *Workflow[In, Out]) scheduleDeclarations() []*scheduleDeclaration { return w.options.schedules }

// inputSchema is the JSON Schema of the input type, recorded at Start.
func (w *Workflow[In, Out]) inputSchema() []byte { return inputSchema[In]() }

// policies are the definition's policies as the store records them.
func policies(definition *engine.Definition) *klaxontype.WorkflowPolicies {
	recorded := &klaxontype.WorkflowPolicies{
		Retry:                    definition.Retry,
		RunTimeout:               definition.RunTimeout,
		SpendRateLimitUSDPerHour: definition.SpendRateLimit,
		DefaultPriority:          definition.Priority,
	}
	if !definition.Budget.IsZero() {
		recorded.Budget = &definition.Budget
	}
	if definition.Breaker != (klaxontype.BreakerPolicy{}) {
		recorded.Breaker = &definition.Breaker
	}
	if definition.ConcurrencyKey != nil {
		recorded.Concurrency = &klaxontype.ConcurrencyPolicy{Limit: definition.ConcurrencyLimit}
	}
	return recorded
}

// execute adapts the typed function to JSON in and out.
func (w *Workflow[In, Out]) execute(ctx context.Context, input []byte) ([]byte, error) {
	var in In
	if err := json.Unmarshal(input, &in); err != nil {
		return nil, Permanent(fmt.Errorf("decode input: %w", err))
	}
	out, err := w.fn(ctx, in)
	if err != nil {
		return nil, err
	}
	encoded, err := json.Marshal(out)
	if err != nil {
		return nil, Permanent(fmt.Errorf("encode output: %w", err))
	}
	return encoded, nil
}

// checkInput decodes input strictly into the input type: unknown fields and
// trailing data are refused, because they are usually a mistake.
func (w *Workflow[In, Out]) checkInput(input []byte) error {
	decoder := json.NewDecoder(&wholeReader{rest: input})
	decoder.DisallowUnknownFields()
	var in In
	if err := decoder.Decode(&in); err != nil {
		return &InputError{Workflow: w.name, Err: err}
	}
	if decoder.More() {
		return &InputError{Workflow: w.name, Err: errors.New("trailing data after the JSON value")}
	}
	return nil
}

// wholeReader reads a byte slice and says io.EOF with its last bytes, not on
// the read after: a json.Decoder that has already seen the end does not grow
// its buffer to read again (1.5 KB for every input checked at enqueue).
type wholeReader struct{ rest []byte }

func (r *wholeReader) Read(p []byte) (int, error) {
	n := copy(p, r.rest)
	r.rest = r.rest[n:]
	if len(r.rest) == 0 {
		return n, io.EOF
	}
	return n, nil
}

// Enqueue creates a run of the workflow with a typed input.
func (w *Workflow[In, Out]) Enqueue(ctx context.Context, client *Client, input In, opts ...EnqueueOption) (*EnqueueResult, error) {
	encoded, err := json.Marshal(input)
	if err != nil {
		return nil, &InputError{Workflow: w.name, Err: err}
	}
	return client.Enqueue(ctx, w.name, encoded, opts...)
}

// Output decodes the output of a completed run.
func (w *Workflow[In, Out]) Output(run *klaxontype.Run) (Out, error) {
	var out Out
	if run.Status != klaxontype.RunStatusCompleted {
		return out, &RunFailedError{Run: run}
	}
	if err := json.Unmarshal(run.Output, &out); err != nil {
		return out, fmt.Errorf("decode output of run %s: %w", run.ID, err)
	}
	return out, nil
}

// Await waits until the run is terminal and returns its output, or a
// *RunFailedError when it ended dead or cancelled.
func (w *Workflow[In, Out]) Await(ctx context.Context, client *Client, runID string) (Out, error) {
	run, err := client.AwaitRun(ctx, runID)
	if err != nil {
		var zero Out
		return zero, err
	}
	return w.Output(run)
}
