package klaxon

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/invopop/jsonschema"
	sjsonschema "github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// inputSchema describes a workflow's input type as a JSON Schema, recorded
// when a worker registers the workflow so that processes without its code
// (the CLI, the HTTP server) refuse an input the workers could not decode
// instead of creating a run that dies on it.
//
// The schema accepts what the local check (strict decoding) accepts, no
// more and no less as far as JSON Schema can say it: unknown fields are
// refused, but missing fields and null values are not, since decoding leaves
// the zero value. A type that decodes itself (json.Unmarshaler,
// encoding.TextUnmarshaler) accepts any value: its Go shape says nothing of
// its JSON. A type that cannot be described has no schema (nil), and its
// inputs are then only checked to be JSON; so has a recursive type (a tree),
// which the reflector would follow until the stack overflows.
func inputSchema[T any]() (schema []byte) {
	defer func() {
		// invopop panics on types with no JSON form (channels, functions).
		if recover() != nil {
			schema = nil
		}
	}()
	if recursive(reflect.TypeFor[T](), func(t reflect.Type) bool { return t == timeType || decodesItself(t) != nil }) {
		return nil
	}
	var zero T
	reflector := &jsonschema.Reflector{
		Anonymous: true, DoNotReference: true, ExpandedStruct: true,
		// Nothing is required unless tagged; untagged and tagged alike are
		// then made optional below, as decoding treats them.
		RequiredFromJSONSchemaTags: true,
		Mapper:                     decodesItself,
	}
	encoded, err := json.Marshal(reflector.Reflect(&zero))
	if err != nil {
		return nil
	}
	var document any
	if err := json.Unmarshal(encoded, &document); err != nil {
		return nil
	}
	schema, err = json.Marshal(asDecoded(document))
	if err != nil {
		return nil
	}
	return schema
}

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	timeType            = reflect.TypeFor[time.Time]()
)

// recursive reports whether a type contains itself through the fields,
// elements and pointers a schema reflector follows, stopping at the types
// opaque says it does not look into. Reflecting a recursive type without
// references never ends, and a stack overflow cannot be recovered.
func recursive(t reflect.Type, opaque func(reflect.Type) bool) bool {
	onPath := make(map[reflect.Type]bool)
	var walk func(reflect.Type) bool
	walk = func(t reflect.Type) bool {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if opaque(t) {
			return false
		}
		switch t.Kind() {
		case reflect.Slice, reflect.Array, reflect.Map:
			return walk(t.Elem())
		case reflect.Struct:
			if onPath[t] {
				return true
			}
			onPath[t] = true
			defer delete(onPath, t)
			for field := range t.Fields() {
				if (!field.IsExported() && !field.Anonymous) || field.Tag.Get("json") == "-" {
					continue
				}
				if walk(field.Type) {
					return true
				}
			}
		}
		return false
	}
	return walk(t)
}

// decodesItself maps a type with its own decoding to the schema that accepts
// anything; time.Time keeps invopop's date-time string.
func decodesItself(t reflect.Type) *jsonschema.Schema {
	if t == timeType {
		return nil
	}
	pointer := reflect.PointerTo(t)
	for _, decoder := range []reflect.Type{jsonUnmarshalerType, textUnmarshalerType} {
		if t.Implements(decoder) || pointer.Implements(decoder) {
			return jsonschema.TrueSchema
		}
	}
	return nil
}

// asDecoded loosens a schema, walked as generic JSON, to what decoding
// accepts: every typed value may also be null, and no property is required.
func asDecoded(node any) any {
	switch node := node.(type) {
	case map[string]any:
		for key, value := range node {
			switch {
			case key == "type":
				if name, ok := value.(string); ok && name != "null" {
					node[key] = []any{name, "null"}
				}
			case key == "required":
				if _, ok := value.([]any); ok {
					delete(node, key)
				}
			default:
				node[key] = asDecoded(value)
			}
		}
	case []any:
		for i, value := range node {
			node[i] = asDecoded(value)
		}
	}
	return node
}

// compiledSchemas caches compiled input schemas by their text: the server
// checks every enqueued input, and a workflow's schema rarely changes.
var compiledSchemas sync.Map // string → *sjsonschema.Schema

// validateInput checks a JSON input against a workflow's recorded input
// schema. The error is an *inputMismatch, which names every path that fails.
//
// A recorded schema this process cannot compile (written by another version
// of Klaxon, say) checks nothing: refusing every input of the workflow over
// it would be worse than letting its workers' decoding judge.
func validateInput(schema, input []byte) error {
	if problems := schemaProblems(schema, input); len(problems) > 0 {
		return &inputMismatch{problems: problems}
	}
	return nil
}

// checkAgainstSchema checks an output a remote worker reports against the
// JSON Schema its workflow registered; like validateInput, a schema this
// process cannot compile checks nothing.
func checkAgainstSchema(schema, document []byte) error {
	if problems := schemaProblems(schema, document); len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// schemaProblems names every path of a JSON document that fails a JSON
// Schema; none when it fits, or when the schema does not compile.
func schemaProblems(schema, document []byte) []string {
	compiled, err := compileInputSchema(schema)
	if err != nil {
		return nil
	}
	instance, err := sjsonschema.UnmarshalJSON(bytes.NewReader(document))
	if err != nil {
		return []string{"not valid JSON: " + err.Error()}
	}
	err = compiled.Validate(instance)
	if err == nil {
		return nil
	}
	validation, ok := err.(*sjsonschema.ValidationError)
	if !ok {
		return []string{err.Error()}
	}
	var problems []string
	for _, unit := range validation.BasicOutput().Errors {
		if unit.Error == nil {
			continue
		}
		message := unit.Error.String()
		if strings.HasPrefix(message, "validation failed") {
			continue // a summary of its causes, which are listed
		}
		where := unit.InstanceLocation
		if where == "" {
			where = "/"
		}
		problems = append(problems, fmt.Sprintf("at %s: %s", where, message))
	}
	if len(problems) == 0 {
		problems = append(problems, validation.Error())
	}
	return problems
}

// inputMismatch is an input that does not fit a recorded input schema. It is
// klaxontype.ErrInvalid, without that error's words in its message.
type inputMismatch struct {
	problems []string
}

func (e *inputMismatch) Error() string {
	return "does not fit the workflow's input type: " + strings.Join(e.problems, "; ")
}

func (e *inputMismatch) Is(target error) bool { return target == klaxontype.ErrInvalid }

func compileInputSchema(schema []byte) (*sjsonschema.Schema, error) {
	if cached, ok := compiledSchemas.Load(string(schema)); ok {
		return cached.(*sjsonschema.Schema), nil
	}
	document, err := sjsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return nil, err
	}
	compiler := sjsonschema.NewCompiler()
	// Formats are checked too: a date-time that is not RFC 3339 is as
	// undecodable to the workers as a number where a string belongs.
	compiler.AssertFormat()
	if err := compiler.AddResource("urn:klaxon:workflow-input", document); err != nil {
		return nil, err
	}
	compiled, err := compiler.Compile("urn:klaxon:workflow-input")
	if err != nil {
		return nil, err
	}
	compiledSchemas.Store(string(schema), compiled)
	return compiled, nil
}
