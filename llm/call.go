package llm

import (
	"context"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// CallOption configures one model call.
type CallOption func(*callOptions)

type callOptions struct {
	prices  Prices
	timeout time.Duration
	step    []klaxon.StepOption
}

// WithPrices prices the call with a table other than DefaultPrices.
func WithPrices(prices Prices) CallOption {
	return func(o *callOptions) { o.prices = prices }
}

// WithTimeout bounds the call; past it the step fails with class timeout.
func WithTimeout(timeout time.Duration) CallOption {
	return func(o *callOptions) { o.timeout = timeout }
}

// WithStepOptions passes options to the underlying step (validators,
// compensation).
func WithStepOptions(options ...klaxon.StepOption) CallOption {
	return func(o *callOptions) { o.step = append(o.step, options...) }
}

// PromptChangedError is a replayed call whose request differs from the one
// recorded: the stored answer belongs to another question. It is
// nondeterminism, never retried.
type PromptChangedError struct {
	Step     string
	Recorded string
	Now      string
}

func (e *PromptChangedError) Error() string {
	return fmt.Sprintf("model call %q: the request changed since its response was recorded (hash %.12s, now %.12s)", e.Step, e.Recorded, e.Now)
}

// FailureClass makes a changed prompt nondeterminism.
func (e *PromptChangedError) FailureClass() klaxontype.FailureClass {
	return klaxontype.ClassNondeterminism
}

// Call asks the provider as a checkpointed step named name. When a rate
// limit of key "provider/model" is declared (klaxon.Client.DeclareRateLimits),
// the call draws on it: it waits for capacity rather than be refused, and
// reserves EstimateTokens, settled with the tokens used. The first time
// the run reaches it, the run's budget is checked, the provider is called, the
// response is priced and stored with its token usage in the step log; every
// later attempt, or a resume from the dead-letter queue, gets the stored
// response and the provider is not called. A response resolved by hand on the
// dead-letter queue ({"content": "..."} is enough) is returned as it was
// written.
func Call(ctx context.Context, provider Provider, name string, request *Request, options ...CallOption) (*Response, error) {
	o := callOptions{prices: DefaultPrices}
	for _, option := range options {
		option(&o)
	}
	hash := request.Hash()
	stepOptions := append([]klaxon.StepOption{
		klaxon.DrawOnIfDeclared(RateLimitKey(provider, request), EstimateTokens(request)),
	}, o.step...)
	if o.timeout > 0 {
		stepOptions = append(stepOptions, klaxon.StepTimeout(o.timeout))
	}
	response, err := klaxon.Step(ctx, name, func(ctx context.Context) (*Response, error) {
		response, err := complete(ctx, provider, request, o.prices)
		if response != nil {
			response.Provider = provider.Name()
			response.RequestHash = hash
		}
		if err != nil {
			return nil, err
		}
		return response, nil
	}, stepOptions...)
	if err != nil {
		return nil, err
	}
	// A response without a hash was written by a person resolving the
	// dead-letter entry (klaxon dlq resolve): it answers whatever the request
	// is now, and the run goes on with it.
	if response.RequestHash != "" && response.RequestHash != hash {
		return nil, &PromptChangedError{Step: name, Recorded: response.RequestHash, Now: hash}
	}
	return response, nil
}

// RateLimitKey is the rate limit a call draws on when one is declared:
// "provider/model", as in "openai/gpt-4o-mini".
func RateLimitKey(provider Provider, request *Request) string {
	return provider.Name() + "/" + request.Model
}

// EstimateTokens is the tokens a call reserves from its rate limit before it
// is made: about a token per four bytes of what is sent, plus MaxTokens for
// the answer. The tokens the call used are charged once it answers, so a
// wrong estimate moves only when the next calls wait, not how many tokens
// the limit grants over time.
func EstimateTokens(request *Request) int64 {
	size := len(request.System)
	for _, m := range request.Messages {
		size += len(m.Content)
		for _, call := range m.ToolCalls {
			size += len(call.Name) + len(call.Arguments)
		}
	}
	for _, tool := range request.Tools {
		size += len(tool.Name) + len(tool.Description) + len(tool.Parameters)
	}
	return int64(size/4 + request.MaxTokens)
}

// endModelCall ends a model call's span with what the provider answered.
func endModelCall(end func(*klaxontype.ModelCallOutcome), response *Response, err error) {
	outcome := &klaxontype.ModelCallOutcome{Err: err}
	if response != nil {
		outcome.ResponseModel, outcome.FinishReason = response.Model, response.FinishReason
		outcome.Usage, outcome.Cost = response.Usage, response.Cost
	}
	end(outcome)
}

// Complete asks the provider once from inside the current step's function,
// as Call does within its step: the run's budget is checked first, the
// response is priced with prices (DefaultPrices when nil), its spend is
// recorded with the step, and the call is traced. It is for a step whose
// output is not the whole response (an answer extracted from it, say); the
// step, not Complete, makes it durable. It may return a response with an
// error, for a refusal that was billed.
func Complete(ctx context.Context, provider Provider, request *Request, prices Prices) (*Response, error) {
	if prices == nil {
		prices = DefaultPrices
	}
	return complete(ctx, provider, request, prices)
}

func complete(ctx context.Context, provider Provider, request *Request, prices Prices) (*Response, error) {
	if err := klaxon.CheckBudget(ctx); err != nil {
		return nil, err
	}
	callCtx, endSpan := klaxon.StartModelCall(ctx, &klaxontype.ModelCall{
		Provider: provider.Name(), Operation: "chat", Model: request.Model,
		MaxTokens: request.MaxTokens, Temperature: request.Temperature,
	})
	response, err := provider.Complete(callCtx, request)
	if response != nil {
		// A refusal can come with a billed response: it is paid for
		// whether or not the step succeeds.
		model := response.Model
		if model == "" {
			model = request.Model
		}
		response.Cost = prices.Cost(model, response.Usage)
		klaxon.RecordSpend(ctx, klaxontype.Spend{Usage: response.Usage, Cost: response.Cost, ModelCalls: 1})
	}
	endModelCall(endSpan, response, err)
	return response, err
}
