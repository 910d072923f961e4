package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"

	"github.com/klaxonhq/klaxon/internal/classify"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/llm"
)

// lookupSKUSchema has a number too large for a float64, which must reach the
// API exactly as written.
const lookupSKUSchema = `{"type":"object","properties":{"sku":{"type":"string","pattern":"^[A-Z]{3}-[0-9]{4}$"},"quantity":{"type":"integer","minimum":1,"maximum":9007199254740993}},"required":["sku","quantity"],"additionalProperties":false}`

func TestCompleteTranslatesRequestAndResponse(t *testing.T) {
	t.Parallel()
	temperature := 0.2
	request := &llm.Request{
		Model:  "gpt-4o-mini",
		System: "You are an order assistant. Use the tools.",
		Messages: []llm.Message{
			{Role: llm.RoleUser, Content: "Order 3 of ABC-1234 for customer 42."},
			{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{
				{ID: "call_lookup1", Name: "lookup_sku", Arguments: json.RawMessage(`{"sku":"ABC-1234","quantity":3}`)},
			}},
			{Role: llm.RoleTool, ToolCallID: "call_lookup1", Content: `{"in_stock":true,"price":12.5}`},
			{Role: llm.RoleAssistant, Content: "It is in stock; placing the order.", ToolCalls: []llm.ToolCall{
				{ID: "call_ping", Name: "ping"},
			}},
			{Role: llm.RoleTool, ToolCallID: "call_ping", Content: "pong"},
		},
		Tools: []llm.Tool{
			{Name: "lookup_sku", Description: "Looks up a SKU's stock and price.", Parameters: json.RawMessage(lookupSKUSchema)},
			{Name: "ping"},
		},
		MaxTokens:   256,
		Temperature: &temperature,
	}

	answer := completion("gpt-4o-mini-2024-07-18", wireMessage{
		Content: nil, // null, as the API sends it beside tool calls
		ToolCalls: []wireToolCall{
			{ID: "call_Vx2hN8", Type: "function", Function: wireFunction{Name: "place_order", Arguments: `{"sku": "ABC-1234", "quantity": 3, "customer": 42}`}},
			{ID: "call_Qm7pL1", Type: "function", Function: wireFunction{Name: "notify", Arguments: `{"channel":"email"}`}},
		},
	}, "tool_calls", 1234, 56, 1024)

	server := newFakeServer(t, func(t *testing.T, w http.ResponseWriter, _ *http.Request, got wireRequest) {
		if got.Model != "gpt-4o-mini" {
			t.Errorf("model %q, want gpt-4o-mini", got.Model)
		}
		if got.MaxCompletionTokens == nil || *got.MaxCompletionTokens != 256 {
			t.Errorf("max_completion_tokens %v, want 256", got.MaxCompletionTokens)
		}
		if _, sent := got.Raw["max_tokens"]; sent {
			t.Error("max_tokens was sent beside max_completion_tokens")
		}
		if got.Temperature == nil || *got.Temperature != 0.2 {
			t.Errorf("temperature %v, want 0.2", got.Temperature)
		}
		for _, field := range []string{"stream", "n"} {
			if _, sent := got.Raw[field]; sent {
				t.Errorf("%s was sent", field)
			}
		}

		content := func(s string) *string { return &s }
		wantMessages := []wireMessage{
			{Role: "system", Content: content("You are an order assistant. Use the tools.")},
			{Role: "user", Content: content("Order 3 of ABC-1234 for customer 42.")},
			{Role: "assistant", ToolCalls: []wireToolCall{
				{ID: "call_lookup1", Type: "function", Function: wireFunction{Name: "lookup_sku", Arguments: `{"sku":"ABC-1234","quantity":3}`}},
			}},
			{Role: "tool", ToolCallID: "call_lookup1", Content: content(`{"in_stock":true,"price":12.5}`)},
			{Role: "assistant", Content: content("It is in stock; placing the order."), ToolCalls: []wireToolCall{
				{ID: "call_ping", Type: "function", Function: wireFunction{Name: "ping", Arguments: `{}`}},
			}},
			{Role: "tool", ToolCallID: "call_ping", Content: content("pong")},
		}
		if !reflect.DeepEqual(got.Messages, wantMessages) {
			gotJSON, _ := json.MarshalIndent(got.Messages, "", "  ")
			wantJSON, _ := json.MarshalIndent(wantMessages, "", "  ")
			t.Errorf("messages:\n%s\nwant:\n%s", gotJSON, wantJSON)
		}

		if len(got.Tools) != 2 {
			t.Fatalf("%d tools, want 2: %+v", len(got.Tools), got.Tools)
		}
		lookup, ping := got.Tools[0], got.Tools[1]
		if lookup.Type != "function" || lookup.Function.Name != "lookup_sku" || lookup.Function.Description != "Looks up a SKU's stock and price." {
			t.Errorf("tool 0: %+v", lookup)
		}
		if !sameJSON(t, lookup.Function.Parameters, json.RawMessage(lookupSKUSchema)) {
			t.Errorf("tool 0 parameters %s, want %s", lookup.Function.Parameters, lookupSKUSchema)
		}
		if ping.Type != "function" || ping.Function.Name != "ping" || ping.Function.Description != "" || ping.Function.Parameters != nil {
			t.Errorf("tool 1: %+v, want a bare function named ping", ping)
		}

		writeCompletion(t, w, answer)
	})

	response, err := server.provider().Complete(t.Context(), request)
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if got := server.requests.Load(); got != 1 {
		t.Errorf("the server saw %d requests, want 1", got)
	}

	want := &llm.Response{
		Provider: "openai",
		Model:    "gpt-4o-mini-2024-07-18",
		Content:  "",
		ToolCalls: []llm.ToolCall{
			{ID: "call_Vx2hN8", Name: "place_order", Arguments: json.RawMessage(`{"sku": "ABC-1234", "quantity": 3, "customer": 42}`)},
			{ID: "call_Qm7pL1", Name: "notify", Arguments: json.RawMessage(`{"channel":"email"}`)},
		},
		FinishReason: "tool_calls",
		Usage:        klaxontype.TokenUsage{InputTokens: 1234, OutputTokens: 56, CachedTokens: 1024},
		// Cost and RequestHash are the caller's to fill.
	}
	if !reflect.DeepEqual(response, want) {
		t.Errorf("response:\n%+v\nwant:\n%+v", response, want)
	}
	// The response must be storable in the step log as it is.
	if _, err := json.Marshal(response); err != nil {
		t.Errorf("the response does not encode: %v", err)
	}
}

