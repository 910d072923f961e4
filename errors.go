package klaxon

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// classifiedError is an error a step or workflow marked with a failure class.
type classifiedError struct {
	class klaxontype.FailureClass
	err   error
}

func (e *classifiedError) Error() string                         { return e.err.Error() }
func (e *classifiedError) Unwrap() error                         { return e.err }
func (e *classifiedError) FailureClass() klaxontype.FailureClass { return e.class }

// WithClass marks err with a failure class, which decides whether the attempt
// is retried and where a dead run is routed. It returns nil for a nil err.
func WithClass(class klaxontype.FailureClass, err error) error {
	if err == nil {
		return nil
	}
	return &classifiedError{class: class, err: err}
}

// Permanent marks an error that a retry cannot fix: the run goes to the
// dead-letter queue without another attempt.
func Permanent(err error) error { return WithClass(klaxontype.ClassPermanent, err) }

// Transient marks an error that may pass by itself: the run is retried after a
// backoff while attempts remain.
func Transient(err error) error { return WithClass(klaxontype.ClassTransient, err) }

// Semantic marks output that arrived but is wrong (a model's answer that fails
// validation). It is retried a few times, then dead-lettered.
func Semantic(err error) error { return WithClass(klaxontype.ClassSemantic, err) }

// PolicyViolation marks a refusal by a content filter or policy. It is not
// retried.
func PolicyViolation(err error) error { return WithClass(klaxontype.ClassPolicyViolation, err) }

// UnknownWorkflowError is returned when enqueueing a workflow that neither this
// client nor any worker of the store has registered.
type UnknownWorkflowError struct {
	Name  string
	Known []string
}

func (e *UnknownWorkflowError) Error() string {
	if len(e.Known) == 0 {
		return fmt.Sprintf("unknown workflow %q: no workflow is registered", e.Name)
	}
	known := append([]string(nil), e.Known...)
	sort.Strings(known)
	return fmt.Sprintf("unknown workflow %q (registered: %s)", e.Name, strings.Join(known, ", "))
}

// InputError is returned when a run's input does not decode into its
// workflow's input type. Nothing is enqueued.
type InputError struct {
	Workflow string
	Err      error
}

func (e *InputError) Error() string {
	return fmt.Sprintf("input of workflow %q: %v", e.Workflow, e.Err)
}

func (e *InputError) Unwrap() error { return e.Err }

// RunFailedError is returned by Await for a run that ended dead or cancelled.
type RunFailedError struct {
	Run *klaxontype.Run
}

func (e *RunFailedError) Error() string {
	if f := e.Run.Failure; f != nil && f.Class == klaxontype.ClassCancelled && e.Run.Status == klaxontype.RunStatusCancelled {
		// The reason says who cancelled it and why.
		return fmt.Sprintf("run %s was %s", e.Run.ID, f.Reason)
	}
	if f := e.Run.Failure; f != nil {
		where := ""
		if f.Step != "" {
			where = fmt.Sprintf(" in step %d %q", f.StepSeq, f.Step)
		}
		return fmt.Sprintf("run %s is %s%s: %s: %s", e.Run.ID, e.Run.Status, where, f.Class, f.Reason)
	}
	return fmt.Sprintf("run %s is %s", e.Run.ID, e.Run.Status)
}

// ErrNotStarted is returned by Stop for a client whose workers never started.
var ErrNotStarted = errors.New("klaxon: client not started")
