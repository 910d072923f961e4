package openai

import (
	"bytes"
	"encoding/json"
	"fmt"

	sdk "github.com/openai/openai-go/v3"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/llm"
)

// requestError is a Request this adapter cannot express on the wire. It is
// permanent: the same request fails the same way on every attempt, so it is
// reported before anything is sent.
type requestError struct {
	reason string
}

func (e *requestError) Error() string {
	return fmt.Sprintf("%s: invalid request: %s", providerName, e.reason)
}

// FailureClass makes an untranslatable request permanent.
func (e *requestError) FailureClass() klaxontype.FailureClass { return klaxontype.ClassPermanent }

// chatParams translates a Request into the SDK's parameters.
func (p *Provider) chatParams(request *llm.Request) (sdk.ChatCompletionNewParams, error) {
	var params sdk.ChatCompletionNewParams
	if request == nil {
		return params, &requestError{reason: "the request is nil"}
	}
	if request.Model == "" {
		return params, &requestError{reason: "the request names no model"}
	}
	params.Model = request.Model

	params.Messages = make([]sdk.ChatCompletionMessageParamUnion, 0, len(request.Messages)+1)
	if request.System != "" {
		params.Messages = append(params.Messages, sdk.SystemMessage(request.System))
	}
	for i, message := range request.Messages {
		translated, err := chatMessage(message)
		if err != nil {
			return params, &requestError{reason: fmt.Sprintf("message %d: %s", i, err)}
		}
		params.Messages = append(params.Messages, translated)
	}

	for _, tool := range request.Tools {
		translated, err := functionTool(tool)
		if err != nil {
			return params, &requestError{reason: fmt.Sprintf("tool %q: %s", tool.Name, err)}
		}
		params.Tools = append(params.Tools, translated)
	}

	if request.MaxTokens > 0 {
		if p.legacyMaxTokens {
			params.MaxTokens = sdk.Int(int64(request.MaxTokens))
		} else {
			params.MaxCompletionTokens = sdk.Int(int64(request.MaxTokens))
		}
	}
	if request.Temperature != nil {
		params.Temperature = sdk.Float(*request.Temperature)
	}
	return params, nil
}

func chatMessage(message llm.Message) (sdk.ChatCompletionMessageParamUnion, error) {
	switch message.Role {
	case llm.RoleUser:
		return sdk.UserMessage(message.Content), nil
	case llm.RoleTool:
		if message.ToolCallID == "" {
			return sdk.ChatCompletionMessageParamUnion{}, fmt.Errorf("a tool message needs the ToolCallID it answers")
		}
		return sdk.ToolMessage(message.Content, message.ToolCallID), nil
	case llm.RoleAssistant:
		var assistant sdk.ChatCompletionAssistantMessageParam
		// Content may be absent only when the message carries tool calls.
		if message.Content != "" || len(message.ToolCalls) == 0 {
			assistant.Content.OfString = sdk.String(message.Content)
		}
		for _, call := range message.ToolCalls {
			assistant.ToolCalls = append(assistant.ToolCalls, sdk.ChatCompletionMessageToolCallUnionParam{
				OfFunction: &sdk.ChatCompletionMessageFunctionToolCallParam{
					ID: call.ID,
					Function: sdk.ChatCompletionMessageFunctionToolCallFunctionParam{
						Name:      call.Name,
						Arguments: wireArguments(call.Arguments),
					},
				},
			})
		}
		return sdk.ChatCompletionMessageParamUnion{OfAssistant: &assistant}, nil
	default:
		return sdk.ChatCompletionMessageParamUnion{}, fmt.Errorf("role %q is not one of %q, %q, %q (the system prompt goes in Request.System)",
			message.Role, llm.RoleUser, llm.RoleAssistant, llm.RoleTool)
	}
}

// wireArguments is a tool call's arguments as the API carries them: a string
// of JSON.
func wireArguments(arguments json.RawMessage) string {
	if len(bytes.TrimSpace(arguments)) == 0 {
		return "{}"
	}
	return string(arguments)
}

func functionTool(tool llm.Tool) (sdk.ChatCompletionToolUnionParam, error) {
	if tool.Name == "" {
		return sdk.ChatCompletionToolUnionParam{}, fmt.Errorf("the tool has no name")
	}
	definition := sdk.FunctionDefinitionParam{Name: tool.Name}
	if tool.Description != "" {
		definition.Description = sdk.String(tool.Description)
	}
	if schema := bytes.TrimSpace(tool.Parameters); len(schema) > 0 && !bytes.Equal(schema, []byte("null")) {
		// Each keyword stays raw JSON, so the schema reaches the API exactly
		// as written: decoding it into Go values would turn big numbers into
		// floats.
		var keywords map[string]json.RawMessage
		if err := json.Unmarshal(schema, &keywords); err != nil {
			return sdk.ChatCompletionToolUnionParam{}, fmt.Errorf("parameters must be a JSON Schema object: %w", err)
		}
		definition.Parameters = make(sdk.FunctionParameters, len(keywords))
		for keyword, value := range keywords {
			definition.Parameters[keyword] = value
		}
	}
	return sdk.ChatCompletionFunctionTool(definition), nil
}
