package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"

	"github.com/danielgtaylor/huma/v2"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// strictJSON is the API's only format. Requests are decoded strictly: a
// field the request type does not have, or anything after the JSON value, is
// an error rather than silently ignored. (huma's schema validation already
// rejects unknown fields with a 422 naming them; decoding strictly as well
// keeps that true for an operation that skips validation.)
var strictJSON = huma.Format{
	Marshal: func(w io.Writer, v any) error {
		encoder := json.NewEncoder(w)
		encoder.SetEscapeHTML(false)
		return encoder.Encode(v)
	},
	Unmarshal: decodeStrict,
}

// decodeStrict decodes one JSON value into v, refusing unknown fields and
// trailing data.
func decodeStrict(data []byte, v any) error {
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(v); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return errors.New("the body is not valid JSON: it ends before the value does")
		}
		return fmt.Errorf("the body is not valid JSON: %w", err)
	}
	if _, err := decoder.Token(); !errors.Is(err, io.EOF) {
		return errors.New("the body is not valid JSON: unexpected data after the value")
	}
	return nil
}

// registerSchemaAliases gives the OpenAPI document the shape that types with
// their own JSON encoding really have.
func registerSchemaAliases(registry huma.Registry) {
	registry.RegisterTypeAlias(reflect.TypeFor[klaxontype.Cost](), reflect.TypeFor[costSchema]())
}

// costSchema documents klaxontype.Cost: a number of US dollars, or the string
// "unknown" when a model's price is not known.
type costSchema struct{}

// Schema is Cost's JSON: a number or "unknown".
func (costSchema) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{
		Description: `US dollars, or "unknown" when a model's price is not known (never shown as zero)`,
		OneOf: []*huma.Schema{
			{Type: huma.TypeNumber},
			{Type: huma.TypeString, Enum: []any{"unknown"}},
		},
	}
}
