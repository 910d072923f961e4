package klaxon

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/internal/engine"
)

// StepOption configures one step call.
type StepOption func(*stepOptions)

type stepOptions struct {
	timeout    time.Duration
	compensate func(ctx context.Context, output any) error
	validators []func(output any) error
	rateLimits []engine.RateLimitDraw
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
// validators; they run in order. A validator that panics fails the step
// permanently, with the stack, as a panicking step function does.
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
	code := newStepCode(fn, opts)
	if _, err := engine.Step(ctx, code.call(name)); err != nil {
		var zero T
		return zero, err
	}
	return code.out, nil
}

// stepCode is a Go step as the engine runs it: the user's function and
// options, and the typed output they share. It only encodes and decodes; the
// engine does the rest, guarded.
type stepCode[T any] struct {
	fn      func(ctx context.Context) (T, error)
	options stepOptions
	out     T
}

func newStepCode[T any](fn func(ctx context.Context) (T, error), opts []StepOption) *stepCode[T] {
	code := &stepCode[T]{fn: fn}
	for _, opt := range opts {
		opt(&code.options)
	}
	return code
}

// call is the engine's step call for the code.
func (c *stepCode[T]) call(name string) engine.StepCall {
	return engine.StepCall{Name: name, Timeout: c.options.timeout, Compensates: c.options.compensate != nil, Code: c,
		RateLimits: c.options.rateLimits}
}

// Execute runs the step's function and encodes its output.
func (c *stepCode[T]) Execute(ctx context.Context) ([]byte, error) {
	out, err := c.fn(ctx)
	if err != nil {
		return nil, err
	}
	c.out = out
	encoded, err := json.Marshal(out)
	if err != nil {
		return nil, Permanent(fmt.Errorf("encode output: %w", err))
	}
	return encoded, nil
}

// Decode takes a stored output as the step's.
func (c *stepCode[T]) Decode(output []byte) error {
	return json.Unmarshal(output, &c.out)
}

// Validate runs the step's validators in order; the first error stands.
func (c *stepCode[T]) Validate() error {
	for _, check := range c.options.validators {
		if err := check(c.out); err != nil {
			return err
		}
	}
	return nil
}

// Compensate runs the step's compensation on its output.
func (c *stepCode[T]) Compensate(ctx context.Context) error {
	return c.options.compensate(ctx, c.out)
}

// OutputSchema describes T for a person resolving the step.
func (c *stepCode[T]) OutputSchema() []byte { return outputSchema[T]() }
