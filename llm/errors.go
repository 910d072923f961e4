package llm

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// ProviderError is a provider's refusal, classified. It reports its class to
// the engine's classifier and, for a 429, the Retry-After it carried.
type ProviderError struct {
	Provider string
	// Status is the HTTP status, zero when there was none.
	Status int
	// Type and Code are the provider's error type and code, when it sent them.
	Type string
	Code string
	// Message is the provider's message.
	Message string
	Class   klaxontype.FailureClass
	// Wait is the provider's Retry-After.
	Wait time.Duration
	// Err is the SDK's error.
	Err error
}

func (e *ProviderError) Error() string {
	var detail []string
	if e.Status != 0 {
		detail = append(detail, fmt.Sprintf("HTTP %d", e.Status))
	}
	if e.Type != "" {
		detail = append(detail, e.Type)
	}
	if e.Code != "" && e.Code != e.Type {
		detail = append(detail, e.Code)
	}
	message := e.Message
	if e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden {
		message = "the credentials are wrong or lack access (check the API key): " + message
	}
	return fmt.Sprintf("%s: %s (%s)", e.Provider, message, strings.Join(detail, ", "))
}

// Unwrap returns the SDK's error.
func (e *ProviderError) Unwrap() error { return e.Err }

// FailureClass reports the class ClassifyHTTP gave the error.
func (e *ProviderError) FailureClass() klaxontype.FailureClass { return e.Class }

// RetryAfter is the delay the provider asked for.
func (e *ProviderError) RetryAfter() time.Duration { return e.Wait }

// ClassifyHTTP maps a provider's HTTP error to a failure class, by status and
// by the provider's error code and message, which is the only way some
// providers say that a prompt is too long or was refused by a filter.
func ClassifyHTTP(status int, code, message string) klaxontype.FailureClass {
	lowered := strings.ToLower(code + " " + message)
	switch {
	case status == http.StatusTooManyRequests:
		return klaxontype.ClassRateLimited
	case status == http.StatusRequestTimeout || status == http.StatusConflict || status >= 500:
		return klaxontype.ClassTransient // 529 overloaded_error included
	case containsAny(lowered, "context_length_exceeded", "prompt is too long", "maximum context length",
		"context window", "too many tokens", "string_above_max_length"):
		return klaxontype.ClassContextOverflow
	case containsAny(lowered, "content_filter", "content filtering", "content_policy", "content policy", "safety system", "responsibleaipolicyviolation"):
		return klaxontype.ClassPolicyViolation
	default:
		// 400, 401, 403, 404, 422 and anything else a retry will not change.
		return klaxontype.ClassPermanent
	}
}

func containsAny(s string, needles ...string) bool {
	for _, needle := range needles {
		if strings.Contains(s, needle) {
			return true
		}
	}
	return false
}

// ParseRetryAfter reads a Retry-After header: seconds, or an HTTP date.
func ParseRetryAfter(header string, now time.Time) time.Duration {
	header = strings.TrimSpace(header)
	if header == "" {
		return 0
	}
	var seconds float64
	if _, err := fmt.Sscanf(header, "%g", &seconds); err == nil && seconds >= 0 {
		return time.Duration(seconds * float64(time.Second))
	}
	if at, err := http.ParseTime(header); err == nil && at.After(now) {
		return at.Sub(now)
	}
	return 0
}

// isClassified reports whether an error carries its own failure class.
func isClassified(err error) bool {
	var classified klaxontype.Classified
	return errors.As(err, &classified)
}
