package store

import (
	"context"
	"time"
	"unicode/utf8"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// RateLimits keeps the rate limits every worker of the database shares, and
// judges each acquisition against them in one transaction on the limit's row,
// so that any number of processes together stay within the limit.
type RateLimits interface {
	// RateLimitSave declares a limit, or changes an existing one's
	// definition, keeping what is spent of it.
	RateLimitSave(ctx context.Context, params *RateLimitSaveParams) (*klaxontype.RateLimit, error)
	// RateLimitList returns every limit by key, each with its state now.
	RateLimitList(ctx context.Context) ([]*klaxontype.RateLimit, error)
	// RateLimitAcquire reserves one execution's capacity from a limit: at
	// once, or after a wait no longer than MaxWait; a longer wait reserves
	// nothing and says when the capacity is due. An unknown key gives
	// klaxontype.ErrNotFound.
	RateLimitAcquire(ctx context.Context, params *RateLimitAcquireParams) (*klaxontype.RateLimitGrant, error)
	// RateLimitSettle charges a limit the difference between the tokens an
	// execution used and those it reserved: more is a debt later
	// acquisitions wait out, less is given back. An unknown key gives
	// klaxontype.ErrNotFound.
	RateLimitSettle(ctx context.Context, params *RateLimitSettleParams) error
	// RateLimitBlock takes a provider's refusal (a 429) of a call made under
	// a limit as the limit's truth: no request is granted before Until, and
	// from then the budget refills as if spent whole, so the callers of every
	// process wait for capacity instead of calling and being refused too. A
	// block never shortens one already in place. It returns when the limit
	// grants its next request. With a RunID, the run's event log gets a
	// rate_limit.blocked event in the same transaction. An unknown key gives
	// klaxontype.ErrNotFound.
	RateLimitBlock(ctx context.Context, params *RateLimitBlockParams) (time.Time, error)
}

// MaxRateLimitKeyLength bounds a rate limit's key.
const MaxRateLimitKeyLength = 200

// RateLimitSaveParams declares a rate limit.
type RateLimitSaveParams struct {
	Key      string
	Requests int64
	Tokens   int64
	Per      time.Duration
}

// Validate refuses a limit without a key, with no request granted, with
// negative tokens, or with a period that is not positive. Its error matches
// klaxontype.ErrInvalid.
func (p *RateLimitSaveParams) Validate() error {
	if err := checkRateLimitKey(p.Key); err != nil {
		return err
	}
	switch {
	case p.Requests <= 0:
		return invalidf("rate limit %q: requests must be at least 1, not %d", p.Key, p.Requests)
	case p.Tokens < 0:
		return invalidf("rate limit %q: tokens must be zero (no token limit) or more, not %d", p.Key, p.Tokens)
	case p.Per <= 0:
		return invalidf("rate limit %q: the period must be positive, not %s", p.Key, p.Per)
	case p.Per < time.Millisecond:
		return invalidf("rate limit %q: the period must be at least 1ms, not %s", p.Key, p.Per)
	}
	return nil
}

// RateLimitAcquireParams asks for one execution's capacity.
type RateLimitAcquireParams struct {
	Key string
	// Requests is how many requests the execution counts for; zero is one.
	Requests int64
	// Tokens is the estimate of the tokens the execution will use, reserved
	// now and settled later with RateLimitSettle; it is capped at the
	// limit's Tokens, so a large estimate never waits forever.
	Tokens int64
	// MaxWait is the longest wait the caller accepts: capacity due later is
	// not reserved.
	MaxWait time.Duration
}

// Validate refuses an acquisition without a key or with negative amounts.
func (p *RateLimitAcquireParams) Validate() error {
	if err := checkRateLimitKey(p.Key); err != nil {
		return err
	}
	if p.Requests < 0 || p.Tokens < 0 || p.MaxWait < 0 {
		return invalidf("rate limit %q: requests, tokens and the longest wait cannot be negative", p.Key)
	}
	return nil
}

// RateLimitSettleParams settles an execution's tokens.
type RateLimitSettleParams struct {
	Key string
	// Tokens is the tokens used minus the tokens reserved; negative gives
	// back.
	Tokens int64
}

// Validate refuses a settlement without a key.
func (p *RateLimitSettleParams) Validate() error { return checkRateLimitKey(p.Key) }

// RateLimitBlockParams block a limit after a provider refused a call made
// under it.
type RateLimitBlockParams struct {
	Key string
	// Until is when the provider said to call again (its Retry-After); zero,
	// or a time already past, blocks nothing but still spends the budget
	// whole now.
	Until time.Time
	// RunID, StepSeq and Step name the step whose call was refused, for the
	// run's event log; without a RunID no event is written.
	RunID   string
	StepSeq int
	Step    string
	// Actor is who reports the refusal: the worker that ran the step.
	Actor string
	// Reason is the provider's refusal as a person reads it; stored as
	// StorableText, never refused for its content.
	Reason string
}

// Validate refuses a block without a key, or naming its step with text no
// store can keep.
func (p *RateLimitBlockParams) Validate() error {
	if err := checkRateLimitKey(p.Key); err != nil {
		return err
	}
	return checkTexts("run ID", p.RunID, "step", p.Step, "actor", p.Actor)
}

func checkRateLimitKey(key string) error {
	if key == "" {
		return invalidf("a rate limit needs a key")
	}
	if utf8.RuneCountInString(key) > MaxRateLimitKeyLength {
		return invalidf("a rate limit key is at most %d characters", MaxRateLimitKeyLength)
	}
	return checkTexts("rate limit key", key)
}
