package klaxontype

// FailureClass says why an attempt failed, and so what should happen next:
// retry after a backoff, or stop and wait for a person in the dead-letter queue.
type FailureClass string

const (
	// ClassTransient is a failure that may pass by itself: a network error, a
	// 5xx, an overloaded provider. Also the class of an error nobody classified.
	ClassTransient FailureClass = "transient"
	// ClassRateLimited is a provider asking the caller to slow down (HTTP 429).
	ClassRateLimited FailureClass = "rate_limited"
	// ClassTimeout is a step or run that ran past its deadline.
	ClassTimeout FailureClass = "timeout"
	// ClassPermanent is a failure that will not pass on retry: bad input, wrong
	// credentials, a bug, a panic.
	ClassPermanent FailureClass = "permanent"
	// ClassPolicyViolation is a refusal by a content filter or policy.
	ClassPolicyViolation FailureClass = "policy_violation"
	// ClassContextOverflow is a prompt longer than the model's context window.
	ClassContextOverflow FailureClass = "context_overflow"
	// ClassSemantic is an answer that arrived but is wrong: a validator rejected
	// the step's output.
	ClassSemantic FailureClass = "semantic"
	// ClassBudgetExceeded is a run that spent more tokens or money than allowed.
	ClassBudgetExceeded FailureClass = "budget_exceeded"
	// ClassPartialCompletion is a run whose workflow returned without executing
	// every step of its expected manifest.
	ClassPartialCompletion FailureClass = "partial_completion"
	// ClassNondeterminism is a run whose workflow called a different step at a
	// sequence number than the step log recorded there.
	ClassNondeterminism FailureClass = "nondeterminism"
	// ClassCompensationFailed is a run one of whose compensations failed while
	// undoing completed steps.
	ClassCompensationFailed FailureClass = "compensation_failed"
	// ClassCancelled is a run stopped on purpose.
	ClassCancelled FailureClass = "cancelled"
)

// FailureClasses lists every failure class.
func FailureClasses() []FailureClass {
	return []FailureClass{
		ClassTransient, ClassRateLimited, ClassTimeout, ClassPermanent,
		ClassPolicyViolation, ClassContextOverflow, ClassSemantic, ClassBudgetExceeded,
		ClassPartialCompletion, ClassNondeterminism, ClassCompensationFailed, ClassCancelled,
	}
}

// Valid reports whether c is one of FailureClasses.
func (c FailureClass) Valid() bool {
	for _, known := range FailureClasses() {
		if c == known {
			return true
		}
	}
	return false
}

// Classified is implemented by errors that know their own failure class. The
// classifier asks every error in a chain (errors.As) before any other rule.
type Classified interface {
	error
	FailureClass() FailureClass
}
