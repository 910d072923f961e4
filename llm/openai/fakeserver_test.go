package openai

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// testAPIKey is the key the fake server expects in every request.
const testAPIKey = "sk-test-klaxon"

// fakeServer speaks OpenAI's Chat Completions wire format on
// /v1/chat/completions. It counts the requests it receives, so a test can
// prove that the SDK's own retries are off, and hands each decoded request to
// the test's handler.
type fakeServer struct {
	*httptest.Server
	requests atomic.Int64
}

// fakeHandler answers one decoded chat completion request.
type fakeHandler func(t *testing.T, w http.ResponseWriter, r *http.Request, request wireRequest)

func newFakeServer(t *testing.T, handle fakeHandler) *fakeServer {
	t.Helper()
	server := &fakeServer{}
	server.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		server.requests.Add(1)
		if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
			t.Errorf("fake server: got %s %s, want POST /v1/chat/completions", r.Method, r.URL.Path)
			writeError(w, http.StatusNotFound, nil, wireErrorBody{Message: "Unknown request URL", Type: "invalid_request_error"})
			return
		}
		if got, want := r.Header.Get("Authorization"), "Bearer "+testAPIKey; got != want {
			t.Errorf("fake server: Authorization %q, want %q", got, want)
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("fake server: read body: %v", err)
			return
		}
		var request wireRequest
		if err := json.Unmarshal(body, &request); err != nil {
			t.Errorf("fake server: decode body %s: %v", body, err)
			return
		}
		if err := json.Unmarshal(body, &request.Raw); err != nil {
			t.Errorf("fake server: decode body %s: %v", body, err)
			return
		}
		handle(t, w, r, request)
	}))
	t.Cleanup(server.Close)
	return server
}

// provider returns a Provider pointed at the fake server.
func (s *fakeServer) provider(options ...Option) *Provider {
	return New(append([]Option{
		WithAPIKey(testAPIKey),
		WithBaseURL(s.URL + "/v1"),
		WithHTTPClient(s.Client()),
	}, options...)...)
}

// wireRequest is a chat completion request body as the API receives it.
type wireRequest struct {
	Model               string        `json:"model"`
	Messages            []wireMessage `json:"messages"`
	Tools               []wireTool    `json:"tools"`
	MaxCompletionTokens *int64        `json:"max_completion_tokens"`
	MaxTokens           *int64        `json:"max_tokens"`
	Temperature         *float64      `json:"temperature"`
	// Raw is every field of the body, to check what was not sent.
	Raw map[string]json.RawMessage `json:"-"`
}

type wireMessage struct {
	Role       string         `json:"role"`
	Content    *string        `json:"content"`
	ToolCalls  []wireToolCall `json:"tool_calls,omitempty"`
	ToolCallID string         `json:"tool_call_id,omitempty"`
	Refusal    *string        `json:"refusal"`
}

type wireToolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function wireFunction `json:"function"`
}

type wireFunction struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

type wireTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

// wireCompletion is a chat.completion object as the API sends it.
type wireCompletion struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	Choices           []wireChoice `json:"choices"`
	Usage             wireUsage    `json:"usage"`
	ServiceTier       string       `json:"service_tier"`
	SystemFingerprint string       `json:"system_fingerprint"`
}

type wireChoice struct {
	Index        int             `json:"index"`
	Message      wireMessage     `json:"message"`
	Logprobs     json.RawMessage `json:"logprobs"`
	FinishReason string          `json:"finish_reason"`
}

type wireUsage struct {
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

// completion is a completion of one assistant message, as the API would send
// it for model.
func completion(model string, message wireMessage, finishReason string, input, output, cached int64) wireCompletion {
	message.Role = "assistant"
	usage := wireUsage{PromptTokens: input, CompletionTokens: output, TotalTokens: input + output}
	usage.PromptTokensDetails.CachedTokens = cached
	return wireCompletion{
		ID:                "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
		Object:            "chat.completion",
		Created:           1741569952,
		Model:             model,
		Choices:           []wireChoice{{Index: 0, Message: message, Logprobs: json.RawMessage("null"), FinishReason: finishReason}},
		Usage:             usage,
		ServiceTier:       "default",
		SystemFingerprint: "fp_44709d6fcb",
	}
}

func writeCompletion(t *testing.T, w http.ResponseWriter, body wireCompletion) {
	t.Helper()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", "req_7c1d3b0b6e8f4a2c9d5e")
	if err := json.NewEncoder(w).Encode(body); err != nil {
		t.Errorf("fake server: encode completion: %v", err)
	}
}

// wireErrorBody is the object under "error" in the API's error responses.
// Param and Code are null when unset, as the API sends them.
type wireErrorBody struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func stringPointer(s string) *string { return &s }

// writeError writes an error response: {"error": {...}} with the headers given.
func writeError(w http.ResponseWriter, status int, header http.Header, body wireErrorBody) {
	for name, values := range header {
		for _, value := range values {
			w.Header().Add(name, value)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]wireErrorBody{"error": body})
}

// respondError is a handler that answers every request with an error.
func respondError(status int, header http.Header, body wireErrorBody) fakeHandler {
	return func(_ *testing.T, w http.ResponseWriter, _ *http.Request, _ wireRequest) {
		writeError(w, status, header, body)
	}
}

// respondRaw is a handler that answers with a body that is not OpenAI's error
// object, as a proxy or another compatible server does.
func respondRaw(status int, contentType, body string) fakeHandler {
	return func(_ *testing.T, w http.ResponseWriter, _ *http.Request, _ wireRequest) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// respondCompletion is a handler that answers with a completion.
func respondCompletion(body wireCompletion) fakeHandler {
	return func(t *testing.T, w http.ResponseWriter, _ *http.Request, _ wireRequest) {
		writeCompletion(t, w, body)
	}
}

// resetConnection is a handler that drops the connection with a TCP reset
// instead of answering.
func resetConnection(t *testing.T, w http.ResponseWriter, _ *http.Request, _ wireRequest) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Errorf("fake server: hijack: %v", err)
		return
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0) // close sends RST, not FIN
	}
	_ = conn.Close()
}

// stall is a handler that answers only after the client has gone away, or
// after a long while.
func stall(_ *testing.T, w http.ResponseWriter, r *http.Request, _ wireRequest) {
	select {
	case <-r.Context().Done():
	case <-time.After(30 * time.Second):
		w.WriteHeader(http.StatusGatewayTimeout)
	}
}
