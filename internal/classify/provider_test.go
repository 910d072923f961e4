package classify_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/internal/classify"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/llm"
)

// providerError is a refusal as the llm adapters return it: the class comes
// from llm.ClassifyHTTP, by status, error code and message.
func providerError(status int, code, message string, wait time.Duration) error {
	return &llm.ProviderError{
		Provider: "openai", Status: status, Type: "invalid_request_error", Code: code, Message: message,
		Class: llm.ClassifyHTTP(status, code, message), Wait: wait,
		Err: fmt.Errorf("POST \"https://api.openai.com/v1/chat/completions\": %d", status),
	}
}

// A provider's refusal, in a step, is classified by the class the adapter gave
// it: the classifier takes the provider's word, and the Retry-After of a 429
// is still there for the engine's backoff.
func TestProviderErrorsKeepTheirClass(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		err       error
		wantClass klaxontype.FailureClass
		wantWait  time.Duration
	}{
		{"429 with Retry-After", providerError(http.StatusTooManyRequests, "rate_limit_exceeded", "Rate limit reached", 2*time.Second), klaxontype.ClassRateLimited, 2 * time.Second},
		{"429 without Retry-After", providerError(http.StatusTooManyRequests, "", "Too many requests", 0), klaxontype.ClassRateLimited, 0},
		{"500", providerError(http.StatusInternalServerError, "server_error", "The server had an error", 0), klaxontype.ClassTransient, 0},
		{"529 overloaded", providerError(529, "overloaded_error", "Overloaded", 0), klaxontype.ClassTransient, 0},
		{"408", providerError(http.StatusRequestTimeout, "", "Request timed out", 0), klaxontype.ClassTransient, 0},
		{"prompt too long", providerError(http.StatusBadRequest, "context_length_exceeded", "This model's maximum context length is 128000 tokens", 0), klaxontype.ClassContextOverflow, 0},
		{"content filter", providerError(http.StatusBadRequest, "content_filter", "The response was filtered", 0), klaxontype.ClassPolicyViolation, 0},
		{"bad key", providerError(http.StatusUnauthorized, "invalid_api_key", "Incorrect API key provided", 0), klaxontype.ClassPermanent, 0},
		{"unknown model", providerError(http.StatusNotFound, "model_not_found", "The model does not exist", 0), klaxontype.ClassPermanent, 0},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()
			err := &klaxontype.StepError{Name: "classify", Seq: 1, Err: fmt.Errorf("llm call: %w", test.err)}
			got := classify.Default().Classify(err)
			if got.Class != test.wantClass || got.By != "error" {
				t.Errorf("Classify(%v) = %s by %q, want %s by \"error\"", err, got.Class, got.By, test.wantClass)
			}
			var wait klaxontype.RetryAfterError
			if !errors.As(err, &wait) || wait.RetryAfter() != test.wantWait {
				t.Errorf("Retry-After through the wraps = %v, want %v", wait, test.wantWait)
			}
		})
	}
}
