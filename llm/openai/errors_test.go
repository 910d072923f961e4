package openai

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/klaxonhq/klaxon/internal/classify"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/llm"
)

func testRequest() *llm.Request {
	return &llm.Request{
		Model:    "gpt-4o-mini",
		Messages: []llm.Message{{Role: llm.RoleUser, Content: "Summarise invoice 42."}},
	}
}

// TestCompleteErrorClasses is the mapping of provider errors to
// failure classes, row by row, against the errors the real SDK produces from
// the wire. Every row must cost exactly one request: the SDK does not retry.
func TestCompleteErrorClasses(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		handle fakeHandler
		// timeout, when set, is the deadline of the call's context.
		timeout   time.Duration
		wantClass klaxontype.FailureClass
		// wantProvider says the error is a *llm.ProviderError with this
		// status, code and wait; wantSDKError that it wraps the SDK's
		// *openai.Error.
		wantProvider bool
		wantSDKError bool
		wantStatus   int
		wantCode     string
		wantWait     time.Duration
		// wantMessage is a part of the error's text.
		wantMessage string
		// wantResponse says a response comes back beside the error.
		wantResponse bool
	}{
		{
			name: "429 with Retry-After is rate limited with the wait",
			handle: respondError(http.StatusTooManyRequests, http.Header{"Retry-After": {"7"}}, wireErrorBody{
				Message: "Rate limit reached for gpt-4o-mini in organization org-abc on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 120ms.",
				Type:    "requests",
				Code:    stringPointer("rate_limit_exceeded"),
			}),
			wantClass: klaxontype.ClassRateLimited, wantProvider: true, wantSDKError: true,
			wantStatus: 429, wantCode: "rate_limit_exceeded", wantWait: 7 * time.Second,
		},
		{
			name: "429 with retry-after-ms takes the milliseconds",
			handle: respondError(http.StatusTooManyRequests, http.Header{"Retry-After": {"2"}, "Retry-After-Ms": {"1500"}}, wireErrorBody{
				Message: "Rate limit reached for gpt-4o-mini on tokens per min (TPM): Limit 30000, Used 29800, Requested 900.",
				Type:    "tokens",
				Code:    stringPointer("rate_limit_exceeded"),
			}),
			wantClass: klaxontype.ClassRateLimited, wantProvider: true, wantSDKError: true,
			wantStatus: 429, wantCode: "rate_limit_exceeded", wantWait: 1500 * time.Millisecond,
		},
		{
			name: "429 insufficient_quota is still rate limited",
			handle: respondError(http.StatusTooManyRequests, nil, wireErrorBody{
				Message: "You exceeded your current quota, please check your plan and billing details.",
				Type:    "insufficient_quota",
				Code:    stringPointer("insufficient_quota"),
			}),
			wantClass: klaxontype.ClassRateLimited, wantProvider: true, wantSDKError: true,
			wantStatus: 429, wantCode: "insufficient_quota",
		},
		{
			name: "408 is transient",
			handle: respondError(http.StatusRequestTimeout, nil, wireErrorBody{
				Message: "Request timed out.", Type: "timeout",
			}),
			wantClass: klaxontype.ClassTransient, wantProvider: true, wantSDKError: true, wantStatus: 408,
		},
		{
			name: "409 is transient",
			handle: respondError(http.StatusConflict, nil, wireErrorBody{
				Message: "Another request for this resource is in progress.", Type: "invalid_request_error",
			}),
			wantClass: klaxontype.ClassTransient, wantProvider: true, wantSDKError: true, wantStatus: 409,
		},
		{
			name: "500 is transient",
			handle: respondError(http.StatusInternalServerError, nil, wireErrorBody{
				Message: "The server had an error while processing your request. Sorry about that!", Type: "server_error",
			}),
			wantClass: klaxontype.ClassTransient, wantProvider: true, wantSDKError: true, wantStatus: 500,
		},
		{
			name: "503 is transient",
			handle: respondError(http.StatusServiceUnavailable, nil, wireErrorBody{
				Message: "The engine is currently overloaded, please try again later.", Type: "server_error",
			}),
			wantClass: klaxontype.ClassTransient, wantProvider: true, wantSDKError: true, wantStatus: 503,
			wantMessage: "overloaded",
		},
		{
			name:      "502 from a proxy with an HTML page is transient",
			handle:    respondRaw(http.StatusBadGateway, "text/html", "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n"),
			wantClass: klaxontype.ClassTransient, wantProvider: true, wantSDKError: true, wantStatus: 502,
			wantMessage: "502 Bad Gateway",
		},
		{
			name: "context_length_exceeded is context overflow",
			handle: respondError(http.StatusBadRequest, nil, wireErrorBody{
				Message: "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.",
				Type:    "invalid_request_error",
				Param:   stringPointer("messages"),
				Code:    stringPointer("context_length_exceeded"),
			}),
			wantClass: klaxontype.ClassContextOverflow, wantProvider: true, wantSDKError: true,
			wantStatus: 400, wantCode: "context_length_exceeded",
		},
		{
			name: "vLLM's top-level error object with a numeric code is context overflow",
			handle: respondRaw(http.StatusBadRequest, "application/json",
				`{"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 5120 tokens (4096 in the messages, 1024 in the completion). Please reduce the length of the messages or completion.","type":"BadRequestError","param":null,"code":400}`),
			wantClass: klaxontype.ClassContextOverflow, wantProvider: true, wantSDKError: true, wantStatus: 400,
			wantMessage: "maximum context length is 4096",
		},
		{
			name: "vLLM's error object with the status as its code is context overflow",
			handle: respondRaw(http.StatusBadRequest, "application/json",
				`{"error":{"message":"This model's maximum context length is 8192 tokens. However, your request has 9000 input tokens.","type":"BadRequestError","param":null,"code":400}}`),
			wantClass: klaxontype.ClassContextOverflow, wantProvider: true, wantSDKError: true, wantStatus: 400,
			wantMessage: "maximum context length is 8192",
		},
		{
			name: "400 content_policy_violation is a policy violation",
			handle: respondError(http.StatusBadRequest, nil, wireErrorBody{
				Message: "Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.",
				Type:    "invalid_request_error",
				Code:    stringPointer("content_policy_violation"),
			}),
			wantClass: klaxontype.ClassPolicyViolation, wantProvider: true, wantSDKError: true,
			wantStatus: 400, wantCode: "content_policy_violation",
		},
		{
			name: "200 with finish_reason content_filter is a policy violation",
			handle: respondCompletion(completion("gpt-4o-mini-2024-07-18",
				wireMessage{Content: stringPointer("")}, "content_filter", 42, 0, 0)),
			wantClass: klaxontype.ClassPolicyViolation, wantProvider: true,
			wantStatus: 200, wantCode: "content_filter", wantResponse: true,
		},
		{
			name: "200 with a refusal is a policy violation",
			handle: respondCompletion(completion("gpt-4o-2024-08-06",
				wireMessage{Refusal: stringPointer("I'm sorry, I can't help with that.")}, "stop", 40, 9, 0)),
			wantClass: klaxontype.ClassPolicyViolation, wantProvider: true,
			wantStatus: 200, wantCode: "refusal", wantMessage: "I'm sorry, I can't help with that.", wantResponse: true,
		},
		{
			name: "other 400 is permanent",
			handle: respondError(http.StatusBadRequest, nil, wireErrorBody{
				Message: "Invalid value for 'temperature': expected a number between 0 and 2.",
				Type:    "invalid_request_error",
				Param:   stringPointer("temperature"),
				Code:    stringPointer("invalid_value"),
			}),
			wantClass: klaxontype.ClassPermanent, wantProvider: true, wantSDKError: true,
			wantStatus: 400, wantCode: "invalid_value",
		},
		{
			name: "422 is permanent",
			handle: respondError(http.StatusUnprocessableEntity, nil, wireErrorBody{
				Message: "Unprocessable request: 'messages' must not be empty.",
				Type:    "invalid_request_error",
				Param:   stringPointer("messages"),
			}),
			wantClass: klaxontype.ClassPermanent, wantProvider: true, wantSDKError: true, wantStatus: 422,
		},
		{
			name: "404 model_not_found is permanent",
			handle: respondError(http.StatusNotFound, nil, wireErrorBody{
				Message: "The model `gpt-9` does not exist or you do not have access to it.",
				Type:    "invalid_request_error",
				Param:   stringPointer("model"),
				Code:    stringPointer("model_not_found"),
			}),
			wantClass: klaxontype.ClassPermanent, wantProvider: true, wantSDKError: true,
			wantStatus: 404, wantCode: "model_not_found",
		},
		{
			name: "401 is permanent and says the credentials are wrong",
			handle: respondError(http.StatusUnauthorized, nil, wireErrorBody{
				Message: "Incorrect API key provided: sk-test-***ixon. You can find your API key at https://platform.openai.com/account/api-keys.",
				Type:    "invalid_request_error",
				Code:    stringPointer("invalid_api_key"),
			}),
			wantClass: klaxontype.ClassPermanent, wantProvider: true, wantSDKError: true,
			wantStatus: 401, wantCode: "invalid_api_key", wantMessage: "credentials are wrong",
		},
		{
			name: "403 is permanent and says the credentials are wrong",
			handle: respondError(http.StatusForbidden, nil, wireErrorBody{
				Message: "Country, region, or territory not supported",
				Type:    "request_forbidden",
				Code:    stringPointer("unsupported_country_region_territory"),
			}),
			wantClass: klaxontype.ClassPermanent, wantProvider: true, wantSDKError: true,
			wantStatus: 403, wantCode: "unsupported_country_region_territory", wantMessage: "credentials are wrong",
		},
		{
			name:      "a connection reset is transient",
			handle:    resetConnection,
			wantClass: klaxontype.ClassTransient,
		},
		{
			name:      "a deadline is a timeout",
			handle:    stall,
			timeout:   200 * time.Millisecond,
			wantClass: klaxontype.ClassTimeout,
		},
	}

	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()
			server := newFakeServer(t, test.handle)
			ctx := t.Context()
			if test.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, test.timeout)
				defer cancel()
			}

			response, err := server.provider().Complete(ctx, testRequest())

			if got := server.requests.Load(); got != 1 {
				t.Errorf("the server saw %d requests, want exactly 1 (the SDK must not retry)", got)
			}
			if err == nil {
				t.Fatalf("Complete returned no error, want class %s (response %+v)", test.wantClass, response)
			}
			if got := classify.Default().Classify(err); got.Class != test.wantClass {
				t.Errorf("classified %s by %q, want %s; error: %v", got.Class, got.By, test.wantClass, err)
			}
			if test.wantResponse != (response != nil) {
				t.Errorf("response %+v, want one: %t", response, test.wantResponse)
			}
			if response != nil && response.Usage.InputTokens == 0 {
				// The refused call consumed tokens; the caller must be able
				// to charge them.
				t.Errorf("the response beside the error has no usage: %+v", response)
			}

			var providerErr *llm.ProviderError
			if !errors.As(err, &providerErr) {
				if test.wantProvider {
					t.Fatalf("error %T %v is not a *llm.ProviderError", err, err)
				}
				return
			}
			if !test.wantProvider {
				t.Fatalf("error %v is a *llm.ProviderError, want the transport's error", err)
			}
			if providerErr.Provider != "openai" {
				t.Errorf("Provider %q, want openai", providerErr.Provider)
			}
			if providerErr.Class != test.wantClass {
				t.Errorf("Class %s, want %s", providerErr.Class, test.wantClass)
			}
			if providerErr.Status != test.wantStatus {
				t.Errorf("Status %d, want %d", providerErr.Status, test.wantStatus)
			}
			if providerErr.Code != test.wantCode {
				t.Errorf("Code %q, want %q", providerErr.Code, test.wantCode)
			}
			if providerErr.Wait != test.wantWait {
				t.Errorf("Wait %v, want %v", providerErr.Wait, test.wantWait)
			}
			if providerErr.Message == "" {
				t.Error("Message is empty")
			}
			if !strings.Contains(err.Error(), test.wantMessage) {
				t.Errorf("error %q does not say %q", err, test.wantMessage)
			}
			var sdkErr *sdk.Error
			if test.wantSDKError {
				if !errors.As(err, &sdkErr) {
					t.Errorf("error %v does not wrap the SDK's *openai.Error", err)
				} else if sdkErr.StatusCode != test.wantStatus {
					t.Errorf("SDK error status %d, want %d", sdkErr.StatusCode, test.wantStatus)
				}
			}
			var retryAfter klaxontype.RetryAfterError
			if errors.As(err, &retryAfter) && retryAfter.RetryAfter() != test.wantWait {
				t.Errorf("RetryAfter() %v, want %v", retryAfter.RetryAfter(), test.wantWait)
			}
		})
	}
}

