package llm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/klaxonhq/klaxon"
)

// Schema is a compiled JSON Schema for a model's structured output.
type Schema struct {
	compiled *jsonschema.Schema
}

// CompileSchema compiles a JSON Schema document once, for many validations.
func CompileSchema(document []byte) (*Schema, error) {
	parsed, err := jsonschema.UnmarshalJSON(bytes.NewReader(document))
	if err != nil {
		return nil, fmt.Errorf("output schema is not valid JSON: %w", err)
	}
	compiler := jsonschema.NewCompiler()
	if err := compiler.AddResource("urn:klaxon:structured-output", parsed); err != nil {
		return nil, err
	}
	compiled, err := compiler.Compile("urn:klaxon:structured-output")
	if err != nil {
		return nil, fmt.Errorf("output schema does not compile: %w", err)
	}
	return &Schema{compiled: compiled}, nil
}

// DecodeJSON checks a model's answer against the schema and decodes it into
// T. An answer that is not JSON, or does not fit the schema, is a semantic
// failure whose message names the failing path: the model may answer right on
// the next attempt.
func DecodeJSON[T any](schema *Schema, content string) (T, error) {
	var out T
	text := stripFence(content)
	instance, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		return out, klaxon.Semantic(fmt.Errorf("the model's answer is not JSON: %v", err))
	}
	if err := schema.compiled.Validate(instance); err != nil {
		return out, klaxon.Semantic(fmt.Errorf("the model's answer does not fit the output schema: %s", describe(err)))
	}
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		return out, klaxon.Semantic(fmt.Errorf("the model's answer does not decode into %T: %v", out, err))
	}
	return out, nil
}

// ValidateJSON is a step option for Call: the response's content must fit the
// schema, or the call is a semantic failure and its response is not recorded.
func ValidateJSON(schema *Schema) CallOption {
	return WithStepOptions(klaxon.Validate(func(response *Response) error {
		_, err := DecodeJSON[any](schema, response.Content)
		return err
	}))
}

// english prints the validator's messages.
var english = message.NewPrinter(language.English)

// describe flattens a validation error into "at /path: problem" clauses.
func describe(err error) string {
	var validation *jsonschema.ValidationError
	if !errors.As(err, &validation) {
		return err.Error()
	}
	var causes []string
	var walk func(v *jsonschema.ValidationError)
	walk = func(v *jsonschema.ValidationError) {
		if len(v.Causes) == 0 {
			path := "/" + strings.Join(v.InstanceLocation, "/")
			causes = append(causes, fmt.Sprintf("at %s: %s", path, v.ErrorKind.LocalizedString(english)))
			return
		}
		for _, cause := range v.Causes {
			walk(cause)
		}
	}
	walk(validation)
	return strings.Join(causes, "; ")
}

// stripFence removes a ```json … ``` fence that models like to add.
func stripFence(content string) string {
	text := strings.TrimSpace(content)
	if !strings.HasPrefix(text, "```") {
		return text
	}
	text = strings.TrimPrefix(text, "```")
	if newline := strings.IndexByte(text, '\n'); newline >= 0 {
		text = text[newline+1:]
	}
	return strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(text), "```"))
}
