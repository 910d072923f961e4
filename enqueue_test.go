package klaxon_test

import (
	"context"
	"errors"
	"testing"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

type document struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

var echo = klaxon.NewWorkflow("echo", func(ctx context.Context, doc document) (string, error) {
	return klaxon.Step(ctx, "echo", func(context.Context) (string, error) { return doc.Text, nil })
})

// A second enqueue with the same idempotency key returns the existing run and
// creates nothing, even after the run has ended.
func TestEnqueueIdempotencyKeyReturnsExistingRun(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	client := startClient(t, st, nil, echo)
	ctx := context.Background()
	first, err := echo.Enqueue(ctx, client, document{ID: "1", Text: "a"}, klaxon.WithIdempotencyKey("doc-1"))
	if err != nil || first.Deduplicated {
		t.Fatalf("first enqueue: %+v, %v", first, err)
	}
	awaitRun(t, client, first.Run.ID)
	second, err := echo.Enqueue(ctx, client, document{ID: "1", Text: "b"}, klaxon.WithIdempotencyKey("doc-1"))
	if err != nil {
		t.Fatal(err)
	}
	if !second.Deduplicated || second.Run.ID != first.Run.ID || second.Run.Status != klaxontype.RunStatusCompleted {
		t.Fatalf("second enqueue returned %+v (deduplicated %v); want the completed first run", second.Run, second.Deduplicated)
	}
	runs, _ := st.RunList(ctx, &store.RunListParams{Workflow: "echo"})
	if len(runs) != 1 {
		t.Fatalf("%d runs exist, want 1", len(runs))
	}
}

// Entity IDs are stored on the run and runs can be filtered by them.
func TestEntitiesAreStoredAndFilterable(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	client, _ := klaxon.NewClient(st, nil)
	_ = client.Register(echo)
	ctx := context.Background()
	a, _ := echo.Enqueue(ctx, client, document{ID: "42"}, klaxon.WithEntity("document_id", "42"), klaxon.WithEntity("tenant", "acme"))
	_, _ = echo.Enqueue(ctx, client, document{ID: "43"}, klaxon.WithEntity("document_id", "43"), klaxon.WithEntity("tenant", "acme"))
	if a.Run.Entities["document_id"] != "42" || a.Run.Entities["tenant"] != "acme" {
		t.Fatalf("entities = %v", a.Run.Entities)
	}
	runs, err := st.RunList(ctx, &store.RunListParams{Entities: map[string]string{"document_id": "42", "tenant": "acme"}})
	if err != nil || len(runs) != 1 || runs[0].ID != a.Run.ID {
		t.Fatalf("filter by entity returned %d runs, %v", len(runs), err)
	}
	runs, _ = st.RunList(ctx, &store.RunListParams{Entities: map[string]string{"tenant": "acme"}})
	if len(runs) != 2 {
		t.Fatalf("filter by tenant returned %d runs, want 2", len(runs))
	}
}

// Enqueueing a workflow nobody registered, or an input that does not decode
// into the workflow's input type, is refused and creates nothing.
func TestEnqueueRefusesBadInput(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	client, _ := klaxon.NewClient(st, nil)
	_ = client.Register(echo)
	ctx := context.Background()

	_, err := client.Enqueue(ctx, "ecoh", []byte(`{}`))
	var unknown *klaxon.UnknownWorkflowError
	if !errors.As(err, &unknown) || unknown.Name != "ecoh" {
		t.Fatalf("unknown workflow: err = %v", err)
	}
	for _, input := range []string{`{"id": 42}`, `{"id": "1", "txet": "typo"}`, `{"id": "1"} {}`, `not json`} {
		_, err := client.Enqueue(ctx, "echo", []byte(input))
		var inputErr *klaxon.InputError
		if !errors.As(err, &inputErr) {
			t.Errorf("input %s: err = %v, want an InputError", input, err)
		}
	}
	runs, _ := st.RunList(ctx, &store.RunListParams{})
	if len(runs) != 0 {
		t.Fatalf("%d runs were created by refused enqueues", len(runs))
	}
}

// A client without the workflow's code can enqueue it once some worker has
// registered it in the store.
func TestEnqueueWorkflowRegisteredByAnotherProcess(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	worker := startClient(t, st, nil, echo)
	producer, _ := klaxon.NewClient(st, nil)
	result, err := producer.Enqueue(context.Background(), "echo", []byte(`{"id": "7", "text": "hi"}`))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := echo.Await(context.Background(), worker, result.Run.ID); err != nil || out != "hi" {
		t.Fatalf("output %q, %v", out, err)
	}
}
