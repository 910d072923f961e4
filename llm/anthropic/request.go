package anthropic

import (
	"encoding/json"
	"fmt"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/llm"
)

// RequestError is a request this adapter cannot translate into a Messages API
// call (a role it does not know, tool arguments that are not JSON, …). It is
// permanent: sending the same request again fails the same way.
type RequestError struct {
	Reason string
}

func (e *RequestError) Error() string { return Name + ": invalid request: " + e.Reason }

// FailureClass reports permanent.
func (e *RequestError) FailureClass() klaxontype.FailureClass { return klaxontype.ClassPermanent }

func invalid(format string, args ...any) *RequestError {
	return &RequestError{Reason: fmt.Sprintf(format, args...)}
}

// translateRequest builds the Messages API parameters for request, and the
// per-request options for what the SDK's parameters do not model.
func (p *Provider) translateRequest(request *llm.Request) (sdk.MessageNewParams, []option.RequestOption, error) {
	var params sdk.MessageNewParams
	if request == nil {
		return params, nil, invalid("no request")
	}
	params.Model = request.Model
	params.MaxTokens = int64(request.MaxTokens)
	if params.MaxTokens == 0 {
		params.MaxTokens = int64(p.defaultMaxTokens)
	}
	if p.requestTimeout == 0 {
		// The SDK refuses this before sending; say so as a permanent error
		// rather than one the engine would retry.
		if _, err := sdk.CalculateNonStreamingTimeout(int(params.MaxTokens), params.Model, nil); err != nil {
			return params, nil, invalid("max_tokens %d: %v (set a request timeout with WithRequestTimeout to send it anyway)",
				params.MaxTokens, err)
		}
	}
	if request.System != "" {
		params.System = []sdk.TextBlockParam{{Text: request.System}}
	}
	messages, err := translateMessages(request.Messages)
	if err != nil {
		return params, nil, err
	}
	params.Messages = messages
	for i, tool := range request.Tools {
		translated, err := translateTool(tool)
		if err != nil {
			return params, nil, invalid("tool %d (%s): %v", i, tool.Name, err)
		}
		params.Tools = append(params.Tools, sdk.ToolUnionParam{OfTool: translated})
	}
	var requestOptions []option.RequestOption
	if request.Temperature != nil {
		// This version of the SDK no longer models temperature; the API
		// still takes it.
		requestOptions = append(requestOptions, option.WithJSONSet("temperature", *request.Temperature))
	}
	return params, requestOptions, nil
}

// translateMessages maps the conversation onto the API's two roles: tool
// results are tool_result blocks in a user turn, and consecutive tool results
// share one turn, as the API asks for the answers to parallel tool calls.
func translateMessages(messages []llm.Message) ([]sdk.MessageParam, error) {
	translated := make([]sdk.MessageParam, 0, len(messages))
	toolResultsOpen := false // the last turn is a user turn of tool results
	for i, message := range messages {
		switch message.Role {
		case llm.RoleUser:
			translated = append(translated, sdk.NewUserMessage(sdk.NewTextBlock(message.Content)))
			toolResultsOpen = false
		case llm.RoleAssistant:
			var blocks []sdk.ContentBlockParamUnion
			if message.Content != "" || len(message.ToolCalls) == 0 {
				blocks = append(blocks, sdk.NewTextBlock(message.Content))
			}
			for _, call := range message.ToolCalls {
				input, err := toolInput(call.Arguments)
				if err != nil {
					return nil, invalid("message %d: tool call %s (%s): %v", i, call.ID, call.Name, err)
				}
				blocks = append(blocks, sdk.NewToolUseBlock(call.ID, input, call.Name))
			}
			translated = append(translated, sdk.NewAssistantMessage(blocks...))
			toolResultsOpen = false
		case llm.RoleTool:
			if message.ToolCallID == "" {
				return nil, invalid("message %d: a tool message needs the ToolCallID it answers", i)
			}
			result := sdk.ToolResultBlockParam{ToolUseID: message.ToolCallID}
			if message.Content != "" {
				// The API rejects an empty text block; a result without
				// content is allowed.
				result.Content = []sdk.ToolResultBlockParamContentUnion{{OfText: &sdk.TextBlockParam{Text: message.Content}}}
			}
			block := sdk.ContentBlockParamUnion{OfToolResult: &result}
			if toolResultsOpen {
				last := translated[len(translated)-1].OfUser
				last.Content = append(last.Content, block)
			} else {
				translated = append(translated, sdk.NewUserMessage(block))
				toolResultsOpen = true
			}
		default:
			return nil, invalid("message %d: role %q is not one of user, assistant, tool (the system prompt goes in Request.System)", i, message.Role)
		}
	}
	return translated, nil
}

// toolInput is a tool call's arguments as the JSON object the API expects.
func toolInput(arguments json.RawMessage) (json.RawMessage, error) {
	if len(arguments) == 0 {
		return json.RawMessage(`{}`), nil
	}
	if !json.Valid(arguments) {
		return nil, fmt.Errorf("arguments are not valid JSON")
	}
	return arguments, nil
}

// translateTool turns a tool's JSON Schema into an input_schema. The API
// requires an object schema; its keywords other than type are passed on as
// they are.
func translateTool(tool llm.Tool) (*sdk.ToolParam, error) {
	translated := &sdk.ToolParam{Name: tool.Name}
	// Set, not left to the default, so that a schema without keywords is
	// still sent: input_schema is required.
	translated.InputSchema.Type = "object"
	if tool.Description != "" {
		translated.Description = sdk.String(tool.Description)
	}
	if len(tool.Parameters) == 0 {
		return translated, nil
	}
	var schema map[string]any
	if err := json.Unmarshal(tool.Parameters, &schema); err != nil {
		return nil, fmt.Errorf("parameters are not a JSON Schema object: %w", err)
	}
	if kind, ok := schema["type"]; ok && kind != "object" {
		return nil, fmt.Errorf(`parameters must be a schema of "type": "object", not %v`, kind)
	}
	delete(schema, "type")
	if len(schema) > 0 {
		translated.InputSchema.ExtraFields = schema
	}
	return translated, nil
}
