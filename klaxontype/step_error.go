package klaxontype

import (
	"fmt"
	"time"
)

// StepError wraps the error of a failed step with the step's name and sequence
// number, so the engine can tell which step failed the attempt. errors.As and
// errors.Is see through it to the step's own error.
type StepError struct {
	Name string
	Seq  int
	Err  error
}

func (e *StepError) Error() string { return fmt.Sprintf("step %d %q: %v", e.Seq, e.Name, e.Err) }

// Unwrap returns the step's own error.
func (e *StepError) Unwrap() error { return e.Err }

// PanicError is a panic recovered in a step or a workflow body. It is classified
// permanent: a panic is a bug that a retry will meet again.
type PanicError struct {
	Value any
	Stack string
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// FailureClass makes a panic permanent.
func (e *PanicError) FailureClass() FailureClass { return ClassPermanent }

// NondeterminismError is a workflow that called a different step at a sequence
// number than its step log recorded there: its code changed, or it branched on
// something non-deterministic outside a step. Such a run cannot be replayed and
// is never retried.
type NondeterminismError struct {
	Seq      int
	Recorded string
	Called   string
}

func (e *NondeterminismError) Error() string {
	return fmt.Sprintf("nondeterminism at step %d: the step log recorded %q but the workflow called %q", e.Seq, e.Recorded, e.Called)
}

// FailureClass makes nondeterminism its own class.
func (e *NondeterminismError) FailureClass() FailureClass { return ClassNondeterminism }

// RetryAfterError is implemented by errors that carry the delay a provider
// asked for (HTTP Retry-After); the retry waits at least that long.
type RetryAfterError interface {
	error
	RetryAfter() time.Duration
}
