package openai

import (
	"encoding/json"
	"net/http"
	"strings"

	sdk "github.com/openai/openai-go/v3"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/llm"
)

// finishContentFilter is the finish reason of output withheld by the
// provider's content filter.
const finishContentFilter = "content_filter"

// translateResponse turns the SDK's completion into a Response, from its first
// choice: Klaxon never asks for more than one.
func translateResponse(completion *sdk.ChatCompletion, request *llm.Request) (*llm.Response, error) {
	if completion == nil || len(completion.Choices) == 0 {
		// A compatible server that answers 200 with nothing has failed; the
		// same request may well succeed the next time.
		return nil, &llm.ProviderError{
			Provider: providerName,
			Status:   http.StatusOK,
			Message:  "the response has no choices",
			Class:    klaxontype.ClassTransient,
		}
	}
	choice := completion.Choices[0]
	response := &llm.Response{
		Provider:     providerName,
		Model:        completion.Model,
		Content:      choice.Message.Content,
		FinishReason: choice.FinishReason,
		Usage: klaxontype.TokenUsage{
			InputTokens:  completion.Usage.PromptTokens,
			OutputTokens: completion.Usage.CompletionTokens,
			CachedTokens: completion.Usage.PromptTokensDetails.CachedTokens,
		},
	}
	if response.Model == "" {
		response.Model = request.Model
	}
	for _, call := range choice.Message.ToolCalls {
		switch call.Type {
		case "custom":
			response.ToolCalls = append(response.ToolCalls, llm.ToolCall{
				ID:        call.ID,
				Name:      call.Custom.Name,
				Arguments: storedArguments(call.Custom.Input),
			})
		default: // "function", or missing on some compatible servers
			response.ToolCalls = append(response.ToolCalls, llm.ToolCall{
				ID:        call.ID,
				Name:      call.Function.Name,
				Arguments: storedArguments(call.Function.Arguments),
			})
		}
	}
	return response, nil
}

// storedArguments makes a tool call's arguments storable as JSON. The model
// writes them and does not always write valid JSON; such text is kept as a
// JSON string rather than lost or left to break the step log's encoding.
func storedArguments(arguments string) json.RawMessage {
	trimmed := strings.TrimSpace(arguments)
	if trimmed == "" {
		return json.RawMessage("{}")
	}
	if json.Valid([]byte(trimmed)) {
		return json.RawMessage(trimmed)
	}
	quoted, _ := json.Marshal(arguments)
	return quoted
}

// refusalError reports output the provider withheld (finish_reason
// content_filter) or the model refused to give (a refusal message) as a
// policy violation: asking again will meet the same policy.
func refusalError(completion *sdk.ChatCompletion) *llm.ProviderError {
	choice := completion.Choices[0]
	refusal := choice.Message.Refusal
	if choice.FinishReason != finishContentFilter && refusal == "" {
		return nil
	}
	code := finishContentFilter
	message := "the output was withheld by the provider's content filter"
	if refusal != "" {
		message = "the model refused: " + refusal
		if choice.FinishReason != finishContentFilter {
			code = "refusal"
		}
	}
	return &llm.ProviderError{
		Provider: providerName,
		Status:   http.StatusOK,
		Code:     code,
		Message:  message,
		Class:    klaxontype.ClassPolicyViolation,
	}
}
