package engine

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// This file is the one guard around user code. Everything the engine calls
// that a user wrote (a workflow body, a step's function, its output's encoder
// and decoder, a validator, a compensation, a hook) is called through
// guarded or bounded, so that a panic in it becomes a permanent failure of
// that run, with the stack, and never takes the worker process down.

// guarded calls fn, turning a panic into a *klaxontype.PanicError. It is for
// user code the engine waits for in place: validators, decoders,
// compensations, hooks.
func guarded(fn func() error) (err error) {
	defer recoverPanic(&err)
	return fn()
}

// recoverPanic is deferred by the guards: recover works only in the deferred
// function itself.
func recoverPanic(err *error) {
	if recovered := recover(); recovered != nil {
		*err = &klaxontype.PanicError{Value: recovered, Stack: string(debug.Stack())}
	}
}

// executable is user code that produces an encoded output: a step's
// function, a workflow body.
type executable interface {
	Execute(ctx context.Context) ([]byte, error)
}

// bounded runs code in a goroutine of its own, guarded, and returns its
// result, or the context's cause once ctx ends and the code has not returned
// within grace.
// It is for user code that may ignore its context (a workflow body, a step's
// function): a hung function is left to finish in the background, its result
// discarded, and never holds its caller past a deadline.
func bounded(ctx context.Context, grace time.Duration, code executable) ([]byte, error) {
	type result struct {
		output []byte
		err    error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() { done <- r }()
		defer recoverPanic(&r.err)
		r.output, r.err = code.Execute(ctx)
	}()
	select {
	case r := <-done:
		return r.output, r.err
	case <-ctx.Done():
	}
	if grace <= 0 {
		select {
		case r := <-done: // finished at the same moment: keep its result
			return r.output, r.err
		default:
			return nil, context.Cause(ctx)
		}
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.output, r.err
	case <-timer.C:
		return nil, context.Cause(ctx)
	}
}

// withTimeout bounds ctx by timeout, if any, with a cause that says what ran
// past it; the cause wraps context.DeadlineExceeded, so it is classified as a
// timeout.
func withTimeout(ctx context.Context, timeout time.Duration, what string) (context.Context, context.CancelFunc) {
	if timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeoutCause(ctx, timeout,
		fmt.Errorf("%s ran past its timeout of %s: %w", what, timeout, context.DeadlineExceeded))
}

// callHook calls a hook of the worker's configuration (OnStep, OnAttempt,
// …). A hook reports on what already happened, so its panic changes nothing
// of the run: it is logged, with the stack, and the engine goes on.
func callHook(logger *slog.Logger, hook string, fn func()) {
	err := guarded(func() error {
		fn()
		return nil
	})
	if err != nil {
		if logger == nil {
			logger = slog.Default()
		}
		var stack string
		if panicked, ok := err.(*klaxontype.PanicError); ok {
			stack = panicked.Stack
		}
		logger.Error("a hook panicked; the run goes on", "hook", hook, "error", err, "stack", stack)
	}
}
