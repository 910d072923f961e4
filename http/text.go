package http

import (
	"reflect"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/klaxonhq/klaxon/store"
)

// rawJSON is what a run's input and a step's output are decoded as: JSON
// kept byte for byte, not text, so it is not checked.
var rawJSON = reflect.TypeFor[[]byte]()

// refuseUnstorableText refuses a request any of whose parameters (path,
// query, header or a string anywhere in the body) holds a NUL byte or invalid
// UTF-8, naming the parameter: no store can keep such text (store.CheckText),
// and refusing it here answers every operation alike, whatever it does with
// the value. Nil when every text is storable.
func refuseUnstorableText(input any) error {
	value := reflect.ValueOf(input)
	for value.Kind() == reflect.Pointer {
		if value.IsNil() {
			return nil
		}
		value = value.Elem()
	}
	if value.Kind() != reflect.Struct {
		return nil
	}
	for i := range value.NumField() {
		field := value.Type().Field(i)
		if !field.IsExported() {
			continue
		}
		location := ""
		for _, in := range []string{"path", "query", "header"} {
			if name, ok := field.Tag.Lookup(in); ok {
				name, _, _ = strings.Cut(name, ",")
				location = in + "." + name
			}
		}
		if field.Name == "Body" {
			location = "body"
		}
		if location == "" {
			continue
		}
		if where, problem := unstorableText(value.Field(i), location); problem != "" {
			return huma.Error422UnprocessableEntity(where+" "+problem+": no store can keep it",
				&huma.ErrorDetail{Location: where, Message: problem})
		}
	}
	return nil
}

// unstorableText finds the first string in v, at location, that no store can
// keep, and says where and why; problem is empty when there is none.
func unstorableText(v reflect.Value, location string) (where, problem string) {
	switch v.Kind() {
	case reflect.String:
		if err := store.CheckText(location, v.String()); err != nil {
			if strings.Contains(err.Error(), "NUL") {
				return location, "holds a NUL byte"
			}
			return location, "is not valid UTF-8"
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return unstorableText(v.Elem(), location)
		}
	case reflect.Slice, reflect.Array:
		if v.Type().ConvertibleTo(rawJSON) {
			return "", ""
		}
		for i := range v.Len() {
			if where, problem := unstorableText(v.Index(i), location); problem != "" {
				return where, problem
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			if where, problem := unstorableText(iter.Key(), location+" key"); problem != "" {
				return where, problem
			}
			if where, problem := unstorableText(iter.Value(), location+"."+iter.Key().String()); problem != "" {
				return where, problem
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			field := v.Type().Field(i)
			if !field.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(field.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = field.Name
			}
			if where, problem := unstorableText(v.Field(i), location+"."+name); problem != "" {
				return where, problem
			}
		}
	}
	return "", ""
}
