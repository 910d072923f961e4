package http_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// The documents the server publishes are valid OpenAPI, as a validator that
// knows nothing of huma reads them: every $ref resolves, every schema and
// example is well formed, every path parameter is declared, operation IDs are
// unique. huma serves the 3.1 document also as YAML and downgraded to 3.0 for
// older generators; each is checked.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	for path, version := range map[string]string{
		"/api/v1/openapi.json": "3.1", "/api/v1/openapi.yaml": "3.1",
		"/api/v1/openapi-3.0.json": "3.0", "/api/v1/openapi-3.0.yaml": "3.0",
	} {
		r := f.do(http.MethodGet, path, "", "")
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(r.body)
		if err != nil {
			t.Fatalf("loading %s: %v", path, err)
		}
		if got := doc.OpenAPIMajorMinor(); got != version {
			t.Errorf("%s is OpenAPI %s, want %s", path, doc.OpenAPI, version)
		}
		if err := doc.Validate(loader.Context); err != nil {
			t.Errorf("%s is not a valid OpenAPI document: %v", path, err)
		}
	}

	// The validator is not vacuous on this document: broken copies of it are
	// refused, naming what is wrong.
	r := f.do(http.MethodGet, "/api/v1/openapi.json", "", "")
	for _, c := range []struct {
		name    string
		corrupt func(doc map[string]any)
		want    string
	}{
		{"undeclared path parameter", func(doc map[string]any) {
			delete(operation(doc, "/api/v1/runs/{id}", "get"), "parameters")
		}, "path parameters"},
		{"duplicate operation ID", func(doc map[string]any) {
			operation(doc, "/api/v1/runs/{id}", "get")["operationId"] = "list-runs"
		}, "same operation id"},
		{"no info", func(doc map[string]any) { delete(doc, "info") }, "info"},
	} {
		var doc map[string]any
		if err := json.Unmarshal(r.body, &doc); err != nil {
			t.Fatal(err)
		}
		c.corrupt(doc)
		broken, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		loader := openapi3.NewLoader()
		loaded, err := loader.LoadFromData(broken)
		if err == nil {
			err = loaded.Validate(loader.Context)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("the document with %s: %v; want an error mentioning %q", c.name, err, c.want)
		}
	}
}

// operation is one operation of a document decoded as JSON.
func operation(doc map[string]any, path, method string) map[string]any {
	paths, _ := doc["paths"].(map[string]any)
	item, _ := paths[path].(map[string]any)
	op, _ := item[method].(map[string]any)
	return op
}
