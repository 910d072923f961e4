package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	sdk "github.com/openai/openai-go/v3"

	"github.com/klaxonhq/klaxon/llm"
)

// maxErrorBody bounds how much of an error body is read for its message.
const maxErrorBody = 64 << 10

// translateError turns what the SDK returned into the error Complete returns:
// an HTTP error response becomes a classified *llm.ProviderError; a transport
// or context error is wrapped unchanged, so that errors.Is and errors.As still
// find the deadline or the connection reset in it.
func translateError(err error) error {
	var apiErr *sdk.Error
	if !errors.As(err, &apiErr) {
		return fmt.Errorf("%s: chat completion: %w", providerName, err)
	}
	details := errorDetails{Message: apiErr.Message, Type: apiErr.Type, Code: apiErr.Code}
	if details.Message == "" {
		// Not OpenAI's error object: a proxy's page, or a compatible server
		// with its own error shape. The status still decides the class.
		details = details.or(readErrorBody(apiErr.Response))
	}
	if details.Code == strconv.Itoa(apiErr.StatusCode) {
		details.Code = "" // some servers repeat the status as the code
	}
	return providerError(apiErr.StatusCode, details, responseHeader(apiErr.Response), err)
}

func providerError(status int, details errorDetails, header http.Header, err error) *llm.ProviderError {
	if details.Message == "" {
		details.Message = http.StatusText(status)
	}
	// Either may name the condition; the code is the more specific.
	code := details.Code
	if code == "" {
		code = details.Type
	}
	return &llm.ProviderError{
		Provider: providerName,
		Status:   status,
		Type:     details.Type,
		Code:     details.Code,
		Message:  details.Message,
		Class:    llm.ClassifyHTTP(status, code, details.Message),
		Wait:     retryAfter(header, time.Now()),
		Err:      err,
	}
}

func responseHeader(response *http.Response) http.Header {
	if response == nil {
		return nil
	}
	return response.Header
}

// retryAfter is the delay the provider asked for. OpenAI sends retry-after-ms
// beside Retry-After; the milliseconds are the more precise of the two.
func retryAfter(header http.Header, now time.Time) time.Duration {
	if header == nil {
		return 0
	}
	if milliseconds, err := strconv.ParseFloat(strings.TrimSpace(header.Get("Retry-After-Ms")), 64); err == nil &&
		milliseconds > 0 && milliseconds < float64(24*time.Hour/time.Millisecond) {
		return time.Duration(milliseconds * float64(time.Millisecond))
	}
	return llm.ParseRetryAfter(header.Get("Retry-After"), now)
}

// errorDetails is what an error body says about the error.
type errorDetails struct {
	Message string
	Type    string
	Code    string
}

// or fills the fields d lacks from other.
func (d errorDetails) or(other errorDetails) errorDetails {
	if d.Message == "" {
		d.Message = other.Message
	}
	if d.Type == "" {
		d.Type = other.Type
	}
	if d.Code == "" {
		d.Code = other.Code
	}
	return d
}

// wireError is an error object as OpenAI-compatible servers write it: under
// "error" (OpenAI), or at the top level (older vLLM). Some write the code as a
// number, which is then the HTTP status again and says nothing more.
type wireError struct {
	Message string          `json:"message"`
	Type    string          `json:"type"`
	Code    json.RawMessage `json:"code"`
}

func (w wireError) details() errorDetails {
	details := errorDetails{Message: w.Message, Type: w.Type}
	_ = json.Unmarshal(w.Code, &details.Code) // a string, or ignored
	return details
}

// readErrorBody reads the details of an error body that the SDK could not
// read as OpenAI's error object. A body that is not JSON is its own message.
func readErrorBody(response *http.Response) errorDetails {
	if response == nil || response.Body == nil {
		return errorDetails{}
	}
	body, _ := io.ReadAll(io.LimitReader(response.Body, maxErrorBody))
	// Put the body back for anyone dumping the error for debugging.
	response.Body = io.NopCloser(bytes.NewReader(body))
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return errorDetails{}
	}

	var envelope struct {
		wireError
		Error  json.RawMessage `json:"error"`
		Detail json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal(body, &envelope); err != nil {
		return errorDetails{Message: snippet(body)}
	}
	var nested wireError
	if json.Unmarshal(envelope.Error, &nested) == nil && nested.Message != "" {
		return nested.details()
	}
	var text string
	if json.Unmarshal(envelope.Error, &text) == nil && text != "" {
		return errorDetails{Message: text}
	}
	if envelope.Message != "" {
		return envelope.details()
	}
	if json.Unmarshal(envelope.Detail, &text) == nil && text != "" {
		return errorDetails{Message: text}
	}
	return errorDetails{Message: snippet(body)}
}

// snippet is the start of a body, on one line.
func snippet(body []byte) string {
	const limit = 512
	text := strings.Join(strings.Fields(string(body)), " ")
	if len(text) > limit {
		text = strings.ToValidUTF8(text[:limit], "") + "…"
	}
	return text
}
