// Package redact masks values in JSON documents and in text: the values that
// JSON paths name ($.customer.email, $.documents[*].text), and whatever
// matches a pattern (a regular expression such as sk-[A-Za-z0-9]{20,}), are
// replaced by Marker. The channels file of package notify uses it for its
// per-target redact lists; the HTTP API, the notifications and the traces
// use it for a workflow's redaction rule (klaxon.Redact, klaxon.RedactPattern)
// with the operator's Policy added (klaxon server --redaction), so that a
// path means the same thing everywhere.
//
// It may import only the standard library and klaxontype.
package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Marker replaces every masked value, and every match of a pattern within a
// string.
const Marker = "[redacted]"

// Path is one JSON path: $.customer.email, with * for any key of an object or
// any element of an array ($.items.*.card, $.items[*].card).
type Path []string

// ParsePath reads a path written as $.field.subfield. The error names the
// path and how to write it.
func ParsePath(text string) (Path, error) {
	if !strings.HasPrefix(text, "$.") || len(text) < 3 {
		return nil, fmt.Errorf("%q is not a JSON path: write it as $.field.subfield, with * for any key or element", text)
	}
	segments := strings.Split(strings.ReplaceAll(text[2:], "[*]", ".*"), ".")
	for _, s := range segments {
		if s == "" {
			return nil, fmt.Errorf("%q has an empty segment: write it as $.field.subfield", text)
		}
		if strings.ContainsAny(s, "[]") {
			return nil, fmt.Errorf("%q: only [*] may stand in brackets (any element); name a field as .field", text)
		}
	}
	return segments, nil
}

// Rule is what to mask: values at paths, and matches of patterns. The zero
// Rule, and a nil one, mask nothing.
type Rule struct {
	paths    []Path
	patterns []*regexp.Regexp
}

// NewRule checks and compiles paths and patterns (Go regexp syntax, RE2).
// The error names the first bad path or pattern.
func NewRule(paths, patterns []string) (*Rule, error) {
	rule := &Rule{}
	for _, text := range paths {
		path, err := ParsePath(text)
		if err != nil {
			return nil, err
		}
		rule.paths = append(rule.paths, path)
	}
	for _, text := range patterns {
		if text == "" {
			return nil, fmt.Errorf("an empty pattern would match everywhere: give a regular expression such as sk-[A-Za-z0-9]{20,}")
		}
		pattern, err := regexp.Compile(text)
		if err != nil {
			return nil, fmt.Errorf("pattern %q is not a regular expression (Go RE2 syntax): %w", text, err)
		}
		if pattern.MatchString("") {
			return nil, fmt.Errorf("pattern %q matches the empty string, so it would mask between every character", text)
		}
		rule.patterns = append(rule.patterns, pattern)
	}
	return rule, nil
}

// PathRule is a rule of paths only, already parsed.
func PathRule(paths ...Path) *Rule { return &Rule{paths: paths} }

// Empty reports whether the rule masks nothing.
func (r *Rule) Empty() bool { return r == nil || (len(r.paths) == 0 && len(r.patterns) == 0) }

// JSON returns document with the value of every path replaced by Marker and
// every match of a pattern within a string replaced by Marker. The document
// comes back unchanged, the same bytes, when nothing was masked. A document
// that is not JSON is withheld whole: what a path would have hidden cannot be
// found in it. Numbers keep their digits; object keys come back sorted.
func (r *Rule) JSON(document json.RawMessage) json.RawMessage {
	if len(document) == 0 || r.Empty() {
		return document
	}
	value, err := decode(document)
	if err != nil {
		return withheld()
	}
	changed := false
	for _, path := range r.paths {
		value = maskAt(value, path, &changed)
	}
	if len(r.patterns) > 0 {
		value = r.maskStrings(value, &changed)
	}
	if !changed {
		return document
	}
	var out bytes.Buffer
	encoder := json.NewEncoder(&out)
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(value); err != nil {
		return withheld()
	}
	return bytes.TrimRight(out.Bytes(), "\n")
}

// Text returns text with every match of the rule's patterns replaced by
// Marker. Paths do not apply to text: it has no structure to find them in.
func (r *Rule) Text(text string) string {
	if r == nil || text == "" {
		return text
	}
	for _, pattern := range r.patterns {
		text = pattern.ReplaceAllLiteralString(text, Marker)
	}
	return text
}

// FindMarker returns the path of the first string in document that holds
// Marker, so that a value someone edited from a masked view is not written
// back with the mask in place of the real value. ok is false when document
// holds none, or is not JSON.
func FindMarker(document json.RawMessage) (path string, ok bool) {
	if len(document) == 0 || !bytes.Contains(document, []byte(Marker)) {
		return "", false
	}
	value, err := decode(document)
	if err != nil {
		return "", false
	}
	return findMarker(value, "$")
}

func findMarker(value any, at string) (string, bool) {
	switch v := value.(type) {
	case string:
		return at, strings.Contains(v, Marker)
	case map[string]any:
		for key, child := range v {
			if path, ok := findMarker(child, at+"."+key); ok {
				return path, true
			}
		}
	case []any:
		for i, child := range v {
			if path, ok := findMarker(child, at+"["+strconv.Itoa(i)+"]"); ok {
				return path, true
			}
		}
	}
	return "", false
}

// decode reads one JSON value, keeping numbers as written.
func decode(document []byte) (any, error) {
	decoder := json.NewDecoder(bytes.NewReader(document))
	decoder.UseNumber()
	var value any
	if err := decoder.Decode(&value); err != nil {
		return nil, err
	}
	if decoder.More() {
		return nil, fmt.Errorf("trailing data after the JSON value")
	}
	return value, nil
}

func withheld() json.RawMessage { return json.RawMessage(`"` + Marker + `"`) }

func maskAt(value any, path Path, changed *bool) any {
	if len(path) == 0 {
		*changed = true
		return Marker
	}
	switch v := value.(type) {
	case map[string]any:
		for key, child := range v {
			if path[0] == "*" || path[0] == key {
				v[key] = maskAt(child, path[1:], changed)
			}
		}
	case []any:
		if path[0] == "*" {
			for i, child := range v {
				v[i] = maskAt(child, path[1:], changed)
			}
		}
	}
	return value
}

func (r *Rule) maskStrings(value any, changed *bool) any {
	switch v := value.(type) {
	case string:
		masked := r.Text(v)
		if masked != v {
			*changed = true
		}
		return masked
	case map[string]any:
		for key, child := range v {
			v[key] = r.maskStrings(child, changed)
		}
	case []any:
		for i, child := range v {
			v[i] = r.maskStrings(child, changed)
		}
	}
	return value
}
