package anthropic

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/llm"
)

// providerError classifies an error response of the Messages API, whose body
// is {"type":"error","error":{"type":…,"message":…}}. The error type says
// little on its own: a prompt that is too long and a refusal by the content
// filter are both an invalid_request_error, told apart only by the message.
func providerError(apiErr *sdk.Error) *llm.ProviderError {
	errorType := string(apiErr.Type())
	code := string(apiErr.ErrorCode())
	message := apiErr.Message
	if message == "" {
		// Not the API's JSON: a proxy's page, or an empty body.
		message = strings.TrimSpace(apiErr.RawJSON())
		if len(message) > 200 {
			message = message[:200] + "…"
		}
		if message == "" {
			message = http.StatusText(apiErr.StatusCode)
		}
	}
	var header http.Header
	if apiErr.Response != nil {
		header = apiErr.Response.Header
	}
	return &llm.ProviderError{
		Provider: Name,
		Status:   apiErr.StatusCode,
		Type:     errorType,
		Code:     code,
		Message:  message,
		Class:    classifyHTTP(apiErr.StatusCode, strings.TrimSpace(errorType+" "+code), message),
		Wait:     retryAfter(header, time.Now()),
		Err:      apiErr,
	}
}

// classifyHTTP is llm.ClassifyHTTP, plus the wording Anthropic uses when its
// content filter blocks an answer: a 400 invalid_request_error saying "Output
// blocked by content filtering policy".
func classifyHTTP(status int, code, message string) klaxontype.FailureClass {
	class := llm.ClassifyHTTP(status, code, message)
	if class == klaxontype.ClassPermanent && status == http.StatusBadRequest &&
		strings.Contains(strings.ToLower(message), "content filtering") {
		return klaxontype.ClassPolicyViolation
	}
	return class
}

// retryAfter reads the delay the API asked for: retry-after-ms when a gateway
// sends it, otherwise retry-after (seconds, or an HTTP date).
func retryAfter(header http.Header, now time.Time) time.Duration {
	if header == nil {
		return 0
	}
	if milliseconds, err := strconv.ParseFloat(strings.TrimSpace(header.Get("Retry-After-Ms")), 64); err == nil && milliseconds >= 0 {
		return time.Duration(milliseconds * float64(time.Millisecond))
	}
	return llm.ParseRetryAfter(header.Get("Retry-After"), now)
}

// refusalError reports a message the model refused to finish (stop_reason
// "refusal", sent with HTTP 200 when Anthropic's classifiers stop an answer),
// as a policy violation. Category and explanation come from stop_details
// when the API sent them.
func refusalError(message *sdk.Message) *llm.ProviderError {
	explanation := message.StopDetails.Explanation
	if explanation == "" {
		explanation = "the model refused to answer (stop_reason refusal)"
	}
	return &llm.ProviderError{
		Provider: Name,
		Status:   http.StatusOK,
		Type:     string(sdk.StopReasonRefusal),
		Code:     string(message.StopDetails.Category),
		Message:  explanation,
		Class:    klaxontype.ClassPolicyViolation,
	}
}
