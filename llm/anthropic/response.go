package anthropic

import (
	"bytes"
	"strings"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/llm"
)

// translateResponse keeps what the step log stores of a message: its text
// blocks joined, its tool_use blocks as tool calls, the stop reason as the
// Messages API names it (end_turn, max_tokens, stop_sequence, tool_use,
// pause_turn, refusal, …), the model and the usage. Thinking and server-tool
// blocks are not kept. Cost and RequestHash are left for the caller.
func translateResponse(message *sdk.Message) *llm.Response {
	response := &llm.Response{
		Provider:     Name,
		Model:        message.Model,
		FinishReason: string(message.StopReason),
		Usage:        translateUsage(message.Usage),
	}
	var content strings.Builder
	for _, block := range message.Content {
		switch block.Type {
		case "text":
			content.WriteString(block.Text)
		case "tool_use":
			arguments := bytes.Clone([]byte(block.Input))
			if len(arguments) == 0 {
				arguments = []byte(`{}`)
			}
			response.ToolCalls = append(response.ToolCalls, llm.ToolCall{
				ID:        block.ID,
				Name:      block.Name,
				Arguments: arguments,
			})
		}
	}
	response.Content = content.String()
	return response
}

// translateUsage makes InputTokens mean what it means for OpenAI: every token
// of the prompt. Anthropic's input_tokens counts only the tokens after the
// last cache breakpoint, without those read from the cache
// (cache_read_input_tokens) or written to it (cache_creation_input_tokens);
// InputTokens is the sum of the three, and CachedTokens the cache reads
// within it.
func translateUsage(usage sdk.Usage) klaxontype.TokenUsage {
	return klaxontype.TokenUsage{
		InputTokens:  usage.InputTokens + usage.CacheReadInputTokens + usage.CacheCreationInputTokens,
		OutputTokens: usage.OutputTokens,
		CachedTokens: usage.CacheReadInputTokens,
	}
}
