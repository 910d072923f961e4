package anthropic

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"

	"github.com/klaxonhq/klaxon/internal/classify"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/llm"
)

func simpleRequest() *llm.Request {
	return &llm.Request{
		Model:    "claude-sonnet-4-5",
		Messages: []llm.Message{{Role: llm.RoleUser, Content: "Classify this invoice."}},
	}
}

// TestProviderErrorMapping is the mapping table, row by row, against
// the SDK's own error type decoded from the API's wire format.
func TestProviderErrorMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		status    int
		errorType string
		message   string
		header    http.Header
		wantClass klaxontype.FailureClass
		wantWait  time.Duration
		// wantInError is a phrase the error's text must carry.
		wantInError string
	}{
		{
			name: "429 rate_limit_error with Retry-After", status: 429, errorType: "rate_limit_error",
			message: "This request would exceed the rate limit for your organization of 50 requests per minute.",
			header:  http.Header{"Retry-After": {"17"}}, wantClass: klaxontype.ClassRateLimited, wantWait: 17 * time.Second,
		},
		{
			name: "429 rate_limit_error with retry-after-ms", status: 429, errorType: "rate_limit_error",
			message: "Number of request tokens has exceeded your per-minute rate limit.",
			header:  http.Header{"Retry-After-Ms": {"1500"}, "Retry-After": {"2"}}, wantClass: klaxontype.ClassRateLimited, wantWait: 1500 * time.Millisecond,
		},
		{
			name: "408 timeout_error", status: 408, errorType: "timeout_error",
			message: "Request timed out", wantClass: klaxontype.ClassTransient,
		},
		{
			name: "409 conflict_error", status: 409, errorType: "conflict_error",
			message: "Conflict", wantClass: klaxontype.ClassTransient,
		},
		{
			name: "500 api_error", status: 500, errorType: "api_error",
			message: "Internal server error", wantClass: klaxontype.ClassTransient,
		},
		{
			name: "503 api_error", status: 503, errorType: "api_error",
			message: "Service unavailable", wantClass: klaxontype.ClassTransient,
		},
		{
			name: "504 timeout_error", status: 504, errorType: "timeout_error",
			message: "Request timed out", wantClass: klaxontype.ClassTransient,
		},
		{
			name: "529 overloaded_error", status: 529, errorType: "overloaded_error",
			message: "Overloaded", wantClass: klaxontype.ClassTransient,
		},
		{
			name: "400 prompt is too long", status: 400, errorType: "invalid_request_error",
			message:   "prompt is too long: 210000 tokens > 200000 maximum",
			wantClass: klaxontype.ClassContextOverflow,
		},
		{
			name: "400 output blocked by the content filter", status: 400, errorType: "invalid_request_error",
			message:   "Output blocked by content filtering policy",
			wantClass: klaxontype.ClassPolicyViolation,
		},
		{
			name: "400 request refused under the content policy", status: 400, errorType: "invalid_request_error",
			message:   "Your request was flagged as potentially violating our content policy (Usage Policy). Please rephrase.",
			wantClass: klaxontype.ClassPolicyViolation,
		},
		{
			name: "400 other invalid_request_error", status: 400, errorType: "invalid_request_error",
			message:   `messages: roles must alternate between "user" and "assistant", but found multiple "assistant" roles in a row`,
			wantClass: klaxontype.ClassPermanent,
		},
		{
			name: "422 invalid_request_error", status: 422, errorType: "invalid_request_error",
			message:   "tools.0.input_schema: JSON schema is invalid",
			wantClass: klaxontype.ClassPermanent,
		},
		{
			name: "404 not_found_error for an unknown model", status: 404, errorType: "not_found_error",
			message: "model: claude-sonnet-9", wantClass: klaxontype.ClassPermanent,
		},
		{
			name: "401 authentication_error", status: 401, errorType: "authentication_error",
			message: "invalid x-api-key", wantClass: klaxontype.ClassPermanent, wantInError: "credentials are wrong",
		},
		{
			name: "403 permission_error", status: 403, errorType: "permission_error",
			message:   "Your API key does not have permission to use the specified resource.",
			wantClass: klaxontype.ClassPermanent, wantInError: "credentials are wrong",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := newFakeAnthropic(t, func(w http.ResponseWriter, r *http.Request) {
				for key, values := range tt.header {
					for _, value := range values {
						w.Header().Add(key, value)
					}
				}
				writeAPIError(w, tt.status, tt.errorType, tt.message)
			})

			response, err := fake.provider().Complete(context.Background(), simpleRequest())

			if response != nil {
				t.Errorf("response = %+v, want none", response)
			}
			var sdkErr *sdk.Error
			if !errors.As(err, &sdkErr) {
				t.Fatalf("error %v (%T) does not wrap the SDK's *Error", err, err)
			}
			var providerErr *llm.ProviderError
			if !errors.As(err, &providerErr) {
				t.Fatalf("error %v (%T) is not a *llm.ProviderError", err, err)
			}
			if providerErr.Provider != "anthropic" || providerErr.Status != tt.status ||
				providerErr.Type != tt.errorType || providerErr.Message != tt.message {
				t.Errorf("provider error = {Provider %q, Status %d, Type %q, Message %q}, want {anthropic, %d, %q, %q}",
					providerErr.Provider, providerErr.Status, providerErr.Type, providerErr.Message,
					tt.status, tt.errorType, tt.message)
			}
			if providerErr.Class != tt.wantClass {
				t.Errorf("class = %s, want %s", providerErr.Class, tt.wantClass)
			}
			if got := classify.Default().Classify(err); got.Class != tt.wantClass || got.By != "error" {
				t.Errorf("engine classifier = %+v, want %s by error", got, tt.wantClass)
			}
			if providerErr.Wait != tt.wantWait || providerErr.RetryAfter() != tt.wantWait {
				t.Errorf("wait = %v, want %v", providerErr.Wait, tt.wantWait)
			}
			if tt.wantInError != "" && !strings.Contains(err.Error(), tt.wantInError) {
				t.Errorf("error %q does not say %q", err, tt.wantInError)
			}
			if n := fake.requests.Load(); n != 1 {
				t.Errorf("the server saw %d requests, want exactly 1 (the SDK must not retry)", n)
			}
		})
	}
}

