package llm

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// ToolResult is the record of one tool call the agent executed, kept in the
// step log.
type ToolResult struct {
	CallID    string          `json:"call_id"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
	// Result is the tool's output, when it succeeded.
	Result json.RawMessage `json:"result,omitempty"`
	// Error is the tool's error, when it failed: it is recorded and returned
	// to the model, not raised as a failure of the run.
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration"`
}

// ToolFunc runs a tool with the model's arguments.
type ToolFunc func(ctx context.Context, arguments json.RawMessage) (json.RawMessage, error)

// ExecuteTool runs one tool call as a checkpointed step named "tool:NAME":
// it runs once, and a retry or resume replays the recorded result. Inside fn,
// klaxon.IdempotencyKey gives the call its own key, derived from the run, the
// step's sequence number and the tool's name. A tool's error is part of the
// record, for the agent to show the model; return a classified error
// (klaxon.Transient, …) from fn to fail the step instead, for the engine to
// retry.
func ExecuteTool(ctx context.Context, call ToolCall, fn ToolFunc) (*ToolResult, error) {
	return klaxon.Step(ctx, "tool:"+call.Name, func(ctx context.Context) (*ToolResult, error) {
		started := time.Now()
		toolCtx, endSpan := klaxon.StartToolCall(ctx, &klaxontype.ToolCall{Name: call.Name, CallID: call.ID})
		result, err := fn(toolCtx, call.Arguments)
		outcome := &klaxontype.ToolCallOutcome{Err: err}
		var classified klaxontype.Classified
		if errors.As(err, &classified) {
			// Only a classified error fails the step; others go to the model.
			outcome.Class = classified.FailureClass()
		}
		endSpan(outcome)
		record := &ToolResult{CallID: call.ID, Name: call.Name, Arguments: call.Arguments, Duration: time.Since(started)}
		if err != nil {
			if isClassified(err) {
				return nil, err
			}
			record.Error = err.Error()
			return record, nil
		}
		if len(result) == 0 {
			result = json.RawMessage("null")
		}
		record.Result = result
		return record, nil
	})
}
