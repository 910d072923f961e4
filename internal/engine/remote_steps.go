package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/protocol"
	"github.com/klaxonhq/klaxon/store"
)

// Checkpoint records a step a remote worker completed, through the same
// step path as an in-process step: the output checked, the spend priced, the
// checkpoint fenced by the epoch and group-committed with every other
// worker's. A request repeated after a network error is answered with the
// step as recorded. When the run's spend has reached its budget, the answer
// dooms the run: the worker begins no new step.
func (r *Remote) Checkpoint(ctx context.Context, runID string, seq int, request *protocol.CheckpointRequest) (*protocol.CheckpointAnswer, error) {
	if err := checkAttempt(seq, request.WorkerID, request.Epoch, request.Attempt); err != nil {
		return nil, err
	}
	switch {
	case request.Name == "":
		return nil, invalidf("name is empty: name the step")
	case request.IdempotencyKey == "":
		return nil, invalidf("idempotency_key is empty: send the key the step was handed")
	case len(request.Output) == 0:
		return nil, invalidf("output is missing: send null for a step without one")
	case !json.Valid(request.Output):
		return nil, invalidf("output is not JSON")
	case request.DurationMS < 0:
		return nil, invalidf("duration_ms %d is negative", request.DurationMS)
	}
	if err := checkModelCalls(request.ModelCalls); err != nil {
		return nil, err
	}
	if err := checkModelCalls(request.FailedModelCalls); err != nil {
		return nil, err
	}
	definition, err := r.definitions.get(ctx, request.Workflow)
	if err != nil {
		return nil, err
	}
	if schema := definition.stepOutputSchemas[request.Name]; schema != nil && r.config.CheckSchema != nil {
		if err := r.config.CheckSchema(schema, request.Output); err != nil {
			return nil, &outputError{what: fmt.Sprintf("step %q's output", request.Name), err: err}
		}
	}
	run := &klaxontype.Run{ID: runID, Workflow: definition.Name, Epoch: request.Epoch, Attempt: request.Attempt}
	exec := r.execution(run, nil, definition, request.WorkerID)
	exec.lastSeq = seq - 1
	stepCtx := withExecution(ctx, exec)
	pending, err := BeginStep(stepCtx, StepCall{Name: request.Name, Code: &remoteStepCode{}})
	if err != nil {
		return nil, err
	}
	pending.key = request.IdempotencyKey
	spend := r.price(run, seq, request.Name, request.ModelCalls)
	finished := time.Now()
	started := finished.Add(-time.Duration(request.DurationMS) * time.Millisecond)
	_, err = pending.Finish(stepCtx, StepResult{Output: request.Output, Started: started, Finished: finished, Spend: spend})
	switch {
	case errors.Is(err, klaxontype.ErrStepExists):
		return r.recordedStep(ctx, runID, seq, request)
	case err != nil:
		return nil, err
	}
	answer := &protocol.CheckpointAnswer{
		Seq: seq, Name: request.Name, IdempotencyKey: request.IdempotencyKey, Spend: protocol.SpendOf(spend),
	}
	if len(request.ModelCalls) > 0 || len(request.FailedModelCalls) > 0 {
		// Only spend moves a run toward its budget: a step without any
		// cannot cross it, and costs no read.
		doom, err := r.budgetDoom(ctx, runID, definition, r.price(nil, 0, "", request.FailedModelCalls))
		if err != nil {
			return nil, err
		}
		answer.Doom = doom
	}
	return answer, nil
}

// recordedStep answers a checkpoint the step log already holds: the same
// request repeated is answered with the step as recorded; another step at
// the sequence is nondeterminism; the same step of an earlier attempt means
// the request's attempt no longer holds the run.
func (r *Remote) recordedStep(ctx context.Context, runID string, seq int, request *protocol.CheckpointRequest) (*protocol.CheckpointAnswer, error) {
	steps, err := r.config.Store.StepList(ctx, runID)
	if err != nil {
		return nil, err
	}
	for _, step := range steps {
		if step.Seq != seq {
			continue
		}
		switch {
		case step.Name != request.Name:
			return nil, fmt.Errorf("%w (%w)", &klaxontype.NondeterminismError{Seq: seq, Recorded: step.Name, Called: request.Name}, klaxontype.ErrNondeterminism)
		case step.Epoch == request.Epoch:
			return &protocol.CheckpointAnswer{
				Seq: seq, Name: step.Name, IdempotencyKey: step.IdempotencyKey, Spend: protocol.SpendOf(step.Spend), Duplicate: true,
			}, nil
		}
		break
	}
	return nil, fmt.Errorf("step %d %q was recorded by an earlier attempt: %w", seq, request.Name, klaxontype.ErrStepExists)
}

