package klaxontype

import (
	"math/rand/v2"
	"time"
)

// RetryPolicy says how often and how soon a failed run is retried. A zero field
// takes its default.
type RetryPolicy struct {
	// MaxAttempts is the most attempts a run gets, the first included; default 5.
	MaxAttempts int `json:"max_attempts"`
	// InitialBackoff is the wait before the first retry; default 1s.
	InitialBackoff time.Duration `json:"initial_backoff"`
	// MaxBackoff caps the wait between attempts; default 5m.
	MaxBackoff time.Duration `json:"max_backoff"`
	// MaxRetryAfter caps the wait a provider asks for (a Retry-After): a
	// run is retried no later than this after a rate limit, however long
	// the provider said, and the attempt record says the wait was capped;
	// default DefaultMaxRetryAfter.
	MaxRetryAfter time.Duration `json:"max_retry_after,omitempty"`
	// Classes overrides, per failure class, how many attempts a run failing
	// with that class gets (1: never retried). Unset classes follow
	// DefaultAttempts.
	Classes map[FailureClass]int `json:"classes,omitempty"`
}

// semanticAttempts is how many attempts a wrong answer gets by default: a
// model may answer right the next time, but rarely the fifth.
const semanticAttempts = 3

// AttemptsFor is how many attempts, the first included, a run failing with
// class gets before it goes to the dead-letter queue.
func (p RetryPolicy) AttemptsFor(class FailureClass) int {
	p = p.WithDefaults()
	if n, ok := p.Classes[class]; ok && n > 0 {
		return n
	}
	return DefaultAttempts(class, p.MaxAttempts)
}

// DefaultAttempts is the default policy table: transient failures, timeouts and
// rate limits are retried up to maxAttempts; semantic failures a few times;
// every other class goes to the dead-letter queue for review at once.
func DefaultAttempts(class FailureClass, maxAttempts int) int {
	switch class {
	case ClassTransient, ClassTimeout, ClassRateLimited:
		return maxAttempts
	case ClassSemantic:
		return min(semanticAttempts, maxAttempts)
	default:
		return 1
	}
}

// DefaultMaxRetryAfter is the longest wait a provider's Retry-After gets
// when the policy sets no MaxRetryAfter: a provider asking for days is
// more likely wrong than right, and a run parked that long is lost from view.
const DefaultMaxRetryAfter = time.Hour

// CapRetryAfter is the wait a provider's Retry-After gets under the policy,
// and whether the policy shortened it.
func (p RetryPolicy) CapRetryAfter(wait time.Duration) (time.Duration, bool) {
	limit := p.MaxRetryAfter
	if limit <= 0 {
		limit = DefaultMaxRetryAfter
	}
	if wait > limit {
		return limit, true
	}
	return wait, false
}

// DefaultRetryPolicy is the policy of a workflow that sets none.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 5, InitialBackoff: time.Second, MaxBackoff: 5 * time.Minute}

// WithDefaults fills zero fields from DefaultRetryPolicy.
func (p RetryPolicy) WithDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultRetryPolicy.MaxAttempts
	}
	if p.InitialBackoff <= 0 {
		p.InitialBackoff = DefaultRetryPolicy.InitialBackoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = DefaultRetryPolicy.MaxBackoff
	}
	if p.MaxBackoff < p.InitialBackoff {
		p.MaxBackoff = p.InitialBackoff
	}
	return p
}

// Backoff is the wait before the retry that follows the failed attempt
// (counted from 1): it doubles each attempt up to MaxBackoff, and a random
// jitter takes it anywhere between half and all of that, so that runs failing
// together do not retry together.
func (p RetryPolicy) Backoff(failedAttempt int) time.Duration {
	p = p.WithDefaults()
	delay := p.InitialBackoff
	for i := 1; i < failedAttempt && delay < p.MaxBackoff; i++ {
		delay *= 2
	}
	delay = min(delay, p.MaxBackoff)
	half := delay / 2
	return half + rand.N(delay-half+1)
}
