// Package anthropic is the llm.Provider for Anthropic's Messages API, a thin
// adapter over the official Go SDK (github.com/anthropics/anthropic-sdk-go/v2).
//
// The SDK's own retries are always off: Klaxon owns every retry, so every
// attempt is in the run's history and none is charged unseen. Provider errors
// come back as *llm.ProviderError with a failure class; transport errors and
// context errors come back wrapped but otherwise as the SDK returned them, so
// the engine's classifier sees connection resets and deadlines.
//
// It may import only the standard library, llm, klaxontype and
// github.com/anthropics/anthropic-sdk-go/v2.
package anthropic

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/klaxonhq/klaxon/llm"
)

// Name is the provider's name in responses, errors and traces.
const Name = "anthropic"

// DefaultMaxTokens is the max_tokens sent when a request leaves MaxTokens
// zero: the Messages API requires the field. It stays well below the limit
// above which the SDK refuses a non-streaming call (see WithRequestTimeout).
const DefaultMaxTokens = 4096

// Provider calls the Messages API. It is safe for concurrent use.
type Provider struct {
	client           sdk.Client
	defaultMaxTokens int
	requestTimeout   time.Duration
}

var _ llm.Provider = (*Provider)(nil)

// Option configures a Provider.
type Option func(*settings)

type settings struct {
	apiKey           string
	baseURL          string
	httpClient       *http.Client
	defaultMaxTokens int
	requestTimeout   time.Duration
}

// WithAPIKey sets the API key. Without it the SDK's default credential chain
// applies (ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN, a profile, …).
func WithAPIKey(key string) Option {
	return func(s *settings) { s.apiKey = key }
}

// WithBaseURL sends requests to another endpoint than api.anthropic.com: a
// gateway, a proxy or a test server. ANTHROPIC_BASE_URL does the same when
// this option is not given.
func WithBaseURL(url string) Option {
	return func(s *settings) { s.baseURL = url }
}

// WithHTTPClient makes requests with client instead of the SDK's default.
func WithHTTPClient(client *http.Client) Option {
	return func(s *settings) { s.httpClient = client }
}

// WithDefaultMaxTokens sets the max_tokens sent for requests that leave
// MaxTokens zero, instead of DefaultMaxTokens.
func WithDefaultMaxTokens(n int) Option {
	return func(s *settings) { s.defaultMaxTokens = n }
}

// WithRequestTimeout bounds each HTTP request. Without it the SDK's default
// applies (ten minutes), and the SDK refuses a non-streaming call whose
// max_tokens could take longer than that (above about 21,000 tokens, less for
// some models); with it that guard is lifted. The step's own deadline, from
// the context, applies either way.
func WithRequestTimeout(timeout time.Duration) Option {
	return func(s *settings) { s.requestTimeout = timeout }
}

// New returns a Provider. The SDK's retries are turned off whatever the
// options say.
func New(options ...Option) *Provider {
	s := settings{defaultMaxTokens: DefaultMaxTokens}
	for _, apply := range options {
		apply(&s)
	}
	var requestOptions []option.RequestOption
	if s.apiKey != "" {
		requestOptions = append(requestOptions, option.WithAPIKey(s.apiKey))
	}
	if s.baseURL != "" {
		requestOptions = append(requestOptions, option.WithBaseURL(s.baseURL))
	}
	if s.httpClient != nil {
		requestOptions = append(requestOptions, option.WithHTTPClient(s.httpClient))
	}
	if s.requestTimeout > 0 {
		requestOptions = append(requestOptions, option.WithRequestTimeout(s.requestTimeout))
	}
	// Last, so that nothing above can turn hidden retries back on.
	requestOptions = append(requestOptions, option.WithMaxRetries(0))
	if s.defaultMaxTokens <= 0 {
		s.defaultMaxTokens = DefaultMaxTokens
	}
	return &Provider{
		client:           sdk.NewClient(requestOptions...),
		defaultMaxTokens: s.defaultMaxTokens,
		requestTimeout:   s.requestTimeout,
	}
}

// Name returns "anthropic".
func (p *Provider) Name() string { return Name }

// Complete sends request to the Messages API and translates the answer.
//
// A response the model refused (stop_reason "refusal", which the API sends
// with HTTP 200) is returned together with a *llm.ProviderError of class
// policy_violation: the error says what happened, and the response carries
// the usage the refusal was billed for.
func (p *Provider) Complete(ctx context.Context, request *llm.Request) (*llm.Response, error) {
	params, requestOptions, err := p.translateRequest(request)
	if err != nil {
		return nil, err
	}
	message, err := p.client.Messages.New(ctx, params, requestOptions...)
	if err != nil {
		return nil, translateError(err)
	}
	response := translateResponse(message)
	if message.StopReason == sdk.StopReasonRefusal {
		return response, refusalError(message)
	}
	return response, nil
}

// translateError turns the SDK's API error into a classified
// *llm.ProviderError and wraps anything else, keeping it matchable: a
// transport error stays a net.Error, a deadline stays
// context.DeadlineExceeded.
func translateError(err error) error {
	var apiErr *sdk.Error
	if errors.As(err, &apiErr) {
		return providerError(apiErr)
	}
	return fmt.Errorf("%s: %w", Name, err)
}
