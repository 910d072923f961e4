package klaxon

import (
	"context"

	"github.com/klaxonhq/klaxon/internal/engine"
)

// Future is a step started with Go, running in the background.
type Future[T any] struct {
	done chan struct{}
	out  T
	err  error
}

// Await waits for the step and returns its output or error.
func (f *Future[T]) Await() (T, error) {
	<-f.done
	return f.out, f.err
}

// Go starts a step that runs beside the workflow's next ones, for fan-out:
// start several with Go, then Await each. The step takes its sequence number
// when Go is called, in program order, so a re-execution meets the same
// numbers whatever order the steps finish in. (Calling Step from goroutines
// you start yourself takes numbers in scheduling order, which a retry may not
// repeat: that is nondeterminism.)
func Go[T any](ctx context.Context, name string, fn func(ctx context.Context) (T, error), opts ...StepOption) *Future[T] {
	future := &Future[T]{done: make(chan struct{})}
	code := newStepCode(fn, opts)
	step, err := engine.BeginStep(ctx, code.call(name))
	if err != nil {
		future.err = err
		close(future.done)
		return future
	}
	go func() {
		defer close(future.done)
		// Run guards every piece of user code it calls: nothing panics here.
		if _, future.err = step.Run(ctx); future.err == nil {
			future.out = code.out
		}
	}()
	return future
}
