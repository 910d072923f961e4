package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// StepCode is the part of a step call that knows the step's output type.
// The engine holds the rules of a step (sequence, replay, guard, validation,
// checkpoint, compensation); the caller holds only what needs the type:
// klaxon.Step implements StepCode for a Go function, and a step a remote
// worker runs implements it over the output the worker sends. The engine
// calls every method guarded, since each runs user code.
type StepCode interface {
	// Execute runs the step's function in process and returns its output
	// encoded as JSON. The code keeps the output it produced, for Validate
	// and Compensate.
	Execute(ctx context.Context) ([]byte, error)
	// Decode takes an encoded output as the step's own: one the step log
	// holds (a replayed step, or an output a person resolved) or one a
	// remote worker produced.
	Decode(output []byte) error
	// Validate checks the step's output before it is checkpointed. A plain
	// error is a semantic failure; a classified one keeps its class.
	Validate() error
	// Compensate undoes the step's work. It is called only for a call whose
	// Compensates is set, once the run failed for good.
	Compensate(ctx context.Context) error
	// OutputSchema is the JSON Schema of the output type, against which a
	// person's output for the failed step is checked.
	OutputSchema() []byte
}

// StepCall is one call of a step, as the engine runs it.
type StepCall struct {
	Name string
	// Timeout bounds an in-process execution; zero is none.
	Timeout time.Duration
	// Compensates registers Code.Compensate as the step's undo.
	Compensates bool
	Code        StepCode
	// RateLimits are the limits the step draws on before it executes.
	RateLimits []RateLimitDraw
}

// PendingStep is a step call that has taken its sequence number: it is either
// in the step log already (Recorded), or waits to be executed, in process by
// Run or elsewhere and then handed to Finish.
type PendingStep struct {
	exec   *Execution
	call   StepCall
	seq    int
	key    string
	record *klaxontype.StepRecord
	// endSpan ends the step's span, when the worker has a tracer.
	endSpan func(*klaxontype.StepOutcome)
	// wait is the kind of durable wait the step call is; empty for a step
	// that runs a function.
	wait klaxontype.WaitKind
	// rateLimitWait is how long a failed step waited for rate-limit
	// capacity, for its outcome.
	rateLimitWait time.Duration
}

// StepResult is what an execution of a step produced outside this process:
// the encoded output or the error, when it ran, and what it spent.
type StepResult struct {
	Output            []byte
	Err               error
	Started, Finished time.Time
	Spend             klaxontype.Spend
	// RateLimitWait is how long the step waited for rate-limit capacity
	// before it ran.
	RateLimitWait time.Duration
}

// Step runs a step call of the run ctx belongs to, and returns the step's
// encoded output: replayed from the step log, or executed in process,
// guarded, validated and checkpointed. It is the whole step path; its caller
// only encodes and decodes.
func Step(ctx context.Context, call StepCall) ([]byte, error) {
	var step PendingStep // on the stack: the sequential path allocates no handle
	if err := step.begin(ctx, call); err != nil {
		return nil, err
	}
	return step.run(ctx) // nothing ran since begin looked for a doom
}

// BeginStep gives a step call its sequence number and finds it in the step
// log: the part of a step call that must happen in program order, so that
// steps started in parallel meet the same numbers on every attempt. A log
// entry of another name at that number is nondeterminism. A run that can no
// longer end well (nondeterminism, a budget exceeded, its timeout, a cancel,
// a lost lease) begins no more steps.
func BeginStep(ctx context.Context, call StepCall) (*PendingStep, error) {
	step := &PendingStep{}
	if err := step.begin(ctx, call); err != nil {
		return nil, err
	}
	return step, nil
}

