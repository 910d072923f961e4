package http_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// openAPIDocument is the part of the document the test checks.
type openAPIDocument struct {
	OpenAPI string `json:"openapi"`
	Paths   map[string]map[string]struct {
		OperationID string `json:"operationId"`
		Parameters  []struct {
			Name   string `json:"name"`
			Schema struct {
				Items struct {
					Enum []string `json:"enum"`
				} `json:"items"`
			} `json:"schema"`
		} `json:"parameters"`
		Security  []map[string][]string `json:"security"`
		Responses map[string]any        `json:"responses"`
	} `json:"paths"`
	Components struct {
		Schemas         map[string]map[string]any `json:"schemas"`
		SecuritySchemes map[string]any            `json:"securitySchemes"`
	} `json:"components"`
}

func TestOpenAPIDocumentListsEveryRoute(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	r := f.do(http.MethodGet, "/api/v1/openapi.json", "", "")
	if r.status != http.StatusOK {
		t.Fatalf("openapi.json: %d %s", r.status, r.body)
	}
	var doc openAPIDocument
	r.decode(t, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	if doc.Components.SecuritySchemes["bearer"] == nil {
		t.Fatal("no bearer security scheme")
	}

	// Every route the server registered is in the document...
	routes := f.api.Routes()
	for _, route := range routes {
		method, path, _ := strings.Cut(route, " ")
		op, ok := doc.Paths[path][strings.ToLower(method)]
		if !ok {
			t.Errorf("%s is served but not documented", route)
			continue
		}
		public := path == "/healthz" || path == "/readyz"
		if public != (len(op.Security) == 0) {
			t.Errorf("%s: security %v", route, op.Security)
		}
	}
	// ...and every documented operation is served: the mux does not answer
	// it with its catch-all "no route".
	documented := 0
	for path, operations := range doc.Paths {
		for method := range operations {
			documented++
			route := strings.ToUpper(method) + " " + path
			if !slices.Contains(routes, route) {
				t.Errorf("%s is documented but not a registered route", route)
			}
			concrete := strings.NewReplacer("{id}", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "{workflow}", "greet").Replace(path)
			answer := f.do(strings.ToUpper(method), concrete, adminSecret, "")
			if answer.status == http.StatusNotFound && strings.Contains(string(answer.body), "no route") {
				t.Errorf("%s is documented but the mux has no route for it", route)
			}
		}
	}
	if documented != len(routes) || len(routes) < 11 {
		t.Fatalf("%d documented operations, %d routes", documented, len(routes))
	}
	for _, want := range []string{
		"GET /healthz", "GET /readyz", "POST /api/v1/runs", "GET /api/v1/runs", "GET /api/v1/runs/{id}", "POST /api/v1/runs/{id}/cancel",
		"GET /api/v1/dlq", "GET /api/v1/dlq/{id}", "POST /api/v1/dlq/{id}/replay", "POST /api/v1/dlq/replay", "POST /api/v1/dlq/discard",
		"POST /api/v1/dlq/{id}/resolve", "POST /api/v1/dlq/{id}/discard", "GET /api/v1/workflows",
		"GET /api/v1/breakers", "POST /api/v1/breakers/{workflow}/reset", "POST /api/v1/dlq/purge",
	} {
		if !slices.Contains(routes, want) {
			t.Errorf("route %s is missing", want)
		}
	}
	// The enqueue documents both of its successes, and its refusals of a
	// body.
	enqueue := doc.Paths["/api/v1/runs"]["post"].Responses
	if enqueue["200"] == nil || enqueue["201"] == nil || enqueue["400"] == nil || enqueue["413"] == nil {
		t.Errorf("enqueue responses %v", enqueue)
	}
	// The documented filter values are the engine's.
	enums := map[string][]string{}
	for _, path := range []string{"/api/v1/runs", "/api/v1/dlq"} {
		for _, p := range doc.Paths[path]["get"].Parameters {
			if len(p.Schema.Items.Enum) > 0 {
				enums[p.Name] = p.Schema.Items.Enum
			}
		}
	}
	for name, want := range map[string][]string{
		"status": names(klaxontype.RunStatuses()), "class": names(klaxontype.FailureClasses()),
		"state": names(klaxontype.DeadLetterStates()),
	} {
		if !slices.Equal(enums[name], want) {
			t.Errorf("parameter %s documents %v, want %v", name, enums[name], want)
		}
	}
	// A cost is documented as what it encodes to, not as Go's struct.
	spend, _ := doc.Components.Schemas["Spend"]["properties"].(map[string]any)
	cost, _ := spend["cost"].(map[string]any)
	if cost["oneOf"] == nil {
		t.Errorf("Spend.cost is documented as %v", spend["cost"])
	}
}

func names[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}