func TestCompleteTextAnswer(t *testing.T) {
	t.Parallel()
	server := newFakeServer(t, func(t *testing.T, w http.ResponseWriter, _ *http.Request, got wireRequest) {
		for _, field := range []string{"max_tokens", "max_completion_tokens", "temperature", "tools"} {
			if _, sent := got.Raw[field]; sent {
				t.Errorf("%s was sent, but the request left it unset", field)
			}
		}
		if len(got.Messages) != 1 || got.Messages[0].Role != "user" {
			t.Errorf("messages %+v, want one user message and no system message", got.Messages)
		}
		writeCompletion(t, w, completion("gpt-4o-mini-2024-07-18",
			wireMessage{Content: stringPointer("Invoice 42: 3 × ABC-1234, $37.50.")}, "stop", 20, 12, 0))
	})
	response, err := server.provider().Complete(t.Context(), testRequest())
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if response.Content != "Invoice 42: 3 × ABC-1234, $37.50." || response.FinishReason != "stop" || response.ToolCalls != nil {
		t.Errorf("response %+v", response)
	}
	if want := (klaxontype.TokenUsage{InputTokens: 20, OutputTokens: 12}); response.Usage != want {
		t.Errorf("usage %+v, want %+v", response.Usage, want)
	}
}

func TestCompleteLegacyMaxTokens(t *testing.T) {
	t.Parallel()
	server := newFakeServer(t, func(t *testing.T, w http.ResponseWriter, _ *http.Request, got wireRequest) {
		if got.MaxTokens == nil || *got.MaxTokens != 100 {
			t.Errorf("max_tokens %v, want 100", got.MaxTokens)
		}
		if _, sent := got.Raw["max_completion_tokens"]; sent {
			t.Error("max_completion_tokens was sent beside max_tokens")
		}
		writeCompletion(t, w, completion("llama3.1:8b", wireMessage{Content: stringPointer("ok")}, "stop", 5, 1, 0))
	})
	request := testRequest()
	request.MaxTokens = 100
	if _, err := server.provider(WithLegacyMaxTokens()).Complete(t.Context(), request); err != nil {
		t.Fatalf("Complete: %v", err)
	}
}

