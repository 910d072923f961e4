package llm

import "github.com/klaxonhq/klaxon/klaxontype"

// Response is what a provider answered, as the step log stores it. Only
// Content is needed when a person writes one to resolve a dead-letter entry;
// the other fields are optional for that reason.
type Response struct {
	Provider string `json:"provider,omitempty"`
	// Model is the model that answered, as the provider named it.
	Model     string     `json:"model,omitempty"`
	Content   string     `json:"content"`
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	// FinishReason is the provider's reason for stopping (stop, length,
	// tool_calls, content_filter, end_turn, …).
	FinishReason string                `json:"finish_reason,omitempty"`
	Usage        klaxontype.TokenUsage `json:"usage,omitempty"`
	// Cost is the call's price in US dollars, or unknown when the price table
	// does not list the model.
	Cost klaxontype.Cost `json:"cost,omitempty"`
	// RequestHash identifies the request that produced the response.
	RequestHash string `json:"request_hash,omitempty"`
}
