package klaxontype

import "context"

// Tracer receives the spans of a worker's runs: one per attempt of a run, one
// per step call inside it, and one per model call and tool call inside a
// step. Each Start method returns the context the traced work runs in (its
// span's children start from it) and the function that ends the span with its
// outcome; the end function is called exactly once.
//
// The engine only calls a Tracer; it never depends on a tracing library.
// Package tracing implements Tracer with OpenTelemetry. The engine calls a
// Tracer from many goroutines at once. The values it passes are read-only and
// must not be kept after the end function returns.
type Tracer interface {
	// StartAttempt starts the span of one attempt of run, as claimed by this
	// worker. The workflow function runs in the returned context.
	StartAttempt(ctx context.Context, run *Run) (context.Context, func(*AttemptOutcome))
	// StartStep starts the span of a step call at sequence number seq of an
	// attempt of run. The step's function runs in the returned context. A
	// replayed step (answered from the step log) ends at once with
	// StepOutcome.Replayed set: it never ran.
	StartStep(ctx context.Context, run *Run, seq int, name string) (context.Context, func(*StepOutcome))
	// StartModelCall starts the span of one call to a model provider, inside
	// a step's function.
	StartModelCall(ctx context.Context, call *ModelCall) (context.Context, func(*ModelCallOutcome))
	// StartToolCall starts the span of one tool an agent executes, inside a
	// step's function.
	StartToolCall(ctx context.Context, call *ToolCall) (context.Context, func(*ToolCallOutcome))
}

// ChildTracer is a Tracer that also hears when a step started a child run,
// so that the step's span can name the child. The engine calls ChildStarted
// from inside the step's function, with the context the step runs in, when
// its Tracer implements it.
type ChildTracer interface {
	ChildStarted(ctx context.Context, child *Run)
}

// ModelCall is a request to a model provider, as a tracer sees it.
type ModelCall struct {
	// Provider names the provider ("openai", "anthropic").
	Provider string
	// Operation is the kind of call; "chat" for a chat completion.
	Operation string
	// Model is the model the request asked for.
	Model string
	// MaxTokens is the request's cap on output tokens; zero is none.
	MaxTokens int
	// Temperature is the request's temperature; nil is the provider's
	// default.
	Temperature *float64
}

// ModelCallOutcome is how a model call ended.
type ModelCallOutcome struct {
	// ResponseModel is the model that answered, as the provider named it;
	// empty when unknown.
	ResponseModel string
	// FinishReason is the provider's reason for stopping (stop, length,
	// tool_calls, …); empty when there was no answer.
	FinishReason string
	Usage        TokenUsage
	Cost         Cost
	// Err is the call's error; nil when it answered.
	Err error
	// Class is the failure class of Err, when it has one.
	Class FailureClass
}

// ToolCall is one tool an agent executes, as a tracer sees it.
type ToolCall struct {
	Name string
	// CallID is the model's ID for the call.
	CallID string
}

// ToolCallOutcome is how a tool call ended.
type ToolCallOutcome struct {
	// Err is the tool's error. A tool's error is normally returned to the
	// model, not raised as a failure of the step; Class is set only when it
	// failed the step.
	Err   error
	Class FailureClass
}
