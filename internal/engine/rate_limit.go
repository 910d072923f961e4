package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// RateLimitMaxWait is the longest a step waits for rate-limit capacity while
// holding its worker. Capacity due later is not reserved: the run gives its
// worker up, waiting, and is claimed again when the capacity is due, when it
// asks again.
const RateLimitMaxWait = 5 * time.Second

// RateLimitDraw is a rate limit a step draws on: one request, and an
// estimate of the tokens it will use, reserved before the step runs and
// settled with the tokens it used once it ends.
type RateLimitDraw struct {
	Key    string
	Tokens int64
	// IfDeclared draws on the limit only when it is declared (llm.Call's
	// draw on "provider/model"); otherwise an undeclared limit fails the
	// step permanently, naming it.
	IfDeclared bool
}

// rateLimitReservation is what a step reserved, to settle when it ends.
type rateLimitReservation struct {
	key    string
	tokens int64
}

// acquireRateLimits reserves the capacity of every limit the step draws on,
// waiting in process when it is due within RateLimitMaxWait. It returns how
// long the step waited, and due set when capacity is further off: the
// caller then gives the run up until due.
func (p *PendingStep) acquireRateLimits(ctx context.Context) (reserved []rateLimitReservation, waited time.Duration, due time.Time, err error) {
	if len(p.call.RateLimits) == 0 {
		return nil, 0, time.Time{}, nil
	}
	limits, ok := p.exec.store.(store.RateLimits)
	if !ok {
		return nil, 0, time.Time{}, permanent(fmt.Errorf("step %q draws on rate limit %q, but the store keeps no rate limits", p.call.Name, p.call.RateLimits[0].Key))
	}
	begin := time.Now()
	for _, draw := range p.call.RateLimits {
		grant, err := limits.RateLimitAcquire(context.WithoutCancel(ctx), &store.RateLimitAcquireParams{
			Key: draw.Key, Tokens: draw.Tokens, MaxWait: RateLimitMaxWait,
		})
		switch {
		case errors.Is(err, klaxontype.ErrNotFound) && draw.IfDeclared:
			continue
		case errors.Is(err, klaxontype.ErrNotFound) || errors.Is(err, klaxontype.ErrInvalid):
			return reserved, 0, time.Time{}, permanent(fmt.Errorf("rate limit %q: %w", draw.Key, err))
		case err != nil:
			return reserved, 0, time.Time{}, fmt.Errorf("acquire rate limit %q: %w", draw.Key, err)
		case !grant.Granted:
			// What was reserved on other limits stays spent: the run waits
			// for this one, and holds no worker meanwhile.
			return reserved, 0, grant.RetryAt, nil
		}
		reserved = append(reserved, rateLimitReservation{key: draw.Key, tokens: grant.Tokens})
		if grant.Wait > 0 {
			timer := time.NewTimer(grant.Wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				timer.Stop()
				return reserved, time.Since(begin), time.Time{}, context.Cause(ctx)
			}
		}
	}
	return reserved, time.Since(begin), time.Time{}, nil
}

// settleRateLimits charges the limits the step drew on with the tokens it
// used, against those reserved, and, when the step failed rate_limited,
// blocks them until the provider said to call again (blockRateLimits). A
// failure to settle or block is logged, not the step's: its work is done.
func (p *PendingStep) settleRateLimits(ctx context.Context, reserved []rateLimitReservation, spend klaxontype.Spend, stepErr error) {
	if len(reserved) == 0 {
		return
	}
	limits := p.exec.store.(store.RateLimits)
	if stepErr != nil {
		p.blockRateLimits(ctx, limits, reserved, stepErr)
	}
	used := spend.Usage.Total()
	for _, r := range reserved {
		if used == r.tokens {
			continue
		}
		err := limits.RateLimitSettle(context.WithoutCancel(ctx), &store.RateLimitSettleParams{Key: r.key, Tokens: used - r.tokens})
		if err != nil && p.exec.logger != nil {
			p.exec.logger.Warn("klaxon: settling a rate limit's tokens failed", "key", r.key, "step", p.call.Name, "error", err)
		}
	}
}

// blockRateLimits feeds a provider's refusal back into the limits the step
// drew on: a step that failed rate_limited (a 429) was refused although the
// limit granted it, so the provider's count is the truth. Each limit is
// blocked until the error's Retry-After, capped like the run's retry by the
// workflow's MaxRetryAfter (without one, its budget is spent whole now), so
// that the steps of every worker wait for capacity instead of calling and
// being refused too; the run's event log says so (rate_limit.blocked). The
// refusal may have come from any of them: all are blocked.
func (p *PendingStep) blockRateLimits(ctx context.Context, limits store.RateLimits, reserved []rateLimitReservation, stepErr error) {
	if p.exec.classify(stepErr).Class != klaxontype.ClassRateLimited {
		return
	}
	var until time.Time
	var retryAfter klaxontype.RetryAfterError
	if errors.As(stepErr, &retryAfter) && retryAfter.RetryAfter() > 0 {
		var policy klaxontype.RetryPolicy
		if p.exec.workflow != nil {
			policy = p.exec.workflow.Retry
		}
		wait, _ := policy.CapRetryAfter(retryAfter.RetryAfter())
		until = time.Now().Add(wait)
	}
	for _, r := range reserved {
		_, err := limits.RateLimitBlock(context.WithoutCancel(ctx), &store.RateLimitBlockParams{
			Key: r.key, Until: until, RunID: p.exec.run.ID, StepSeq: p.seq, Step: p.call.Name,
			Actor: p.exec.holder, Reason: stepErr.Error(),
		})
		if err != nil && p.exec.logger != nil {
			p.exec.logger.Warn("klaxon: blocking a rate limit after a provider's refusal failed", "key", r.key, "step", p.call.Name, "error", err)
		}
	}
}

// waitForCapacity notes that the attempt reached a step whose rate-limit
// capacity is due only at due, and dooms the attempt: the run gives up its
// worker, waiting until then, and the step asks again on the next attempt.
func (p *PendingStep) waitForCapacity(ctx context.Context, due time.Time) error {
	e := p.exec
	err := &klaxontype.StepError{Name: p.call.Name, Seq: p.seq, Err: errWaiting}
	e.mu.Lock()
	if e.capacityDue.IsZero() || due.Before(e.capacityDue) {
		e.capacityDue = due
	}
	e.doomLocked(err)
	e.mu.Unlock()
	if e.tracer != nil {
		// Only the trace is told, as of a durable wait: the step has not run.
		p.trace(ctx)
		if end := p.endSpan; end != nil {
			callHook(e.logger, "Tracer", func() {
				end(&klaxontype.StepOutcome{
					RunID: e.run.ID, Workflow: e.run.Workflow, Seq: p.seq, Name: p.call.Name, Waiting: true,
					RateLimits: rateLimitKeys(p.call.RateLimits), RateLimitWait: time.Until(due),
				})
			})
		}
	}
	return err
}

// capacityUntil is when the rate-limit capacity the attempt waits for is
// due; zero when it waits for none.
func (e *Execution) capacityUntil() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.capacityDue
}

// drawnKeys are the keys of the limits the step draws on; nil for none.
func (p *PendingStep) drawnKeys() []string {
	if len(p.call.RateLimits) == 0 {
		return nil
	}
	return rateLimitKeys(p.call.RateLimits)
}

func rateLimitKeys(draws []RateLimitDraw) []string {
	keys := make([]string, len(draws))
	for i, d := range draws {
		keys[i] = d.Key
	}
	return keys
}
