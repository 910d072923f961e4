package klaxon

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/invopop/jsonschema"
	sjsonschema "github.com/santhosh-tekuri/jsonschema/v6"
)

// outputSchema describes a step's output type as a JSON Schema. It is computed
// only when a step fails, and kept with the dead-letter entry, so that an
// output a person supplies to resolve the entry is checked against the type
// the workflow will decode it into, by processes that do not have the
// workflow's code.
func outputSchema[T any]() (schema []byte) {
	defer func() {
		// invopop panics on types with no JSON form (channels, functions).
		if recover() != nil {
			schema = nil
		}
	}()
	// A recursive type has no schema: reflecting it would overflow the stack.
	if recursive(reflect.TypeFor[T](), func(t reflect.Type) bool { return t == timeType }) {
		return nil
	}
	var zero T
	reflector := &jsonschema.Reflector{Anonymous: true, DoNotReference: true, ExpandedStruct: true}
	schema, err := json.Marshal(reflector.Reflect(&zero))
	if err != nil {
		return nil
	}
	return schema
}

// validateOutput checks a JSON output against a step's output schema.
func validateOutput(schema, output []byte) error {
	document, err := sjsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return fmt.Errorf("the step's output schema is unreadable: %w", err)
	}
	compiler := sjsonschema.NewCompiler()
	// Formats are checked too: a date-time that is not RFC 3339 is as
	// undecodable to the workers as a number where a string belongs.
	compiler.AssertFormat()
	if err := compiler.AddResource("urn:klaxon:step-output", document); err != nil {
		return err
	}
	compiled, err := compiler.Compile("urn:klaxon:step-output")
	if err != nil {
		return fmt.Errorf("the step's output schema does not compile: %w", err)
	}
	instance, err := sjsonschema.UnmarshalJSON(bytes.NewReader(output))
	if err != nil {
		return fmt.Errorf("the output is not valid JSON: %w", err)
	}
	return compiled.Validate(instance)
}
