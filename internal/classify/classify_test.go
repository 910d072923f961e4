package classify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// classedError reports a class of its own, as klaxon.Permanent and the other
// control errors a step returns on purpose do.
type classedError struct {
	class klaxontype.FailureClass
	err   error
}

func (e *classedError) Error() string                         { return e.err.Error() }
func (e *classedError) Unwrap() error                         { return e.err }
func (e *classedError) FailureClass() klaxontype.FailureClass { return e.class }

// throttledError is a provider's 429: it reports its class and carries the
// delay the provider asked for.
type throttledError struct {
	class klaxontype.FailureClass
	wait  time.Duration
}

func (e *throttledError) Error() string                         { return "429 Too Many Requests" }
func (e *throttledError) FailureClass() klaxontype.FailureClass { return e.class }
func (e *throttledError) RetryAfter() time.Duration             { return e.wait }

// waitOnlyError carries a Retry-After but no class of its own.
type waitOnlyError struct{ wait time.Duration }

func (e *waitOnlyError) Error() string             { return "slow down" }
func (e *waitOnlyError) RetryAfter() time.Duration { return e.wait }

// inStep wraps err the way the engine sees a failed step's error.
func inStep(err error) error { return &klaxontype.StepError{Name: "call", Seq: 2, Err: err} }

// connectionRefused is the error net.Dial returns when nothing listens.
func connectionRefused() error {
	return &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}
}

// The default chain's outcome for every kind of error a step meets: each class
// the chain can decide by itself, the rule that decided it, and that wrapping
// (in a step error, with %w, in errors.Join) changes neither.
func TestDefaultChainClassifies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		err       error
		wantClass klaxontype.FailureClass
		wantBy    string
	}{
		// Panics are bugs a retry meets again.
		{"recovered panic", &klaxontype.PanicError{Value: "nil map"}, klaxontype.ClassPermanent, "panic"},
		{"panic in a step", inStep(&klaxontype.PanicError{Value: "index out of range"}), klaxontype.ClassPermanent, "panic"},

		// Errors that report their own class keep it.
		{"nondeterminism", &klaxontype.NondeterminismError{Seq: 1, Recorded: "a", Called: "b"}, klaxontype.ClassNondeterminism, "error"},
		{"self-reported in a step", inStep(&classedError{klaxontype.ClassSemantic, errors.New("wrong answer")}), klaxontype.ClassSemantic, "error"},
		{"self-reported under %w", fmt.Errorf("publish: %w", &classedError{klaxontype.ClassPolicyViolation, errors.New("refused")}), klaxontype.ClassPolicyViolation, "error"},
		{"self-reported in errors.Join", errors.Join(errors.New("first"), &classedError{klaxontype.ClassPermanent, errors.New("second")}), klaxontype.ClassPermanent, "error"},
		{"an invalid class is ignored", &classedError{"bogus", errors.New("made up")}, klaxontype.ClassTransient, "default"},

		// Deadlines are timeouts.
		{"deadline", context.DeadlineExceeded, klaxontype.ClassTimeout, "deadline"},
		{"deadline in a step", inStep(fmt.Errorf("call model: %w", context.DeadlineExceeded)), klaxontype.ClassTimeout, "deadline"},
		{"HTTP client past its context deadline", &url.Error{Op: "Post", URL: "https://api.example.com/v1", Err: context.DeadlineExceeded}, klaxontype.ClassTimeout, "deadline"},

		// Network failures are transient; network timeouts are timeouts.
		{"connection refused", connectionRefused(), klaxontype.ClassTransient, "network"},
		{"connection refused through an HTTP client", inStep(&url.Error{Op: "Post", URL: "https://api.example.com/v1", Err: connectionRefused()}), klaxontype.ClassTransient, "network"},
		{"connection reset", fmt.Errorf("read response: %w", syscall.ECONNRESET), klaxontype.ClassTransient, "network"},
		{"broken pipe", fmt.Errorf("write request: %w", syscall.EPIPE), klaxontype.ClassTransient, "network"},
		{"connection refused, bare errno", syscall.ECONNREFUSED, klaxontype.ClassTransient, "network"},
		{"response cut short", fmt.Errorf("decode body: %w", io.ErrUnexpectedEOF), klaxontype.ClassTransient, "network"},
		{"reset in errors.Join", errors.Join(errors.New("close"), syscall.ECONNRESET), klaxontype.ClassTransient, "network"},
		{"name not found", &net.DNSError{Err: "no such host", Name: "api.example.com", IsNotFound: true}, klaxontype.ClassTransient, "network"},
		{"name lookup timed out", &net.DNSError{Err: "i/o timeout", Name: "api.example.com", IsTimeout: true}, klaxontype.ClassTimeout, "network"},
		{"read past the connection deadline", inStep(&net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}), klaxontype.ClassTimeout, "network"},

		// Anything else is transient: retried a bounded number of times.
		{"unknown error", errors.New("something odd"), klaxontype.ClassTransient, "default"},
		{"unknown error in a step", inStep(errors.New("something odd")), klaxontype.ClassTransient, "default"},
		{"cancellation is not the chain's to judge", context.Canceled, klaxontype.ClassTransient, "default"},
		{"plain EOF is not a cut-short response", io.EOF, klaxontype.ClassTransient, "default"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()
			got := Default().Classify(test.err)
			if got.Class != test.wantClass || got.By != test.wantBy {
				t.Errorf("Classify(%v) = %s by %q, want %s by %q", test.err, got.Class, got.By, test.wantClass, test.wantBy)
			}
		})
	}
}