// budgetDoom reads the run's spend after a checkpoint, with what its failed
// steps spent, and dooms it once the budget is reached.
func (r *Remote) budgetDoom(ctx context.Context, runID string, definition *remoteDefinition, failedSpend klaxontype.Spend) (*protocol.Doom, error) {
	run, err := r.config.Store.RunGet(ctx, runID)
	if err != nil {
		return nil, err
	}
	budget := runBudget(run, definition.Definition)
	if budget.IsZero() {
		return nil, nil
	}
	if exceeded := budget.Check(run.Spend.Add(failedSpend)); exceeded != nil {
		return &protocol.Doom{Class: klaxontype.ClassBudgetExceeded, Message: exceeded.Error()}, nil
	}
	return nil, nil
}

// Compensation records the outcome of a compensation a remote worker ran.
// recorded is false when an earlier attempt had recorded it.
func (r *Remote) Compensation(ctx context.Context, runID string, seq int, request *protocol.CompensationRequest) (recorded bool, err error) {
	switch {
	case seq < 1 || seq > protocol.MaxSeq:
		return false, invalidf("step sequence %d: give 1 to %d", seq, protocol.MaxSeq)
	case request.WorkerID == "":
		return false, invalidf("worker_id is empty")
	}
	message := ""
	if request.Error != nil {
		message = request.Error.Message
		if message == "" {
			message = "the compensation failed without a message"
		}
	}
	err = r.config.Store.StepCompensate(ctx, &store.StepCompensateParams{
		Lease: store.Lease{RunID: runID, Epoch: request.Epoch}, Holder: request.WorkerID, Seq: seq, Error: message, At: time.Now(),
	})
	if errors.Is(err, klaxontype.ErrStepExists) {
		return false, nil
	}
	return err == nil, err
}

// execution is the state of a remote worker's attempt as far as one request
// needs it.
func (r *Remote) execution(run *klaxontype.Run, steps []*klaxontype.StepRecord, definition *remoteDefinition, holder string) *Execution {
	config := &r.worker.config
	exec := newExecution(run, steps, definition.Definition, holder, config.Store, config.OnStep, nil)
	exec.classifier, exec.logger, exec.tracer = config.Classifier, config.Logger, config.Tracer
	return exec
}

// price prices the model calls a remote worker reports, with the same table
// as package llm, and tells the OnSpend hook of each when a step is named.
func (r *Remote) price(run *klaxontype.Run, seq int, step string, calls []protocol.ModelUsage) klaxontype.Spend {
	var total klaxontype.Spend
	for _, call := range calls {
		usage := klaxontype.TokenUsage{InputTokens: call.InputTokens, OutputTokens: call.OutputTokens, CachedTokens: call.CachedInputTokens}
		cost := klaxontype.UnknownCost()
		if r.config.Price != nil {
			cost = r.config.Price(call.Provider, call.Model, usage)
		}
		spend := klaxontype.Spend{Usage: usage, Cost: cost, ModelCalls: 1}
		total = total.Add(spend)
		if onSpend := r.config.OnSpend; onSpend != nil && run != nil {
			outcome := &klaxontype.SpendOutcome{RunID: run.ID, Workflow: run.Workflow, Seq: seq, Step: step, Spend: spend}
			callHook(r.worker.config.Logger, "OnSpend", func() { onSpend(outcome) })
		}
	}
	return total
}

// checkModelCalls refuses usage no model call has.
func checkModelCalls(calls []protocol.ModelUsage) error {
	for i, call := range calls {
		switch {
		case call.Model == "":
			return invalidf("model call %d names no model", i+1)
		case call.InputTokens < 0 || call.OutputTokens < 0 || call.CachedInputTokens < 0:
			return invalidf("model call %d has a negative token count", i+1)
		case call.CachedInputTokens > call.InputTokens:
			return invalidf("model call %d: cached_input_tokens %d exceed input_tokens %d (cached tokens are counted in the input)", i+1, call.CachedInputTokens, call.InputTokens)
		}
	}
	return nil
}

// remoteStepCode is the code of a step a remote worker ran: the output is
// the worker's, checked before the step is finished, so there is nothing to
// decode or validate here.
type remoteStepCode struct{}

func (c *remoteStepCode) Execute(context.Context) ([]byte, error) {
	return nil, errors.New("klaxon: a remote worker's step runs in the worker")
}
func (c *remoteStepCode) Decode([]byte) error              { return nil }
func (c *remoteStepCode) Validate() error                  { return nil }
func (c *remoteStepCode) Compensate(context.Context) error { return nil }
func (c *remoteStepCode) OutputSchema() []byte             { return nil }

// outputError is an output that does not fit its registered schema.
type outputError struct {
	what string
	err  error
}

func (e *outputError) Error() string {
	return fmt.Sprintf("%s does not fit its registered schema: %v", e.what, e.err)
}
func (e *outputError) Unwrap() error        { return e.err }
func (e *outputError) Is(target error) bool { return target == klaxontype.ErrInvalidOutput }
