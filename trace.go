package klaxon

import (
	"context"

	"github.com/klaxonhq/klaxon/internal/engine"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// StartModelCall starts the span of a model call made inside a step's
// function, when the worker has a Config.Tracer, and returns the context to
// call the provider with and the function that ends the span. Without a
// tracer, or outside a step, it returns ctx and a function that does nothing.
// llm.Call uses it; call it yourself only for model calls made without
// package llm.
func StartModelCall(ctx context.Context, call *klaxontype.ModelCall) (context.Context, func(*klaxontype.ModelCallOutcome)) {
	exec := engine.ExecutionFrom(ctx)
	if exec == nil || exec.Tracer() == nil {
		return ctx, endNothing[*klaxontype.ModelCallOutcome]
	}
	ctx, end := exec.Tracer().StartModelCall(ctx, call)
	return ctx, func(outcome *klaxontype.ModelCallOutcome) {
		if outcome.Err != nil && outcome.Class == "" {
			outcome.Class = exec.Classify(outcome.Err)
		}
		end(outcome)
	}
}

// StartToolCall starts the span of a tool call executed inside a step's
// function, as StartModelCall does for a model call. llm.ExecuteTool uses it.
func StartToolCall(ctx context.Context, call *klaxontype.ToolCall) (context.Context, func(*klaxontype.ToolCallOutcome)) {
	exec := engine.ExecutionFrom(ctx)
	if exec == nil || exec.Tracer() == nil {
		return ctx, endNothing[*klaxontype.ToolCallOutcome]
	}
	return exec.Tracer().StartToolCall(ctx, call)
}

// traceChildStarted tells the worker's tracer, when it is a ChildTracer, that the
// step ctx belongs to started or found child, so the step's span names it.
func traceChildStarted(ctx context.Context, child *klaxontype.Run) {
	exec := engine.ExecutionFrom(ctx)
	if exec == nil {
		return
	}
	if tracer, ok := exec.Tracer().(klaxontype.ChildTracer); ok {
		tracer.ChildStarted(ctx, child)
	}
}

func endNothing[T any](T) {}
