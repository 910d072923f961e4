package notify

import (
	"encoding/json"
	"fmt"
	"strings"
)

// redactedValue replaces a value a target's redact paths name.
const redactedValue = "[redacted]"

// jsonPath is one path of a target's redact list: $.customer.email, with
// * for any key of an object or any element of an array ($.items.*.card,
// $.items[*].card).
type jsonPath []string

// parseJSONPath reads a path as the channels file gives it.
func parseJSONPath(text string) (jsonPath, error) {
	if !strings.HasPrefix(text, "$.") || len(text) < 3 {
		return nil, fmt.Errorf("%q is not a JSON path: write it as $.field.subfield, with * for any key or element", text)
	}
	segments := strings.Split(strings.ReplaceAll(text[2:], "[*]", ".*"), ".")
	for _, s := range segments {
		if s == "" {
			return nil, fmt.Errorf("%q has an empty segment: write it as $.field.subfield", text)
		}
	}
	return segments, nil
}

// redactJSON returns document with the value of every path that names one
// replaced by "[redacted]". A document that is not JSON is withheld whole:
// what a path would have hidden cannot be found in it.
func redactJSON(document json.RawMessage, paths []jsonPath) json.RawMessage {
	if len(document) == 0 || len(paths) == 0 {
		return document
	}
	var value any
	if err := json.Unmarshal(document, &value); err != nil {
		return json.RawMessage(`"` + redactedValue + `"`)
	}
	for _, path := range paths {
		value = redactAt(value, path)
	}
	redacted, err := json.Marshal(value)
	if err != nil {
		return json.RawMessage(`"` + redactedValue + `"`)
	}
	return redacted
}

func redactAt(value any, path jsonPath) any {
	if len(path) == 0 {
		return redactedValue
	}
	switch v := value.(type) {
	case map[string]any:
		for key, child := range v {
			if path[0] == "*" || path[0] == key {
				v[key] = redactAt(child, path[1:])
			}
		}
	case []any:
		if path[0] == "*" {
			for i, child := range v {
				v[i] = redactAt(child, path[1:])
			}
		}
	}
	return value
}
