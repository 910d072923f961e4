package http

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/protocol"
)

// RateLimitList is the declared rate limits by key, each with its state.
type RateLimitList struct {
	RateLimits []*klaxontype.RateLimit `json:"rate_limits"`
}

type listRateLimitsOutput struct {
	Body RateLimitList
}

type declareRateLimitInput struct {
	Body struct {
		Key      string `json:"key" minLength:"1" maxLength:"200" doc:"The limit's key, as \"openai/gpt-4o-mini\""`
		Requests int64  `json:"requests" doc:"Requests granted per period, at least 1"`
		Tokens   int64  `json:"tokens,omitempty" doc:"Model tokens granted per period; 0 for no token limit"`
		PerMS    int64  `json:"per_ms" doc:"The period in milliseconds, at least 1"`
	}
}

type rateLimitAcquireInput struct {
	Body protocol.RateLimitAcquireRequest
}

type rateLimitAcquireOutput struct {
	Body *protocol.RateLimitAcquireAnswer
}

type rateLimitSettleInput struct {
	Body protocol.RateLimitSettleRequest
}

type rateLimitSettleOutput struct{}

// registerRateLimits serves the rate limits: read to list them with their
// state, and to workers of other languages the acquisition and settlement
// a Go step does in process.
func (s *Server) registerRateLimits() {
	register(s, ScopeRead, huma.Operation{
		OperationID: "list-rate-limits", Method: http.MethodGet, Path: APIPrefix + "/ratelimits",
		Summary: "Rate limits, by key, with their state now", Tags: []string{"rate limits"},
		Description: "Each limit's requests and tokens per period, and how many of each could be granted at once now " +
			"(tokens negative when steps used more than they reserved).",
	}, func(ctx context.Context, _ *struct{}) (*listRateLimitsOutput, error) {
		limits, err := s.client.RateLimits(ctx)
		if err != nil {
			return nil, err
		}
		return &listRateLimitsOutput{Body: RateLimitList{RateLimits: orEmpty(limits)}}, nil
	})
	register(s, ScopeOperate, huma.Operation{
		OperationID: "declare-rate-limit", Method: http.MethodPost, Path: APIPrefix + "/ratelimits",
		Summary: "Declare a rate limit, or change one keeping what is spent of it", Tags: []string{"rate limits"},
		Description: "For workers of any language. Fewer than one request, negative tokens or a period under 1 ms is 422, and nothing is saved.",
		Errors:      []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, input *declareRateLimitInput) (*listRateLimitsOutput, error) {
		b := &input.Body
		limit := klaxontype.RateLimit{Key: b.Key, Requests: b.Requests, Tokens: b.Tokens, Per: time.Duration(b.PerMS) * time.Millisecond}
		if err := s.client.DeclareRateLimits(ctx, limit); err != nil {
			return nil, err
		}
		limits, err := s.client.RateLimits(ctx)
		if err != nil {
			return nil, err
		}
		return &listRateLimitsOutput{Body: RateLimitList{RateLimits: orEmpty(limits)}}, nil
	})
	tags := []string{"worker protocol"}
	register(s, ScopeWorker, huma.Operation{
		OperationID: "worker-rate-limit-acquire", Method: http.MethodPost, Path: APIPrefix + "/worker/ratelimits/acquire",
		Summary: "Reserve a step's capacity of a rate limit, or learn when it is due", Tags: tags,
		Description: "Granted: the step runs after wait_ms, its request and estimated tokens reserved. Not granted: the capacity is due " +
			"at retry_at, further than the server lets a reservation wait (5 s); nothing is reserved and the worker asks again then. " +
			"An undeclared key is 404.",
		Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, input *rateLimitAcquireInput) (*rateLimitAcquireOutput, error) {
		grant, err := s.client.AcquireRateLimit(ctx, input.Body.Key, input.Body.Tokens)
		if err != nil {
			return nil, err
		}
		return &rateLimitAcquireOutput{Body: &protocol.RateLimitAcquireAnswer{
			Granted: grant.Granted, WaitMS: (grant.Wait + time.Millisecond - 1).Milliseconds(), RetryAt: grant.RetryAt, Tokens: grant.Tokens,
		}}, nil
	})
	register(s, ScopeWorker, huma.Operation{
		OperationID: "worker-rate-limit-settle", Method: http.MethodPost, Path: APIPrefix + "/worker/ratelimits/settle",
		Summary: "Charge a rate limit the tokens a step used against those it reserved", Tags: tags,
		Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, input *rateLimitSettleInput) (*rateLimitSettleOutput, error) {
		return &rateLimitSettleOutput{}, s.client.SettleRateLimit(ctx, input.Body.Key, input.Body.Reserved, input.Body.Used)
	})
}

// RateLimits lists the declared rate limits with their state.
func (c *Client) RateLimits(ctx context.Context) ([]*klaxontype.RateLimit, error) {
	var list RateLimitList
	if err := c.do(ctx, http.MethodGet, APIPrefix+"/ratelimits", nil, nil, &list); err != nil {
		return nil, err
	}
	return list.RateLimits, nil
}

// DeclareRateLimits declares rate limits, one request each.
func (c *Client) DeclareRateLimits(ctx context.Context, limits ...klaxontype.RateLimit) error {
	for _, limit := range limits {
		body := map[string]any{"key": limit.Key, "requests": limit.Requests, "tokens": limit.Tokens, "per_ms": limit.Per.Milliseconds()}
		if err := c.do(ctx, http.MethodPost, APIPrefix+"/ratelimits", nil, body, &RateLimitList{}); err != nil {
			return err
		}
	}
	return nil
}
