package klaxon

import (
	"context"
	"fmt"

	"github.com/klaxonhq/klaxon/internal/engine"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// RateLimit is a named budget of requests, and optionally of model tokens,
// per period, shared by every worker of the database: for example
//
//	klaxon.RateLimit{Key: "openai/gpt-4o-mini", Requests: 500, Tokens: 200_000, Per: time.Minute}
//
// A step draws on it with DrawOn; llm.Call draws on "provider/model" by
// itself when a limit of that key is declared. A step that would exceed
// the limit waits for capacity before it runs, instead of calling and being
// refused with a 429: in process when the capacity is due within
// RateLimitMaxWait, otherwise its run gives up its worker (status waiting)
// and is claimed again when the capacity is due. The limit is a generic cell
// rate (GCRA): Requests may be spent at once, as a burst, and then one every
// Per/Requests, so that over a span T at most Requests + T*Requests/Per are
// granted (a minute at 100 per second: at most 6,100). Tokens are reserved by the step's estimate
// before it runs and settled with the tokens it used (its RecordSpend
// reports) once it ends, so the token limit holds over time.
type RateLimit = klaxontype.RateLimit

// RateLimitMaxWait is the longest a step waits for rate-limit capacity
// while holding its worker; longer, its run releases the worker.
const RateLimitMaxWait = engine.RateLimitMaxWait

// DeclareRateLimits stores rate limits in the database, where every worker
// and the server see them; a key declared already gets the new definition
// and keeps what is spent of it. Any client of the store may declare them,
// started or not. A limit with an empty key, fewer than one request, negative
// tokens or a period that is not positive is refused with an error matching
// ErrInvalid, and then none of the limits given is stored.
func (c *Client) DeclareRateLimits(ctx context.Context, limits ...RateLimit) error {
	params := make([]*store.RateLimitSaveParams, len(limits))
	for i, limit := range limits {
		params[i] = &store.RateLimitSaveParams{Key: limit.Key, Requests: limit.Requests, Tokens: limit.Tokens, Per: limit.Per}
		if err := params[i].Validate(); err != nil {
			return err
		}
	}
	for _, p := range params {
		if _, err := c.store.RateLimitSave(ctx, p); err != nil {
			return fmt.Errorf("declare rate limit %q: %w", p.Key, err)
		}
	}
	return nil
}

// RateLimits lists the declared rate limits with their state now.
func (c *Client) RateLimits(ctx context.Context) ([]*RateLimit, error) {
	return c.store.RateLimitList(ctx)
}

// DrawOn makes a step draw on the rate limit of key: one request, and
// estimatedTokens reserved from its token budget (when it has one) before
// the step runs, settled with the tokens the step reported with RecordSpend
// once it ends. A step may draw on several limits. A limit not declared
// fails the step permanently, naming it.
func DrawOn(key string, estimatedTokens int64) StepOption {
	return func(o *stepOptions) {
		o.rateLimits = append(o.rateLimits, engine.RateLimitDraw{Key: key, Tokens: estimatedTokens})
	}
}

// DrawOnIfDeclared is DrawOn for a limit that may not be declared: the step
// then runs without one. llm.Call draws on "provider/model" this way.
func DrawOnIfDeclared(key string, estimatedTokens int64) StepOption {
	return func(o *stepOptions) {
		o.rateLimits = append(o.rateLimits, engine.RateLimitDraw{Key: key, Tokens: estimatedTokens, IfDeclared: true})
	}
}

// AcquireRateLimit reserves one execution's capacity of a rate limit for
// work outside a Go step (a worker of another language): granted, the
// caller may go once the grant's Wait has passed; not granted, the capacity
// is due only at RetryAt, more than RateLimitMaxWait away, and nothing is
// reserved. Settle the tokens used with SettleRateLimit.
func (c *Client) AcquireRateLimit(ctx context.Context, key string, estimatedTokens int64) (*klaxontype.RateLimitGrant, error) {
	return c.store.RateLimitAcquire(ctx, &store.RateLimitAcquireParams{Key: key, Tokens: estimatedTokens, MaxWait: RateLimitMaxWait})
}

// SettleRateLimit charges a rate limit the tokens used against those an
// acquisition reserved.
func (c *Client) SettleRateLimit(ctx context.Context, key string, reserved, used int64) error {
	if used == reserved {
		return nil
	}
	return c.store.RateLimitSettle(ctx, &store.RateLimitSettleParams{Key: key, Tokens: used - reserved})
}