// TestCompleteKeepsInvalidToolArguments checks that arguments that are not
// valid JSON are kept, as a JSON string, and do not break the step log.
func TestCompleteKeepsInvalidToolArguments(t *testing.T) {
	t.Parallel()
	server := newFakeServer(t, respondCompletion(completion("gpt-4o-mini-2024-07-18", wireMessage{
		ToolCalls: []wireToolCall{
			{ID: "call_bad", Type: "function", Function: wireFunction{Name: "lookup_sku", Arguments: `{"sku": "ABC-12`}},
			{ID: "call_empty", Type: "function", Function: wireFunction{Name: "ping", Arguments: ``}},
		},
	}, "tool_calls", 10, 5, 0)))
	response, err := server.provider().Complete(t.Context(), testRequest())
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if len(response.ToolCalls) != 2 {
		t.Fatalf("tool calls %+v, want 2", response.ToolCalls)
	}
	if got, want := string(response.ToolCalls[0].Arguments), `"{\"sku\": \"ABC-12"`; got != want {
		t.Errorf("invalid arguments stored as %s, want %s", got, want)
	}
	if got := string(response.ToolCalls[1].Arguments); got != `{}` {
		t.Errorf("empty arguments stored as %s, want {}", got)
	}
	if _, err := json.Marshal(response); err != nil {
		t.Errorf("the response does not encode: %v", err)
	}
}

// TestCompleteRejectsUntranslatableRequests checks that a request the API
// cannot be given fails permanently before anything is sent.
func TestCompleteRejectsUntranslatableRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(*llm.Request)
	}{
		{"no model", func(r *llm.Request) { r.Model = "" }},
		{"unknown role", func(r *llm.Request) { r.Messages = append(r.Messages, llm.Message{Role: "system", Content: "x"}) }},
		{"tool message without its call", func(r *llm.Request) { r.Messages = append(r.Messages, llm.Message{Role: llm.RoleTool, Content: "x"}) }},
		{"parameters not an object", func(r *llm.Request) {
			r.Tools = []llm.Tool{{Name: "lookup_sku", Parameters: json.RawMessage(`["sku"]`)}}
		}},
		{"tool without a name", func(r *llm.Request) { r.Tools = []llm.Tool{{Description: "nameless"}} }},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()
			server := newFakeServer(t, respondCompletion(completion("gpt-4o-mini", wireMessage{Content: stringPointer("ok")}, "stop", 1, 1, 0)))
			request := testRequest()
			test.modify(request)
			_, err := server.provider().Complete(t.Context(), request)
			if err == nil {
				t.Fatal("Complete returned no error")
			}
			if got := classify.Default().Classify(err); got.Class != klaxontype.ClassPermanent {
				t.Errorf("classified %s, want permanent; error: %v", got.Class, err)
			}
			var providerErr *llm.ProviderError
			if errors.As(err, &providerErr) {
				t.Errorf("error %v is a provider error, but nothing was sent", err)
			}
			if got := server.requests.Load(); got != 0 {
				t.Errorf("the server saw %d requests, want none", got)
			}
		})
	}
}

func TestName(t *testing.T) {
	t.Parallel()
	if got := New().Name(); got != "openai" {
		t.Errorf("Name() = %q, want openai", got)
	}
}

// sameJSON reports whether two JSON documents are equal, numbers compared as
// written.
func sameJSON(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()
	decode := func(data json.RawMessage) any {
		decoder := json.NewDecoder(bytes.NewReader(data))
		decoder.UseNumber()
		var value any
		if err := decoder.Decode(&value); err != nil {
			t.Errorf("decode %s: %v", data, err)
		}
		return value
	}
	return reflect.DeepEqual(decode(a), decode(b))
}