func (p *PendingStep) begin(ctx context.Context, call StepCall) error {
	e := ExecutionFrom(ctx)
	if e == nil {
		return fmt.Errorf("klaxon: step %q called outside a workflow run", call.Name)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if cause := e.doomCauseLocked(); cause != nil {
		return notStarted(call.Name, cause)
	}
	e.lastSeq++
	p.exec, p.call, p.seq = e, call, e.lastSeq
	record := e.log[p.seq]
	if record != nil {
		p.key = record.IdempotencyKey
	} else {
		p.key = IdempotencyKey(e.run.ID, p.seq, call.Name, e.run.StepGeneration)
	}
	if record != nil && record.Name != call.Name {
		err := &klaxontype.StepError{Name: call.Name, Seq: p.seq,
			Err: &klaxontype.NondeterminismError{Seq: p.seq, Recorded: record.Name, Called: call.Name}}
		e.doomLocked(err)
		return err
	}
	if record == nil && e.replayOnly {
		return ErrReplayFrontier
	}
	if record != nil && record.Status != klaxontype.StepStatusCompleted && !e.replayOnly {
		// The step's work was undone by its compensation: its output no
		// longer stands, and only a restart can build on fresh work.
		return &klaxontype.StepError{Name: call.Name, Seq: p.seq, Err: &undoneError{status: record.Status}}
	}
	p.record = record
	if record == nil {
		return p.overBudgetLocked()
	}
	return nil
}

// overBudgetLocked refuses to execute a step once the run has spent its
// budget, and dooms the run with budget_exceeded: the engine enforces the
// budget itself, whether or not the step's function calls CheckBudget, so a
// run overruns it by at most the spend of the step that crossed it. It looks
// only at the totals the execution holds, never at the store. Called with
// e.mu held.
func (p *PendingStep) overBudgetLocked() error {
	e := p.exec
	budget := e.workflow.Budget
	if e.run.Budget != nil {
		budget = *e.run.Budget
	}
	if budget.IsZero() {
		return nil
	}
	exceeded := budget.Check(e.run.Spend.Add(e.committed).Add(e.loose))
	if exceeded == nil {
		return nil
	}
	err := &klaxontype.StepError{Name: p.call.Name, Seq: p.seq, Err: exceeded}
	if e.outputSchemas == nil {
		e.outputSchemas = make(map[int]func() []byte)
	}
	e.outputSchemas[p.seq] = p.call.Code.OutputSchema
	e.doomLocked(err)
	return err
}

// notStarted is the error of a step call refused because the run is doomed.
func notStarted(name string, cause error) error {
	return fmt.Errorf("step %q not started: %w", name, cause)
}

// Seq is the step's sequence number in the run.
func (p *PendingStep) Seq() int { return p.seq }

// IdempotencyKey is the key handed to the step's function.
func (p *PendingStep) IdempotencyKey() string { return p.key }

// Recorded is true when the step log holds the step's output: Run and Finish
// then return it without executing anything.
func (p *PendingStep) Recorded() bool { return p.record != nil }

// Run replays the step from the log, or executes its code in process and
// finishes it. The execution is bounded by the step's timeout and the run's
// context, runs in a goroutine of its own, and a panic in it is a permanent
// failure of the step.
func (p *PendingStep) Run(ctx context.Context) ([]byte, error) {
	if p.record == nil {
		e := p.exec
		e.mu.Lock()
		cause := e.doomCauseLocked()
		var overBudget error
		if cause == nil {
			// Steps begun together with Go may have spent the budget since.
			overBudget = p.overBudgetLocked()
		}
		e.mu.Unlock()
		if cause != nil {
			// Begun with Go before the run was doomed: it must not start now.
			return nil, notStarted(p.call.Name, cause)
		}
		if overBudget != nil {
			return nil, overBudget
		}
	}
	return p.run(ctx)
}

// run replays the step or executes it, once the doom was looked for.
func (p *PendingStep) run(ctx context.Context) ([]byte, error) {
	if p.record != nil {
		return p.replay(ctx)
	}
	e := p.exec
	ctx = p.trace(ctx)
	if err := context.Cause(ctx); err != nil {
		return nil, p.fail(err, 0)
	}
	reserved, waited, due, err := p.acquireRateLimits(ctx)
	switch {
	case err != nil:
		return nil, p.fail(err, 0)
	case !due.IsZero():
		return nil, p.waitForCapacity(ctx, due)
	}
	active := &activeStep{exec: e, seq: p.seq, name: p.call.Name, key: p.key}
	stepCtx, cancel := withTimeout(context.WithValue(ctx, activeStepKey{}, active), p.call.Timeout, "step")
	started := time.Now()
	output, err := bounded(stepCtx, 0, p.call.Code)
	finished := time.Now()
	cancel()
	spend := active.end()
	p.settleRateLimits(ctx, reserved, spend, err)
	return p.finish(ctx, StepResult{Output: output, Err: err, Started: started, Finished: finished, Spend: spend, RateLimitWait: waited}, false)
}

// Finish completes a step executed outside this process, by a remote worker:
// the output is decoded and validated as an in-process one would be, then
// checkpointed. A step the log already holds is replayed instead.
func (p *PendingStep) Finish(ctx context.Context, result StepResult) ([]byte, error) {
	if p.record != nil {
		return p.replay(ctx)
	}
	ctx = p.trace(ctx)
	return p.finish(ctx, result, true)
}

// replay returns the step's output from the log and registers its
// compensation.
func (p *PendingStep) replay(ctx context.Context) ([]byte, error) {
	p.trace(ctx) // a replayed step's span has no children
	output := p.record.Output
	if err := guarded(func() error { return p.call.Code.Decode(output) }); err != nil {
		return nil, p.fail(permanent(fmt.Errorf("decode stored output: %w", err)), 0)
	}
	p.exec.stepDone(p)
	if p.exec.onStep != nil || p.endSpan != nil {
		p.ended(&klaxontype.StepOutcome{RunID: p.exec.run.ID, Workflow: p.exec.run.Workflow, Seq: p.seq, Name: p.call.Name, Replayed: true, Wait: p.wait})
	}
	return output, nil
}

// finish validates an executed step's output and checkpoints it; decode is
// set when the output was produced elsewhere and the code does not hold it.
func (p *PendingStep) finish(ctx context.Context, result StepResult, decode bool) ([]byte, error) {
	err := result.Err
	if err == nil && decode {
		if decodeErr := guarded(func() error { return p.call.Code.Decode(result.Output) }); decodeErr != nil {
			err = permanent(fmt.Errorf("decode output: %w", decodeErr))
		}
	}
	if err == nil {
		err = validate(p.call.Code)
	}
	duration := result.Finished.Sub(result.Started)
	if err != nil {
		p.exec.addLooseSpend(result.Spend)
		p.rateLimitWait = result.RateLimitWait
		return nil, p.fail(err, duration)
	}
	if err := p.checkpoint(ctx, result); err != nil {
		return nil, err
	}
	return result.Output, nil
}

// validate runs the code's validation, guarded; a plain error is semantic.
func validate(code StepCode) error {
	err := guarded(code.Validate)
	if err == nil {
		return nil
	}
	var classified klaxontype.Classified
	if errors.As(err, &classified) {
		return err
	}
	return withClass(klaxontype.ClassSemantic, fmt.Errorf("output rejected by validator: %w", err))
}

// trace starts the step's span, when the worker has a tracer, and returns
// the context the step's code runs in, so that the spans of model and tool
// calls inside it are the step's children.
func (p *PendingStep) trace(ctx context.Context) context.Context {
	if p.exec.tracer == nil || p.endSpan != nil {
		return ctx
	}
	traced := ctx
	callHook(p.exec.logger, "Tracer", func() {
		traced, p.endSpan = p.exec.tracer.StartStep(ctx, p.exec.run, p.seq, p.call.Name)
	})
	return traced
}

// ended tells the OnStep hook and the step's span how the step call ended.
func (p *PendingStep) ended(outcome *klaxontype.StepOutcome) {
	if onStep := p.exec.onStep; onStep != nil {
		callHook(p.exec.logger, "OnStep", func() { onStep(outcome) })
	}
	if endSpan := p.endSpan; endSpan != nil {
		callHook(p.exec.logger, "Tracer", func() { endSpan(outcome) })
	}
}

// fail notes a failed step, to be recorded with the attempt's outcome even
// when the body handles the error, and returns its error wrapped with the
// step's name and sequence number. A step that failed because the run's budget is
// spent dooms the run: a body that swallows the error runs no more steps.
func (p *PendingStep) fail(err error, duration time.Duration) error {
	e := p.exec
	stepErr := &klaxontype.StepError{Name: p.call.Name, Seq: p.seq, Err: err}
	classified := e.classify(err)
	class := classified.Class
	e.mu.Lock()
	e.failures = append(e.failures, store.StepFailure{
		Seq: p.seq, Name: p.call.Name, Class: class, ClassifiedBy: classified.By, Message: err.Error(),
	})
	if e.outputSchemas == nil {
		e.outputSchemas = make(map[int]func() []byte)
	}
	e.outputSchemas[p.seq] = p.call.Code.OutputSchema
	if class == klaxontype.ClassBudgetExceeded {
		e.doomLocked(stepErr)
	}
	e.mu.Unlock()
	if e.onStep != nil || p.endSpan != nil {
		p.ended(&klaxontype.StepOutcome{
			RunID: e.run.ID, Workflow: e.run.Workflow, Seq: p.seq, Name: p.call.Name,
			Err: err, Class: class, Duration: duration,
			RateLimits: p.drawnKeys(), RateLimitWait: p.rateLimitWait,
		})
	}
	return stepErr
}

// checkpoint makes a completed step durable, with what it spent, and
// registers its compensation. It returns only once the step log holds the
// output. When the lease was taken over the write is refused and the
// execution stops writing.
func (p *PendingStep) checkpoint(ctx context.Context, result StepResult) error {
	e := p.exec
	begin := time.Now()
	err := e.store.StepCheckpoint(context.WithoutCancel(ctx), &store.StepCheckpointParams{
		Lease: store.Lease{RunID: e.run.ID, Epoch: e.run.Epoch}, Holder: e.holder,
		Seq: p.seq, Name: p.call.Name, Attempt: e.run.Attempt, IdempotencyKey: p.key,
		Output: result.Output, StartedAt: result.Started, FinishedAt: result.Finished, Spend: result.Spend,
		RateLimitWait: result.RateLimitWait,
	})
	latency := time.Since(begin)
	if err != nil {
		if errors.Is(err, klaxontype.ErrLeaseLost) || errors.Is(err, klaxontype.ErrStepExists) {
			e.mu.Lock()
			e.leaseLost = true
			e.mu.Unlock()
		}
		err = fmt.Errorf("checkpoint: %w", err)
		if p.endSpan != nil {
			outcome := &klaxontype.StepOutcome{
				RunID: e.run.ID, Workflow: e.run.Workflow, Seq: p.seq, Name: p.call.Name, Err: err, Class: e.Classify(err),
				Duration: result.Finished.Sub(result.Started), CheckpointLatency: latency, Spend: result.Spend,
			}
			callHook(e.logger, "Tracer", func() { p.endSpan(outcome) })
		}
		return &klaxontype.StepError{Name: p.call.Name, Seq: p.seq, Err: err}
	}
	e.mu.Lock()
	e.committed = e.committed.Add(result.Spend)
	e.mu.Unlock()
	e.stepDone(p)
	if e.onStep != nil || p.endSpan != nil {
		p.ended(&klaxontype.StepOutcome{
			RunID: e.run.ID, Workflow: e.run.Workflow, Seq: p.seq, Name: p.call.Name,
			Duration: result.Finished.Sub(result.Started), CheckpointLatency: latency, Spend: result.Spend,
			RateLimits: p.drawnKeys(), RateLimitWait: result.RateLimitWait,
		})
	}
	return nil
}

// classedError gives an error the engine produced a failure class.
type classedError struct {
	class klaxontype.FailureClass
	err   error
}

func withClass(class klaxontype.FailureClass, err error) error {
	return &classedError{class: class, err: err}
}

func permanent(err error) error { return withClass(klaxontype.ClassPermanent, err) }

func (e *classedError) Error() string                         { return e.err.Error() }
func (e *classedError) Unwrap() error                         { return e.err }
func (e *classedError) FailureClass() klaxontype.FailureClass { return e.class }
