package klaxon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/klaxonhq/klaxon/internal/engine"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// StepOption configures one step call.
type StepOption func(*stepOptions)

type stepOptions struct {
	timeout    time.Duration
	compensate func(ctx context.Context, output any) error
	validators []func(output any) error
}

// StepTimeout bounds the step's function. When it runs past the timeout the
// step fails with the class timeout; a function that ignores its context is
// left to finish in the background and its result is discarded.
func StepTimeout(timeout time.Duration) StepOption {
	return func(o *stepOptions) { o.timeout = timeout }
}

// Compensate registers the undo of a step. If the run later fails for good,
// the compensations of its completed steps run in reverse order, each recorded
// in the step log and run at most once. The compensation receives the step's
// output and, through IdempotencyKey, a key of its own.
func Compensate[T any](fn func(ctx context.Context, output T) error) StepOption {
	return func(o *stepOptions) {
		o.compensate = func(ctx context.Context, output any) error {
			typed, ok := output.(T)
			if !ok {
				return Permanent(fmt.Errorf("compensation takes %T but the step returned %T", typed, output))
			}
			return fn(ctx, typed)
		}
	}
}

// Validate checks a step's output before it is checkpointed. An output that
// fails is a semantic failure of the step (unless the validator's error carries
// another class): it is not recorded as completed, and the attempt is retried
// as the workflow's policy for semantic failures says. A step may carry several
// validators; they run in order.
func Validate[T any](check func(output T) error) StepOption {
	return func(o *stepOptions) {
		o.validators = append(o.validators, func(output any) error {
			typed, ok := output.(T)
			if !ok {
				return Permanent(fmt.Errorf("validator takes %T but the step returned %T", typed, output))
			}
			return check(typed)
		})
	}
}

// Step runs fn as a checkpointed step of the current run. The first time the
// run reaches it, fn runs and its output is made durable before Step returns;
// on every later attempt Step returns the stored output without calling fn.
// The step's idempotency key, stable across retries, is available to fn
// through IdempotencyKey(ctx).
//
// The error of a failed step is returned wrapped in a *klaxontype.StepError;
// return it from the workflow to fail the attempt with the error's class.
func Step[T any](ctx context.Context, name string, fn func(ctx context.Context) (T, error), opts ...StepOption) (T, error) {
	var zero T
	exec, handle, options, err := beginStep(ctx, name, opts)
	if err != nil {
		return zero, err
	}
	return runStep(ctx, exec, handle, options, fn)
}

// beginStep takes the step's sequence number: the part of a step call that must
// happen in program order.
func beginStep(ctx context.Context, name string, opts []StepOption) (*engine.Execution, engine.StepHandle, stepOptions, error) {
	var options stepOptions
	for _, opt := range opts {
		opt(&options)
	}
	exec := engine.ExecutionFrom(ctx)
	if exec == nil {
		return nil, engine.StepHandle{}, options, fmt.Errorf("klaxon: step %q called outside a workflow run", name)
	}
	handle, err := exec.BeginStep(name)
	return exec, handle, options, err
}

// runStep replays the step from the log or runs and checkpoints it.
func runStep[T any](ctx context.Context, exec *engine.Execution, handle engine.StepHandle, options stepOptions, fn func(ctx context.Context) (T, error)) (T, error) {
	var zero T
	info := StepInfo{
		RunID: exec.Run().ID, Workflow: exec.Run().Workflow, Seq: handle.Seq, Name: handle.Name,
		IdempotencyKey: handle.IdempotencyKey, Attempt: exec.Run().Attempt,
	}
	if handle.Record != nil {
		exec.TraceStep(ctx, &handle) // a replayed step's span has no children
		var out T
		if err := json.Unmarshal(handle.Record.Output, &out); err != nil {
			return zero, exec.StepFailed(handle, Permanent(fmt.Errorf("decode stored output: %w", err)), 0, outputSchema[T])
		}
		exec.StepReplayed(handle, compensation(info, options, out))
		return out, nil
	}
	stepCtx := exec.TraceStep(ctx, &handle)
	if err := context.Cause(ctx); err != nil {
		return zero, exec.StepFailed(handle, err, 0, outputSchema[T])
	}
	started := time.Now()
	spend := &stepSpend{exec: exec, handle: handle}
	out, err := callStep(context.WithValue(withStepInfo(stepCtx, info), stepSpendKey{}, spend), fn, options.timeout)
	finished := time.Now()
	if err == nil {
		err = validate(out, options.validators)
	}
	if err != nil {
		exec.AddLooseSpend(spend.total())
		return zero, exec.StepFailed(handle, err, finished.Sub(started), outputSchema[T])
	}
	encoded, err := json.Marshal(out)
	if err != nil {
		return zero, exec.StepFailed(handle, Permanent(fmt.Errorf("encode output: %w", err)), finished.Sub(started), outputSchema[T])
	}
	if err := exec.Checkpoint(ctx, handle, encoded, started, finished, spend.total(), compensation(info, options, out)); err != nil {
		return zero, err
	}
	return out, nil
}

// validate runs a step's validators; a plain error from one is semantic.
func validate(out any, validators []func(any) error) error {
	for _, check := range validators {
		if err := check(out); err != nil {
			var classified klaxontype.Classified
			if errors.As(err, &classified) {
				return err
			}
			return Semantic(fmt.Errorf("output rejected by validator: %w", err))
		}
	}
	return nil
}

// compensation binds a step's compensation to its output and key.
func compensation[T any](info StepInfo, options stepOptions, out T) func(context.Context) error {
	if options.compensate == nil {
		return nil
	}
	info.IdempotencyKey += "/compensate"
	info.Compensating = true
	return func(ctx context.Context) error {
		return options.compensate(withStepInfo(ctx, info), out)
	}
}

// callStep runs fn, turning a panic into an error and, while the context can
// end, returning as soon as it does even if fn ignores it.
func callStep[T any](ctx context.Context, fn func(context.Context) (T, error), timeout time.Duration) (T, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, timeout,
			fmt.Errorf("step ran past its timeout of %s: %w", timeout, context.DeadlineExceeded))
		defer cancel()
	}
	type result struct {
		out T
		err error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			if recovered := recover(); recovered != nil {
				r.err = &klaxontype.PanicError{Value: recovered, Stack: string(debug.Stack())}
			}
			done <- r
		}()
		r.out, r.err = fn(ctx)
	}()
	select {
	case r := <-done:
		return r.out, r.err
	case <-ctx.Done():
		select {
		case r := <-done: // finished at the same moment: keep its result
			return r.out, r.err
		default:
		}
		var zero T
		return zero, context.Cause(ctx)
	}
}
