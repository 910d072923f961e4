package openai

import (
	"context"
	"net/http"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/klaxonhq/klaxon/llm"
)

// providerName is the name in responses, errors and traces.
const providerName = "openai"

// Provider calls a Chat Completions endpoint. It is safe for concurrent use.
type Provider struct {
	client          sdk.Client
	legacyMaxTokens bool
}

var _ llm.Provider = (*Provider)(nil)

// Option configures a Provider.
type Option func(*settings)

type settings struct {
	requestOptions  []option.RequestOption
	legacyMaxTokens bool
}

// WithAPIKey sets the API key. Without it the key comes from OPENAI_API_KEY;
// a local server that needs no key works with neither.
func WithAPIKey(key string) Option {
	return func(s *settings) { s.requestOptions = append(s.requestOptions, option.WithAPIKey(key)) }
}

// WithBaseURL points the provider at another OpenAI-compatible server, with
// its version prefix: "http://localhost:11434/v1" for Ollama,
// "http://localhost:8000/v1" for vLLM. Without it the URL comes from
// OPENAI_BASE_URL, or is OpenAI's own.
func WithBaseURL(url string) Option {
	return func(s *settings) { s.requestOptions = append(s.requestOptions, option.WithBaseURL(url)) }
}

// WithHTTPClient sends requests through client, for a proxy, custom TLS or
// instrumentation. Its Timeout, if any, applies to each call; prefer a
// context deadline, which the engine classifies as a timeout.
func WithHTTPClient(client *http.Client) Option {
	return func(s *settings) {
		if client != nil {
			s.requestOptions = append(s.requestOptions, option.WithHTTPClient(client))
		}
	}
}

// WithLegacyMaxTokens sends Request.MaxTokens as max_tokens instead of
// max_completion_tokens, for servers that predate the newer field. OpenAI's
// reasoning models reject max_tokens.
func WithLegacyMaxTokens() Option {
	return func(s *settings) { s.legacyMaxTokens = true }
}

// WithRequestOptions passes further SDK options (organization, project,
// headers, middleware) to every request. An option that turns the SDK's
// retries back on is overridden: retries belong to Klaxon.
func WithRequestOptions(options ...option.RequestOption) Option {
	return func(s *settings) { s.requestOptions = append(s.requestOptions, options...) }
}

// New returns a Provider. The SDK reads its defaults from the environment
// (OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_ORG_ID, OPENAI_PROJECT_ID); the
// options override them.
func New(options ...Option) *Provider {
	var s settings
	for _, apply := range options {
		apply(&s)
	}
	// Last, so that nothing can turn the SDK's hidden retries back on.
	requestOptions := append(s.requestOptions, option.WithMaxRetries(0))
	return &Provider{
		client:          sdk.NewClient(requestOptions...),
		legacyMaxTokens: s.legacyMaxTokens,
	}
}

// Name is "openai", also for OpenAI-compatible servers.
func (p *Provider) Name() string { return providerName }

// Complete sends one chat completion request, exactly once.
//
// A refusal (finish_reason content_filter, or a refusal message) is returned
// as a policy_violation *llm.ProviderError together with the response, so
// that the caller can still account for the tokens the call consumed.
func (p *Provider) Complete(ctx context.Context, request *llm.Request) (*llm.Response, error) {
	params, err := p.chatParams(request)
	if err != nil {
		return nil, err
	}
	completion, err := p.client.Chat.Completions.New(ctx, params)
	if err != nil {
		return nil, translateError(err)
	}
	response, err := translateResponse(completion, request)
	if err != nil {
		return response, err
	}
	if refusal := refusalError(completion); refusal != nil {
		return response, refusal
	}
	return response, nil
}
