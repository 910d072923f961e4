package anthropic

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/llm"
)

// TestCompleteTranslatesRequestAndResponse sends a conversation with a system
// prompt, parallel tool calls and their results, and tools, and checks the
// exact body the API received and the response it makes of a message with
// text, tool_use blocks and cached tokens.
func TestCompleteTranslatesRequestAndResponse(t *testing.T) {
	t.Parallel()
	temperature := 0.2
	request := &llm.Request{
		Model:  "claude-sonnet-4-5",
		System: "You are an inventory assistant.",
		Messages: []llm.Message{
			{Role: llm.RoleUser, Content: "Are SKU A-1 and B-2 in stock?"},
			{Role: llm.RoleAssistant, Content: "Let me look both up.", ToolCalls: []llm.ToolCall{
				{ID: "toolu_01A", Name: "lookup_sku", Arguments: json.RawMessage(`{"sku":"A-1"}`)},
				{ID: "toolu_01B", Name: "lookup_sku", Arguments: json.RawMessage(`{"sku":"B-2"}`)},
			}},
			{Role: llm.RoleTool, ToolCallID: "toolu_01A", Content: `{"in_stock":3}`},
			{Role: llm.RoleTool, ToolCallID: "toolu_01B", Content: `{"in_stock":0}`},
			{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{
				{ID: "toolu_01C", Name: "restock_date"}, // no arguments
			}},
			{Role: llm.RoleTool, ToolCallID: "toolu_01C"}, // no content
			{Role: llm.RoleUser, Content: "And C-3?"},
		},
		Tools: []llm.Tool{
			{
				Name:        "lookup_sku",
				Description: "Look up the stock of a SKU.",
				Parameters: json.RawMessage(`{"type":"object","properties":{"sku":{"type":"string","pattern":"^[A-Z]-[0-9]+$"}},` +
					`"required":["sku"],"additionalProperties":false}`),
			},
			{Name: "restock_date"},
		},
		MaxTokens:   512,
		Temperature: &temperature,
	}
	wantBody := `{
  "model": "claude-sonnet-4-5",
  "max_tokens": 512,
  "temperature": 0.2,
  "system": [{"type": "text", "text": "You are an inventory assistant."}],
  "messages": [
    {"role": "user", "content": [{"type": "text", "text": "Are SKU A-1 and B-2 in stock?"}]},
    {"role": "assistant", "content": [
      {"type": "text", "text": "Let me look both up."},
      {"type": "tool_use", "id": "toolu_01A", "name": "lookup_sku", "input": {"sku": "A-1"}},
      {"type": "tool_use", "id": "toolu_01B", "name": "lookup_sku", "input": {"sku": "B-2"}}
    ]},
    {"role": "user", "content": [
      {"type": "tool_result", "tool_use_id": "toolu_01A", "content": [{"type": "text", "text": "{\"in_stock\":3}"}]},
      {"type": "tool_result", "tool_use_id": "toolu_01B", "content": [{"type": "text", "text": "{\"in_stock\":0}"}]}
    ]},
    {"role": "assistant", "content": [
      {"type": "tool_use", "id": "toolu_01C", "name": "restock_date", "input": {}}
    ]},
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01C"}]},
    {"role": "user", "content": [{"type": "text", "text": "And C-3?"}]}
  ],
  "tools": [
    {"name": "lookup_sku", "description": "Look up the stock of a SKU.", "input_schema": {
      "type": "object",
      "properties": {"sku": {"type": "string", "pattern": "^[A-Z]-[0-9]+$"}},
      "required": ["sku"],
      "additionalProperties": false
    }},
    {"name": "restock_date", "input_schema": {"type": "object"}}
  ]
}`
	fake := newFakeAnthropic(t, func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization") + r.Header.Get("X-Api-Key"); !strings.Contains(got, "sk-ant-test-key") {
			t.Errorf("credentials sent = %q, want the API key", got)
		}
		if r.Header.Get("Anthropic-Version") == "" {
			t.Error("no anthropic-version header")
		}
		if got := r.Header.Get("Content-Type"); got != "application/json" {
			t.Errorf("content type = %q", got)
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read body: %v", err)
		}
		assertSameJSON(t, body, []byte(wantBody))
		writeMessage(w, `{
  "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
  "type": "message",
  "role": "assistant",
  "model": "claude-sonnet-4-5-20250929",
  "content": [
    {"type": "text", "text": "C-3 needs a lookup too."},
    {"type": "tool_use", "id": "toolu_01D", "name": "lookup_sku", "input": {"sku": "C-3"}},
    {"type": "text", "text": " One moment."},
    {"type": "tool_use", "id": "toolu_01E", "name": "restock_date", "input": {}}
  ],
  "stop_reason": "tool_use",
  "stop_sequence": null,
  "usage": {
    "input_tokens": 120,
    "cache_creation_input_tokens": 30,
    "cache_read_input_tokens": 2000,
    "cache_creation": {"ephemeral_5m_input_tokens": 30, "ephemeral_1h_input_tokens": 0},
    "output_tokens": 45,
    "service_tier": "standard"
  }
}`)
	})

	response, err := fake.provider().Complete(context.Background(), request)
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}

	want := &llm.Response{
		Provider: "anthropic",
		Model:    "claude-sonnet-4-5-20250929",
		Content:  "C-3 needs a lookup too. One moment.",
		ToolCalls: []llm.ToolCall{
			{ID: "toolu_01D", Name: "lookup_sku", Arguments: json.RawMessage(`{"sku": "C-3"}`)},
			{ID: "toolu_01E", Name: "restock_date", Arguments: json.RawMessage(`{}`)},
		},
		FinishReason: "tool_use",
		// Anthropic's input_tokens leaves out cache reads and writes;
		// InputTokens is the whole prompt, as for OpenAI.
		Usage: klaxontype.TokenUsage{InputTokens: 120 + 30 + 2000, OutputTokens: 45, CachedTokens: 2000},
	}
	if !reflect.DeepEqual(response, want) {
		got, _ := json.MarshalIndent(response, "", "  ")
		wanted, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("response =\n%s\nwant\n%s", got, wanted)
	}
	if n := fake.requests.Load(); n != 1 {
		t.Errorf("the server saw %d requests, want 1", n)
	}
}

