package llm

import "github.com/klaxonhq/klaxon/klaxontype"

// Response is what a provider answered, as the step log stores it.
type Response struct {
	Provider string `json:"provider"`
	// Model is the model that answered, as the provider named it.
	Model     string     `json:"model"`
	Content   string     `json:"content"`
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	// FinishReason is the provider's reason for stopping (stop, length,
	// tool_calls, content_filter, end_turn, …).
	FinishReason string                `json:"finish_reason"`
	Usage        klaxontype.TokenUsage `json:"usage"`
	// Cost is the call's price in US dollars, or unknown when the price table
	// does not list the model.
	Cost klaxontype.Cost `json:"cost"`
	// RequestHash identifies the request that produced the response.
	RequestHash string `json:"request_hash"`
}
