package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// FakeModelName is the model the fake server answers as: a name the default
// price table lists, so the demo's costs are priced as a real run's would be.
const FakeModelName = "gpt-4o-mini"

// contextWindowTokens is the fake model's context window.
const contextWindowTokens = 4096

// disallowedMarker makes the fake server's content filter refuse a prompt.
const disallowedMarker = "[disallowed content]"

// madeUpSKU is the fake model's confident wrong answer.
const madeUpSKU = "SKU-9999"

// fault is how the fake server answers one request.
type fault int

const (
	faultNone fault = iota
	faultError
	faultRateLimit
	faultSlow
	faultWrong
)

// FakeLLM is an OpenAI-compatible Chat Completions server on a loopback port.
// It answers the demo's prompts deterministically from the prompt and fails
// the way a real provider does: at random at the given rates (HTTP 500, 429
// with Retry-After, an answer that arrives after the step timed out, a
// made-up SKU), and on every try for a prompt longer than its context window
// (400 context_length_exceeded) or one its content filter refuses (400
// content_policy_violation). Offered tools, it never stops calling them: the
// runaway agent a budget has to stop.
type FakeLLM struct {
	listener net.Listener
	server   *http.Server
	rates    FailureRates
	latency  time.Duration
	slow     time.Duration
	requests atomic.Int64

	mu     sync.Mutex
	rand   *rand.Rand
	script []fault // faults to answer with before rolling, for tests
}

// StartFakeLLM starts a fake model server on 127.0.0.1 at a free port. A zero
// seed picks one at random. Close stops it.
func StartFakeLLM(rates FailureRates, seed uint64) (*FakeLLM, error) {
	if seed == 0 {
		seed = rand.Uint64()
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fake model server: %w", err)
	}
	fake := &FakeLLM{
		listener: listener, rates: rates, latency: 5 * time.Millisecond, slow: 2 * time.Second,
		rand: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
	fake.server = &http.Server{Handler: http.HandlerFunc(fake.serveHTTP), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = fake.server.Serve(listener) }()
	return fake, nil
}

// BaseURL is the server's URL with its version prefix, as OpenAI clients
// take it.
func (f *FakeLLM) BaseURL() string { return "http://" + f.listener.Addr().String() + "/v1" }

// Requests counts the requests the server received.
func (f *FakeLLM) Requests() int64 { return f.requests.Load() }

// Close stops the server and drops the requests it is answering.
func (f *FakeLLM) Close() error { return f.server.Close() }

// pick decides how to answer a request, and after what network delay.
func (f *FakeLLM) pick() (fault, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delay := time.Duration(f.rand.Int64N(int64(f.latency))) + f.latency
	if len(f.script) > 0 {
		next := f.script[0]
		f.script = f.script[1:]
		return next, delay
	}
	chance, r := f.rand.Float64(), f.rates
	switch {
	case chance < r.Error:
		return faultError, delay
	case chance < r.Error+r.RateLimit:
		return faultRateLimit, delay
	case chance < r.Error+r.RateLimit+r.Slow:
		return faultSlow, delay
	case chance < r.Error+r.RateLimit+r.Slow+r.Wrong:
		return faultWrong, delay
	}
	return faultNone, delay
}

// chatRequest is the part of a chat completion request the fake reads.
type chatRequest struct {
	Model    string        `json:"model"`
	Messages []chatMessage `json:"messages"`
	Tools    []struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	} `json:"tools"`
	// raw is the encoded request, to count the tools' tokens.
	raw []byte
}

type chatMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	ToolCalls  []chatToolCall  `json:"tool_calls,omitempty"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
}

type chatToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// text is a message's content: a string, or the text of its parts.
func (m chatMessage) text() string {
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return s
	}
	var parts []struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(m.Content, &parts)
	var b strings.Builder
	for _, part := range parts {
		b.WriteString(part.Text)
	}
	return b.String()
}

// apiError is the object under "error" in OpenAI's error responses.
type apiError struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func stringPointer(s string) *string { return &s }

func writeAPIError(w http.ResponseWriter, status int, body apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]apiError{"error": body})
}

func (f *FakeLLM) serveHTTP(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	w.Header().Set("X-Request-Id", fmt.Sprintf("req_%016x", f.requests.Load()))
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		writeAPIError(w, http.StatusNotFound, apiError{
			Message: fmt.Sprintf("Unknown request URL: %s %s. Please check the URL for typos.", r.Method, r.URL.Path),
			Type:    "invalid_request_error", Code: stringPointer("unknown_url"),
		})
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		writeAPIError(w, http.StatusUnauthorized, apiError{
			Message: "You didn't provide an API key.", Type: "invalid_request_error", Code: stringPointer("invalid_api_key"),
		})
		return
	}
	var request chatRequest
	body := http.MaxBytesReader(w, r.Body, 4<<20)
	decoder := json.NewDecoder(body)
	if err := decoder.Decode(&request); err != nil || len(request.Messages) == 0 {
		message := "'messages' is a required property"
		if err != nil {
			message = "We could not parse the JSON body of your request: " + err.Error()
		}
		writeAPIError(w, http.StatusBadRequest, apiError{Message: message, Type: "invalid_request_error"})
		return
	}
	request.raw, _ = json.Marshal(request.Tools)

	promptTokens := countPromptTokens(&request)
	if promptTokens > contextWindowTokens {
		writeAPIError(w, http.StatusBadRequest, apiError{
			Message: fmt.Sprintf("This model's maximum context length is %d tokens. However, your messages resulted in %d tokens. Please reduce the length of the messages.",
				contextWindowTokens, promptTokens),
			Type: "invalid_request_error", Param: stringPointer("messages"), Code: stringPointer("context_length_exceeded"),
		})
		return
	}
	for _, message := range request.Messages {
		if strings.Contains(message.text(), disallowedMarker) {
			writeAPIError(w, http.StatusBadRequest, apiError{
				Message: "Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.",
				Type:    "invalid_request_error", Code: stringPointer("content_policy_violation"),
			})
			return
		}
	}

	kind, delay := f.pick()
	switch kind {
	case faultError:
		if !sleep(r.Context(), delay/2) { // a 500 comes back fast
			return
		}
		writeAPIError(w, http.StatusInternalServerError, apiError{
			Message: "The server had an error while processing your request. Sorry about that!", Type: "server_error",
		})
		return
	case faultRateLimit:
		if !sleep(r.Context(), delay/2) {
			return
		}
		wait := 100*time.Millisecond + 20*delay // 0.2 to 0.3 s
		w.Header().Set("Retry-After", strconv.FormatFloat(wait.Seconds(), 'f', 3, 64))
		w.Header().Set("Retry-After-Ms", strconv.FormatInt(wait.Milliseconds(), 10))
		writeAPIError(w, http.StatusTooManyRequests, apiError{
			Message: fmt.Sprintf("Rate limit reached for %s on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in %dms.",
				FakeModelName, wait.Milliseconds()),
			Type: "requests", Code: stringPointer("rate_limit_exceeded"),
		})
		return
	case faultSlow:
		delay = f.slow // the client has given up long before
	}
	if !sleep(r.Context(), delay) {
		return
	}
	message := f.answer(&request, kind == faultWrong)
	writeCompletion(w, f.requests.Load(), message, promptTokens, cachedTokens(&request, promptTokens))
}

// sleep waits for d, or until the client has gone away; it reports whether
// the client is still there.
func sleep(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// answerMessage is the assistant message of a completion.
type answerMessage struct {
	Role        string         `json:"role"`
	Content     *string        `json:"content"`
	Refusal     *string        `json:"refusal"`
	ToolCalls   []chatToolCall `json:"tool_calls,omitempty"`
	Annotations []any          `json:"annotations"`
}

// answer is the fake model's reply. Offered tools, it always calls one more:
// there is always a next page of the catalogue to look at. Otherwise it picks
// one of the choices its instructions list ("one of: a, b, c."), by the
// prompt; a wrong answer is a made-up SKU.
func (f *FakeLLM) answer(request *chatRequest, wrong bool) answerMessage {
	message := answerMessage{Role: "assistant", Annotations: []any{}}
	if wrong {
		message.Content = stringPointer(madeUpSKU)
		return message
	}
	if len(request.Tools) > 0 {
		page := 1
		for _, m := range request.Messages {
			if m.Role == "tool" {
				page++
			}
		}
		call := chatToolCall{ID: fmt.Sprintf("call_%08x%04d", checksum(lastUserText(request)), page), Type: "function"}
		call.Function.Name = request.Tools[0].Function.Name
		call.Function.Arguments = fmt.Sprintf(`{"query":%q,"page":%d}`, truncate(lastUserText(request), 60), page)
		message.ToolCalls = []chatToolCall{call}
		return message
	}
	choices := listedChoices(request)
	content := "I cannot tell from the document."
	if len(choices) > 0 {
		content = choices[checksum(lastUserText(request))%len(choices)]
	}
	message.Content = &content
	return message
}

// listedChoices finds "one of: a, b, c." in the system message.
func listedChoices(request *chatRequest) []string {
	for _, m := range request.Messages {
		if m.Role != "system" && m.Role != "developer" {
			continue
		}
		_, list, found := strings.Cut(m.text(), "one of: ")
		if !found {
			continue
		}
		list, _, _ = strings.Cut(list, ".")
		var choices []string
		for _, choice := range strings.Split(list, ",") {
			if choice = strings.TrimSpace(choice); choice != "" {
				choices = append(choices, choice)
			}
		}
		return choices
	}
	return nil
}

func lastUserText(request *chatRequest) string {
	for i := len(request.Messages) - 1; i >= 0; i-- {
		if request.Messages[i].Role == "user" {
			return request.Messages[i].text()
		}
	}
	return ""
}

// countTokens estimates the tokens of English text: about four characters
// each.
func countTokens(text string) int64 { return int64(len(text)+3) / 4 }

// countPromptTokens estimates a request's prompt as OpenAI counts it: each
// message's text with a few tokens of framing, the tools' definitions, and
// the reply's priming.
func countPromptTokens(request *chatRequest) int64 {
	tokens := int64(3)
	for _, m := range request.Messages {
		tokens += 4 + countTokens(m.text())
		for _, call := range m.ToolCalls {
			tokens += 3 + countTokens(call.Function.Name+call.Function.Arguments)
		}
	}
	if len(request.Tools) > 0 {
		tokens += countTokens(string(request.raw))
	}
	return tokens
}

// cachedTokens is the part of a prompt served from the prompt cache: like
// OpenAI's, it applies to prompts of 1024 tokens or more, in steps of 128,
// and covers what an earlier turn of the same conversation already sent —
// every message before the last assistant turn.
func cachedTokens(request *chatRequest, promptTokens int64) int64 {
	if promptTokens < 1024 {
		return 0
	}
	last := len(request.Messages) - 1
	for last > 0 && request.Messages[last].Role != "assistant" {
		last--
	}
	if last <= 0 {
		return 0
	}
	prefix := &chatRequest{Messages: request.Messages[:last], Tools: request.Tools, raw: request.raw}
	return countPromptTokens(prefix) / 128 * 128
}

// completionBody is a chat.completion object as the API sends it.
type completionBody struct {
	ID                string           `json:"id"`
	Object            string           `json:"object"`
	Created           int64            `json:"created"`
	Model             string           `json:"model"`
	Choices           []completionPick `json:"choices"`
	Usage             completionUsage  `json:"usage"`
	ServiceTier       string           `json:"service_tier"`
	SystemFingerprint string           `json:"system_fingerprint"`
}

type completionPick struct {
	Index        int           `json:"index"`
	Message      answerMessage `json:"message"`
	Logprobs     *struct{}     `json:"logprobs"`
	FinishReason string        `json:"finish_reason"`
}

type completionUsage struct {
	PromptTokens        int64 `json:"prompt_tokens"`
	CompletionTokens    int64 `json:"completion_tokens"`
	TotalTokens         int64 `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int64 `json:"cached_tokens"`
		AudioTokens  int64 `json:"audio_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails struct {
		ReasoningTokens          int64 `json:"reasoning_tokens"`
		AudioTokens              int64 `json:"audio_tokens"`
		AcceptedPredictionTokens int64 `json:"accepted_prediction_tokens"`
		RejectedPredictionTokens int64 `json:"rejected_prediction_tokens"`
	} `json:"completion_tokens_details"`
}

func writeCompletion(w http.ResponseWriter, number int64, message answerMessage, promptTokens, cached int64) {
	finishReason := "stop"
	completionTokens := int64(1)
	if message.Content != nil {
		completionTokens = max(1, countTokens(*message.Content))
	}
	if len(message.ToolCalls) > 0 {
		finishReason = "tool_calls"
		for _, call := range message.ToolCalls {
			completionTokens += 3 + countTokens(call.Function.Name+call.Function.Arguments)
		}
	}
	usage := completionUsage{PromptTokens: promptTokens, CompletionTokens: completionTokens, TotalTokens: promptTokens + completionTokens}
	usage.PromptTokensDetails.CachedTokens = cached
	body := completionBody{
		ID:      fmt.Sprintf("chatcmpl-klaxondemo%012d", number),
		Object:  "chat.completion",
		Created: time.Now().Unix(),
		Model:   FakeModelName,
		Choices: []completionPick{{Message: message, FinishReason: finishReason}},
		Usage:   usage, ServiceTier: "default", SystemFingerprint: "fp_klaxondemo",
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body) // an error is a client that went away
}
