package storetest

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

func testWorkflows(t *testing.T, h *harness) {
	t.Run("RegisterAndList", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		if list := f.workflows(); len(list) != 0 {
			t.Fatalf("a new store lists %d workflows; want none", len(list))
		}

		before := time.Now()
		f.register(&store.WorkflowRegisterParams{Name: "summarize", Version: 2, ExpectedSteps: []string{"fetch", "summarize", "store"}})
		f.register(&store.WorkflowRegisterParams{Name: "classify", Version: 1})
		after := time.Now()

		list := f.workflows()
		if names := workflowNames(list); !slices.Equal(names, []string{"classify", "summarize"}) {
			t.Fatalf("WorkflowList: %v; want [classify summarize], by name", names)
		}
		checkWorkflow(t, list[0], "classify", 1, nil)
		checkWorkflow(t, list[1], "summarize", 2, []string{"fetch", "summarize", "store"})
		for _, info := range list {
			checkTimeBetween(t, info.Name+" RegisteredAt", info.RegisteredAt, before, after)
			checkTimeBetween(t, info.Name+" UpdatedAt", info.UpdatedAt, before, after)
		}
	})

	t.Run("RegisterAgainUpdates", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		f.register(&store.WorkflowRegisterParams{Name: "summarize", Version: 1, ExpectedSteps: []string{"fetch", "summarize"}})
		first := f.workflows()[0]

		// A worker deploying a new version of the workflow replaces the entry,
		// steps and all, rather than adding a second one.
		f.register(&store.WorkflowRegisterParams{Name: "summarize", Version: 2, ExpectedSteps: []string{"fetch", "summarize", "store"}})
		list := f.workflows()
		if len(list) != 1 {
			t.Fatalf("WorkflowList after registering again: %d workflows; want 1", len(list))
		}
		checkWorkflow(t, list[0], "summarize", 2, []string{"fetch", "summarize", "store"})
		if !list[0].RegisteredAt.Equal(first.RegisteredAt) {
			t.Errorf("RegisteredAt changed from %s to %s; want the first registration kept", first.RegisteredAt, list[0].RegisteredAt)
		}
		if list[0].UpdatedAt.Before(first.UpdatedAt) {
			t.Errorf("UpdatedAt went back from %s to %s", first.UpdatedAt, list[0].UpdatedAt)
		}

		// A manifest can shrink, and be dropped.
		f.register(&store.WorkflowRegisterParams{Name: "summarize", Version: 3})
		list = f.workflows()
		if len(list) != 1 {
			t.Fatalf("WorkflowList after registering a third time: %d workflows; want 1", len(list))
		}
		checkWorkflow(t, list[0], "summarize", 3, nil)
	})

	t.Run("SchemaAndPolicies", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		// Keys out of order and a nested object: the schema must read back as
		// it was written, not re-encoded.
		schema := json.RawMessage(`{"type":"object","properties":{"url":{"type":"string"}},"additionalProperties":false}`)
		policies := &klaxontype.WorkflowPolicies{
			Retry: klaxontype.RetryPolicy{
				MaxAttempts: 7, InitialBackoff: 2 * time.Second, MaxBackoff: time.Minute,
				Classes: map[klaxontype.FailureClass]int{klaxontype.ClassSemantic: 2},
			},
			RunTimeout:               90 * time.Second,
			Budget:                   &klaxontype.Budget{Tokens: 50000, CostUSD: 1.25},
			Breaker:                  &klaxontype.BreakerPolicy{Window: time.Minute, MinAttempts: 10, FailureRate: 0.5, CoolDown: 5 * time.Minute},
			SpendRateLimitUSDPerHour: 20,
		}
		f.register(&store.WorkflowRegisterParams{Name: "summarize", Version: 1, InputSchema: schema, Policies: policies})
		f.register(&store.WorkflowRegisterParams{Name: "classify", Version: 1})

		list := f.workflows()
		if len(list) != 2 {
			t.Fatalf("WorkflowList: %d workflows; want 2", len(list))
		}
		classify, summarize := list[0], list[1]
		if classify.InputSchema != nil || classify.Policies != nil {
			t.Errorf("classify, registered without, has schema %s and policies %+v; want neither", classify.InputSchema, classify.Policies)
		}
		if string(summarize.InputSchema) != string(schema) {
			t.Errorf("InputSchema read back as %s; want %s", summarize.InputSchema, schema)
		}
		if !reflect.DeepEqual(summarize.Policies, policies) {
			t.Errorf("Policies read back as %+v; want %+v", summarize.Policies, policies)
		}

		// A new version may drop its schema and policies, and change them.
		f.register(&store.WorkflowRegisterParams{Name: "summarize", Version: 2})
		if got := f.workflows()[1]; got.InputSchema != nil || got.Policies != nil {
			t.Errorf("after registering without them: schema %s and policies %+v; want neither", got.InputSchema, got.Policies)
		}
		minimal := &klaxontype.WorkflowPolicies{Retry: klaxontype.DefaultRetryPolicy}
		f.register(&store.WorkflowRegisterParams{Name: "summarize", Version: 3, InputSchema: json.RawMessage(`{"type":"string"}`), Policies: minimal})
		got := f.workflows()[1]
		if string(got.InputSchema) != `{"type":"string"}` || !reflect.DeepEqual(got.Policies, minimal) {
			t.Errorf("after registering again: schema %s and policies %+v; want {\"type\":\"string\"} and %+v", got.InputSchema, got.Policies, minimal)
		}
	})
}

func (f *fixture) register(params *store.WorkflowRegisterParams) {
	f.t.Helper()
	if err := f.store.WorkflowRegister(f.ctx, params); err != nil {
		f.t.Fatalf("WorkflowRegister %s: %v", params.Name, err)
	}
}

func (f *fixture) workflows() []*klaxontype.WorkflowInfo {
	f.t.Helper()
	list, err := f.store.WorkflowList(f.ctx)
	if err != nil {
		f.t.Fatalf("WorkflowList: %v", err)
	}
	return list
}

func workflowNames(list []*klaxontype.WorkflowInfo) []string {
	names := make([]string, len(list))
	for i, info := range list {
		names[i] = info.Name
	}
	return names
}

// checkWorkflow compares a listed workflow; no expected steps and an empty
// manifest are the same (slices.Equal treats nil and empty alike).
func checkWorkflow(t *testing.T, got *klaxontype.WorkflowInfo, name string, version int, steps []string) {
	t.Helper()
	if got.Name != name || got.Version != version || !slices.Equal(got.ExpectedSteps, steps) {
		t.Errorf("workflow %s version %d steps %v; want %s version %d steps %v",
			got.Name, got.Version, got.ExpectedSteps, name, version, steps)
	}
}