// TestCompleteDefaultsMaxTokens: the Messages API requires max_tokens, so a
// request without it gets the default, and no temperature is sent unless
// asked for.
func TestCompleteDefaultsMaxTokens(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		options []Option
		want    float64
	}{
		{"package default", nil, DefaultMaxTokens},
		{"configured default", []Option{WithDefaultMaxTokens(256)}, 256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := newFakeAnthropic(t, func(w http.ResponseWriter, r *http.Request) {
				var body map[string]any
				if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
					t.Errorf("decode body: %v", err)
				}
				if body["max_tokens"] != tt.want {
					t.Errorf("max_tokens = %v, want %v", body["max_tokens"], tt.want)
				}
				for _, absent := range []string{"temperature", "system", "tools"} {
					if value, ok := body[absent]; ok {
						t.Errorf("%s = %v, want it left out", absent, value)
					}
				}
				writeMessage(w, `{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",`+
					`"content":[{"type":"text","text":"Paid."}],"stop_reason":"end_turn","stop_sequence":null,`+
					`"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":2}}`)
			})

			response, err := fake.provider(tt.options...).Complete(context.Background(), simpleRequest())
			if err != nil {
				t.Fatalf("Complete: %v", err)
			}
			want := klaxontype.TokenUsage{InputTokens: 12, OutputTokens: 2}
			if response.Content != "Paid." || response.FinishReason != "end_turn" || response.Usage != want {
				t.Errorf("response = %+v", response)
			}
		})
	}
}

// TestRequestTimeoutLiftsTheStreamingGuard: with a request timeout of its
// own, a large max_tokens is sent rather than refused by the SDK.
func TestRequestTimeoutLiftsTheStreamingGuard(t *testing.T) {
	t.Parallel()
	fake := newFakeAnthropic(t, func(w http.ResponseWriter, r *http.Request) {
		writeMessage(w, `{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",`+
			`"content":[{"type":"text","text":"Done."}],"stop_reason":"end_turn","stop_sequence":null,`+
			`"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":2}}`)
	})
	request := simpleRequest()
	request.MaxTokens = 64000

	_, err := fake.provider(WithRequestTimeout(30*time.Minute)).Complete(context.Background(), request)
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if n := fake.requests.Load(); n != 1 {
		t.Errorf("the server saw %d requests, want 1", n)
	}
}

func TestName(t *testing.T) {
	t.Parallel()
	if got := New(WithAPIKey("k")).Name(); got != "anthropic" {
		t.Errorf("Name() = %q", got)
	}
}

func assertSameJSON(t *testing.T, got, want []byte) {
	t.Helper()
	var gotValue, wantValue any
	if err := json.Unmarshal(got, &gotValue); err != nil {
		t.Errorf("body is not JSON: %v\n%s", err, got)
		return
	}
	if err := json.Unmarshal(want, &wantValue); err != nil {
		t.Fatalf("expected body is not JSON: %v", err)
	}
	if !reflect.DeepEqual(gotValue, wantValue) {
		pretty, _ := json.MarshalIndent(gotValue, "", "  ")
		t.Errorf("request body =\n%s\nwant\n%s", pretty, want)
	}
}