// Every failure class an error reports of itself comes out of the chain as it
// went in, also from inside a step error.
func TestEverySelfReportedClassIsKept(t *testing.T) {
	t.Parallel()
	for _, class := range klaxontype.FailureClasses() {
		err := inStep(&classedError{class, errors.New("failed as " + string(class))})
		if got := Default().Classify(err); got.Class != class || got.By != "error" {
			t.Errorf("an error reporting %s is classified %s by %q", class, got.Class, got.By)
		}
	}
}

// When an error matches several rules, the first in the chain decides: a panic
// before a class the error reports, a reported class before a deadline or a
// network failure it wraps, a deadline before the network error around it.
func TestFirstMatchingRuleDecides(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		err       error
		wantClass klaxontype.FailureClass
		wantBy    string
	}{
		{"panic wrapped in a transient error", &classedError{klaxontype.ClassTransient, &klaxontype.PanicError{Value: "boom"}}, klaxontype.ClassPermanent, "panic"},
		{"permanent wrapping a deadline", &classedError{klaxontype.ClassPermanent, context.DeadlineExceeded}, klaxontype.ClassPermanent, "error"},
		{"semantic wrapping a connection reset", &classedError{klaxontype.ClassSemantic, syscall.ECONNRESET}, klaxontype.ClassSemantic, "error"},
		{"deadline inside a network error", &net.OpError{Op: "dial", Net: "tcp", Err: context.DeadlineExceeded}, klaxontype.ClassTimeout, "deadline"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()
			got := Default().Classify(test.err)
			if got.Class != test.wantClass || got.By != test.wantBy {
				t.Errorf("Classify(%v) = %s by %q, want %s by %q", test.err, got.Class, got.By, test.wantClass, test.wantBy)
			}
		})
	}
}

// The chain does not read Retry-After: a provider's 429 is rate_limited
// because it says so, and the delay it carries stays reachable through every
// wrap for the engine, which waits at least that long before the retry. A
// delay without a class is no reason to change the class.
func TestRetryAfterIsLeftForTheEngine(t *testing.T) {
	t.Parallel()
	throttled := inStep(fmt.Errorf("classify document: %w", &throttledError{klaxontype.ClassRateLimited, 1500 * time.Millisecond}))
	if got := Default().Classify(throttled); got.Class != klaxontype.ClassRateLimited || got.By != "error" {
		t.Errorf("a 429 with Retry-After is classified %s by %q, want rate_limited by \"error\"", got.Class, got.By)
	}
	var wait klaxontype.RetryAfterError
	if !errors.As(throttled, &wait) || wait.RetryAfter() != 1500*time.Millisecond {
		t.Errorf("the Retry-After of a classified 429 is lost in its wraps: %v", throttled)
	}

	waitOnly := inStep(&waitOnlyError{wait: time.Second})
	if got := Default().Classify(waitOnly); got.Class != klaxontype.ClassTransient || got.By != "default" {
		t.Errorf("an error with only a Retry-After is classified %s by %q, want transient by \"default\"", got.Class, got.By)
	}
}

// Each rule recognises its own errors only and says so, so that a chain can
// be put together from any of them in any order.
func TestRulesRecogniseOnlyTheirOwnErrors(t *testing.T) {
	t.Parallel()
	rules := map[string]struct {
		rule Rule
		own  error
	}{
		"panic":    {Panic, &klaxontype.PanicError{Value: "boom"}},
		"error":    {SelfReported, &classedError{klaxontype.ClassSemantic, errors.New("wrong")}},
		"deadline": {Deadline, context.DeadlineExceeded},
		"network":  {Network, connectionRefused()},
	}
	others := []error{errors.New("plain"), context.Canceled, io.EOF}
	for by, r := range rules {
		if got, ok := r.rule(r.own); !ok || got.By != by {
			t.Errorf("rule %q does not recognise its own error %v: %+v, %v", by, r.own, got, ok)
		}
		for _, err := range others {
			if got, ok := r.rule(err); ok {
				t.Errorf("rule %q claims %v as %+v", by, err, got)
			}
		}
	}
}

// A caller's rule put first in the chain decides before the defaults; a chain
// with no rule, or whose rules recognise nothing, makes every error transient.
func TestChainOrderAndEmptyChain(t *testing.T) {
	t.Parallel()
	quota := errors.New("quota exhausted")
	byQuota := func(err error) (Result, bool) {
		if errors.Is(err, quota) {
			return Result{Class: klaxontype.ClassBudgetExceeded, By: "rule"}, true
		}
		return Result{}, false
	}
	chain := append(Chain{byQuota}, Default()...)
	if got := chain.Classify(inStep(fmt.Errorf("%w: %w", quota, syscall.ECONNRESET))); got.Class != klaxontype.ClassBudgetExceeded || got.By != "rule" {
		t.Errorf("the caller's rule did not decide first: %+v", got)
	}
	if got := chain.Classify(syscall.ECONNRESET); got.Class != klaxontype.ClassTransient || got.By != "network" {
		t.Errorf("the defaults after the caller's rule did not decide: %+v", got)
	}
	if got := (Chain{}).Classify(&klaxontype.PanicError{Value: "boom"}); got.Class != klaxontype.ClassTransient || got.By != "default" {
		t.Errorf("an empty chain classified a panic %+v, want transient by \"default\"", got)
	}
}
