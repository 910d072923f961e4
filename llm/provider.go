package llm

import "context"

// Provider is a model API. Implementations are thin: they translate Request
// and Response to and from one SDK, turn the SDK's own retries off, and return
// failures as *ProviderError (or the transport's error, which the engine's
// classifier knows: deadlines are timeouts, connection resets transient).
// Complete fills everything in Response except Cost and RequestHash. It may
// return a response together with an error, for a refusal that was billed.
type Provider interface {
	// Name is the provider's name in responses and traces ("openai",
	// "anthropic").
	Name() string
	Complete(ctx context.Context, request *Request) (*Response, error)
}