// TestCompleteTransportErrorsAreWrapped checks that the engine's classifier
// can see through the adapter's wrapping to the transport's own error.
func TestCompleteTransportErrorsAreWrapped(t *testing.T) {
	t.Parallel()

	t.Run("deadline", func(t *testing.T) {
		t.Parallel()
		server := newFakeServer(t, stall)
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		_, err := server.provider().Complete(ctx, testRequest())
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v is not context.DeadlineExceeded", err)
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		server := newFakeServer(t, stall)
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := server.provider().Complete(ctx, testRequest())
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v is not context.Canceled", err)
		}
		if got := server.requests.Load(); got != 1 {
			t.Errorf("the server saw %d requests, want 1", got)
		}
	})

	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		server := newFakeServer(t, stall)
		url := server.URL
		server.Close()
		provider := New(WithAPIKey(testAPIKey), WithBaseURL(url+"/v1"))
		_, err := provider.Complete(t.Context(), testRequest())
		if err == nil {
			t.Fatal("Complete against a closed server returned no error")
		}
		var providerErr *llm.ProviderError
		if errors.As(err, &providerErr) {
			t.Errorf("error %v is a *llm.ProviderError, want the transport's error", err)
		}
		if got := classify.Default().Classify(err); got.Class != klaxontype.ClassTransient || got.By != "network" {
			t.Errorf("classified %s by %q, want transient by network; error: %v", got.Class, got.By, err)
		}
	})
}

// TestCompleteRetriesStayOff checks that a caller's SDK option cannot turn the
// SDK's hidden retries back on.
func TestCompleteRetriesStayOff(t *testing.T) {
	t.Parallel()
	server := newFakeServer(t, respondError(http.StatusInternalServerError, http.Header{"Retry-After-Ms": {"1"}}, wireErrorBody{
		Message: "The server had an error while processing your request. Sorry about that!", Type: "server_error",
	}))
	provider := server.provider(WithRequestOptions(option.WithMaxRetries(5)))
	_, err := provider.Complete(t.Context(), testRequest())
	if err == nil {
		t.Fatal("Complete returned no error")
	}
	if got := server.requests.Load(); got != 1 {
		t.Errorf("the server saw %d requests, want exactly 1", got)
	}
}
