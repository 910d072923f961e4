// Package classify decides the failure class of an error with a chain of rules.
//
// It may import only the standard library and klaxontype.
package classify

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// Result is a class and the name of the rule that chose it, which is kept in
// the attempt record so a person can see why a failure was treated as it was.
type Result struct {
	Class klaxontype.FailureClass
	By    string
}

// Rule classifies an error it recognises and reports false for any other.
type Rule func(err error) (Result, bool)

// Chain asks its rules in order; the first that recognises the error decides.
// An error no rule recognises is transient, classified by "default", so that it
// is retried a bounded number of times rather than dropped or retried forever.
type Chain []Rule

// Default is the chain every worker starts from: panics, errors that report
// their own class, deadlines, network errors.
func Default() Chain {
	return Chain{Panic, SelfReported, Deadline, Network}
}

// Classify returns the class of err.
func (c Chain) Classify(err error) Result {
	for _, rule := range c {
		if result, ok := rule(err); ok {
			return result
		}
	}
	return Result{Class: klaxontype.ClassTransient, By: "default"}
}

// Panic makes a recovered panic permanent.
func Panic(err error) (Result, bool) {
	var panicked *klaxontype.PanicError
	if errors.As(err, &panicked) {
		return Result{Class: klaxontype.ClassPermanent, By: "panic"}, true
	}
	return Result{}, false
}

// SelfReported takes the class an error reports of itself (klaxon.Permanent,
// nondeterminism, …).
func SelfReported(err error) (Result, bool) {
	var classified klaxontype.Classified
	if errors.As(err, &classified) && classified.FailureClass().Valid() {
		return Result{Class: classified.FailureClass(), By: "error"}, true
	}
	return Result{}, false
}

// Deadline makes a step or run that ran past its deadline a timeout.
func Deadline(err error) (Result, bool) {
	if errors.Is(err, context.DeadlineExceeded) {
		return Result{Class: klaxontype.ClassTimeout, By: "deadline"}, true
	}
	return Result{}, false
}

// Network makes connection failures transient, and network timeouts timeouts.
func Network(err error) (Result, bool) {
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return Result{Class: klaxontype.ClassTimeout, By: "network"}, true
	}
	if netErr != nil ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF) {
		return Result{Class: klaxontype.ClassTransient, By: "network"}, true
	}
	return Result{}, false
}
