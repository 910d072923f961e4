package txn

import (
	"context"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// RateLimitRow is a rate limit's row: its definition and its two
// theoretical arrival times (GCRA), as Unix nanoseconds so that both
// stores keep them exactly. A time in the past is a full budget.
type RateLimitRow struct {
	Limit      klaxontype.RateLimit
	RequestTAT int64
	TokenTAT   int64
}

// RateLimitSave declares a limit, or changes its definition keeping what
// is spent of it.
func (r Rules) RateLimitSave(ctx context.Context, params *store.RateLimitSaveParams) (*klaxontype.RateLimit, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	var saved *klaxontype.RateLimit
	err := r.transact(ctx, func(ctx context.Context, tx Tx) error {
		t := r.now()
		limit := klaxontype.RateLimit{Key: params.Key, Requests: params.Requests, Tokens: params.Tokens, Per: params.Per, UpdatedAt: t}
		if err := tx.RateLimitUpsert(ctx, &limit); err != nil {
			return err
		}
		row, err := tx.RateLimitLock(ctx, params.Key)
		if err != nil {
			return err
		}
		if row == nil {
			return fmt.Errorf("rate limit %q vanished inside its own transaction", params.Key)
		}
		saved = &row.Limit
		saved.State = rateLimitState(row, t)
		return nil
	})
	return saved, err
}

// RateLimitList returns every limit with its state now.
func (r Rules) RateLimitList(ctx context.Context) ([]*klaxontype.RateLimit, error) {
	var limits []*klaxontype.RateLimit
	err := r.transact(ctx, func(ctx context.Context, tx Tx) error {
		t := r.now()
		rows, err := tx.RateLimitRows(ctx)
		if err != nil {
			return err
		}
		limits = make([]*klaxontype.RateLimit, 0, len(rows))
		for _, row := range rows {
			limit := row.Limit
			limit.State = rateLimitState(row, t)
			limits = append(limits, &limit)
		}
		return nil
	})
	return limits, err
}

// RateLimitAcquire judges one acquisition by GCRA on the limit's locked row:
// the request (and the token estimate, when the limit counts tokens) moves
// the theoretical arrival time on by its share of the period; the caller may
// go once that time is less than a period ahead of now. Capacity due within
// MaxWait is reserved and the caller sleeps until it; later capacity is not
// reserved, so a caller that gives its worker up holds nothing meanwhile.
func (r Rules) RateLimitAcquire(ctx context.Context, params *store.RateLimitAcquireParams) (*klaxontype.RateLimitGrant, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	requests := max(params.Requests, 1)
	var grant *klaxontype.RateLimitGrant
	err := r.transact(ctx, func(ctx context.Context, tx Tx) error {
		t := r.now()
		row, err := lockDeclaredRateLimit(ctx, tx, params.Key)
		if err != nil {
			return err
		}
		limit := &row.Limit
		if requests > limit.Requests {
			return fmt.Errorf("%w: rate limit %q grants %d requests per %s; one execution cannot count for %d",
				klaxontype.ErrInvalid, params.Key, limit.Requests, limit.Per, requests)
		}
		now, per := t.UnixNano(), int64(limit.Per)
		requestTAT := max(row.RequestTAT, now) + share(requests, limit.Requests, per)
		due := requestTAT - per
		tokens, tokenTAT := int64(0), row.TokenTAT
		if limit.Tokens > 0 {
			tokens = min(params.Tokens, limit.Tokens)
			tokenTAT = max(row.TokenTAT, now) + share(tokens, limit.Tokens, per)
			due = max(due, tokenTAT-per)
		}
		wait := time.Duration(max(due-now, 0))
		if wait > params.MaxWait {
			grant = &klaxontype.RateLimitGrant{Wait: wait, RetryAt: t.Add(wait)}
			return nil
		}
		grant = &klaxontype.RateLimitGrant{Granted: true, Wait: wait, Tokens: tokens}
		return tx.RateLimitAdvance(ctx, params.Key, requestTAT, tokenTAT)
	})
	if err != nil {
		return nil, err
	}
	return grant, nil
}

// RateLimitSettle moves a limit's token arrival time by the difference
// between the tokens used and those reserved. A debt counts from now when
// the budget had refilled meanwhile: the tokens were used now.
func (r Rules) RateLimitSettle(ctx context.Context, params *store.RateLimitSettleParams) error {
	if err := params.Validate(); err != nil {
		return err
	}
	return r.transact(ctx, func(ctx context.Context, tx Tx) error {
		t := r.now()
		row, err := lockDeclaredRateLimit(ctx, tx, params.Key)
		if err != nil {
			return err
		}
		if row.Limit.Tokens == 0 || params.Tokens == 0 {
			return nil
		}
		per := int64(row.Limit.Per)
		tokenTAT := row.TokenTAT
		if params.Tokens > 0 {
			tokenTAT = max(tokenTAT, t.UnixNano()) + share(params.Tokens, row.Limit.Tokens, per)
		} else {
			tokenTAT -= share(-params.Tokens, row.Limit.Tokens, per)
		}
		return tx.RateLimitAdvance(ctx, params.Key, row.RequestTAT, tokenTAT)
	})
}

// RateLimitBlock makes a limit grant nothing before params.Until, and
// returns when it grants its next request: the
// request arrival time moves to where GCRA grants the first request at
// Until, with the budget empty, and the rest at the limit's steady pace
// (Per/Requests) until it refills. It only ever moves the time on, so a
// shorter Retry-After reported later does not undo a longer one, and
// neither does a block reported by a second worker refused at once.
func (r Rules) RateLimitBlock(ctx context.Context, params *store.RateLimitBlockParams) (time.Time, error) {
	if err := params.Validate(); err != nil {
		return time.Time{}, err
	}
	var grants time.Time
	err := r.transact(ctx, func(ctx context.Context, tx Tx) error {
		t := r.now()
		row, err := lockDeclaredRateLimit(ctx, tx, params.Key)
		if err != nil {
			return err
		}
		until := t
		if params.Until.After(t) {
			until = params.Until
		}
		per := int64(row.Limit.Per)
		one := share(1, row.Limit.Requests, per)
		requestTAT := max(row.RequestTAT, until.UnixNano()+per-one)
		if err := tx.RateLimitAdvance(ctx, params.Key, requestTAT, row.TokenTAT); err != nil {
			return err
		}
		grants = time.Unix(0, max(requestTAT+one-per, t.UnixNano())).UTC()
		if params.RunID == "" {
			return nil
		}
		return tx.EventInsert(ctx, &klaxontype.Event{
			RunID: params.RunID, Type: klaxontype.EventRateLimitBlocked, Actor: params.Actor, At: t,
			Step: params.Step, StepSeq: params.StepSeq,
			Message: fmt.Sprintf("rate limit %s grants nothing until %s: %s", params.Key,
				grants.Format(time.RFC3339Nano), store.StorableText(params.Reason)),
		}, nil)
	})
	if err != nil {
		return time.Time{}, err
	}
	return grants, nil
}

// lockDeclaredRateLimit locks a limit's row; an undeclared limit gives
// klaxontype.ErrNotFound.
func lockDeclaredRateLimit(ctx context.Context, tx Tx, key string) (*RateLimitRow, error) {
	row, err := tx.RateLimitLock(ctx, key)
	if err != nil {
		return nil, err
	}
	if row == nil {
		return nil, fmt.Errorf("rate limit %q is not declared: %w", key, klaxontype.ErrNotFound)
	}
	return row, nil
}

// share is the part of a period that amount of a limit's budget takes, in
// nanoseconds; computed in floating point so that a large amount over a
// long period cannot overflow.
func share(amount, budget, per int64) int64 {
	return int64(float64(amount) * float64(per) / float64(budget))
}

// rateLimitState is what of a limit is available at t.
func rateLimitState(row *RateLimitRow, t time.Time) *klaxontype.RateLimitState {
	limit := &row.Limit
	now, per := t.UnixNano(), int64(limit.Per)
	available := func(tat, budget int64) int64 {
		// The budget spent is the part of the period tat is ahead of now.
		ahead := max(tat-now, 0)
		return int64(float64(per-ahead) * float64(budget) / float64(per))
	}
	state := &klaxontype.RateLimitState{
		At:                t,
		RequestsAvailable: max(available(row.RequestTAT, limit.Requests), 0),
		RequestsNext:      time.Unix(0, max(row.RequestTAT, now)).UTC(),
	}
	if limit.Tokens > 0 {
		state.TokensAvailable = available(row.TokenTAT, limit.Tokens)
		state.TokensNext = time.Unix(0, max(row.TokenTAT, now)).UTC()
	}
	return state
}