// TestConnectionResetIsTransient drops the connection with a TCP reset while
// the request is in flight.
func TestConnectionResetIsTransient(t *testing.T) {
	t.Parallel()
	fake := newFakeAnthropic(t, func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		if tcp, ok := conn.(*net.TCPConn); ok {
			_ = tcp.SetLinger(0) // close with RST, not FIN
		}
		_ = conn.Close()
	})

	response, err := fake.provider().Complete(context.Background(), simpleRequest())

	if err == nil {
		t.Fatalf("Complete succeeded with %+v after a connection reset", response)
	}
	var providerErr *llm.ProviderError
	if errors.As(err, &providerErr) {
		t.Errorf("a connection reset came back as a provider error: %v", err)
	}
	if got := classify.Default().Classify(err); got.Class != klaxontype.ClassTransient || got.By != "network" {
		t.Errorf("engine classifier = %+v, want transient by network (error: %v)", got, err)
	}
	if n := fake.requests.Load(); n != 1 {
		t.Errorf("the server saw %d requests, want exactly 1 (the SDK must not retry)", n)
	}
}

// TestDeadlineIsTimeout lets the step's deadline pass while the model is
// still answering.
func TestDeadlineIsTimeout(t *testing.T) {
	t.Parallel()
	fake := newFakeAnthropic(t, func(w http.ResponseWriter, r *http.Request) {
		// The server notices the client hanging up only once the body is read.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()

	response, err := fake.provider().Complete(ctx, simpleRequest())

	if err == nil {
		t.Fatalf("Complete succeeded with %+v past its deadline", response)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v is not context.DeadlineExceeded", err)
	}
	if got := classify.Default().Classify(err); got.Class != klaxontype.ClassTimeout {
		t.Errorf("engine classifier = %+v, want timeout (error: %v)", got, err)
	}
	if n := fake.requests.Load(); n != 1 {
		t.Errorf("the server saw %d requests, want exactly 1 (the SDK must not retry)", n)
	}
}

// TestRefusalIsPolicyViolation: since the Claude 4 models, a refusal by
// Anthropic's safety classifiers is an HTTP 200 with stop_reason "refusal";
// the output tokens up to the refusal are billed.
func TestRefusalIsPolicyViolation(t *testing.T) {
	t.Parallel()
	fake := newFakeAnthropic(t, func(w http.ResponseWriter, r *http.Request) {
		writeMessage(w, `{
  "id": "msg_01Bq8QfVhA6kx3N6GgZ9wKx2",
  "type": "message",
  "role": "assistant",
  "model": "claude-sonnet-4-5-20250929",
  "content": [{"type": "text", "text": "I can help with"}],
  "stop_reason": "refusal",
  "stop_sequence": null,
  "stop_details": {"type": "refusal", "category": "cyber", "explanation": "This request was declined because it could enable cyber harm."},
  "usage": {"input_tokens": 31, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 4, "service_tier": "standard"}
}`)
	})

	response, err := fake.provider().Complete(context.Background(), simpleRequest())

	var providerErr *llm.ProviderError
	if !errors.As(err, &providerErr) {
		t.Fatalf("error %v (%T) is not a *llm.ProviderError", err, err)
	}
	if providerErr.Class != klaxontype.ClassPolicyViolation || providerErr.Status != http.StatusOK ||
		providerErr.Type != "refusal" || providerErr.Code != "cyber" ||
		providerErr.Message != "This request was declined because it could enable cyber harm." {
		t.Errorf("provider error = %+v", providerErr)
	}
	if got := classify.Default().Classify(err); got.Class != klaxontype.ClassPolicyViolation {
		t.Errorf("engine classifier = %+v, want policy_violation", got)
	}
	if response == nil {
		t.Fatal("no response: the refused call's usage is lost")
	}
	want := klaxontype.TokenUsage{InputTokens: 31, OutputTokens: 4}
	if response.Usage != want || response.FinishReason != "refusal" || response.Content != "I can help with" {
		t.Errorf("response = %+v, want usage %+v, finish reason refusal", response, want)
	}
	if n := fake.requests.Load(); n != 1 {
		t.Errorf("the server saw %d requests, want exactly 1", n)
	}
}

// TestUntranslatableRequestIsPermanent: a request the adapter cannot send is
// refused before any call, as a permanent error.
func TestUntranslatableRequestIsPermanent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		request *llm.Request
	}{
		{"unknown role", &llm.Request{Model: "claude-sonnet-4-5", Messages: []llm.Message{{Role: "system", Content: "Be brief."}}}},
		{"tool message without its call", &llm.Request{Model: "claude-sonnet-4-5", Messages: []llm.Message{{Role: llm.RoleTool, Content: "42"}}}},
		{"tool call arguments not JSON", &llm.Request{Model: "claude-sonnet-4-5", Messages: []llm.Message{
			{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "toolu_1", Name: "lookup", Arguments: []byte(`{"sku":`)}}},
		}}},
		{"tool schema not an object", &llm.Request{Model: "claude-sonnet-4-5", Messages: simpleRequest().Messages,
			Tools: []llm.Tool{{Name: "lookup", Parameters: []byte(`{"type":"string"}`)}}}},
		{"max_tokens too large without streaming", &llm.Request{Model: "claude-sonnet-4-5", Messages: simpleRequest().Messages, MaxTokens: 64000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := newFakeAnthropic(t, func(w http.ResponseWriter, r *http.Request) {
				writeAPIError(w, http.StatusInternalServerError, "api_error", "the request should not have been sent")
			})

			_, err := fake.provider().Complete(context.Background(), tt.request)

			var requestErr *RequestError
			if !errors.As(err, &requestErr) {
				t.Fatalf("error %v (%T) is not a *RequestError", err, err)
			}
			if got := classify.Default().Classify(err); got.Class != klaxontype.ClassPermanent {
				t.Errorf("engine classifier = %+v, want permanent", got)
			}
			if n := fake.requests.Load(); n != 0 {
				t.Errorf("the server saw %d requests, want none", n)
			}
		})
	}
}
