package klaxon_test

import (
	"context"
	"errors"
	"testing"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// EnqueueAs needs no workflow code: a workflow in the store is enough, the
// input only has to be JSON, and the actor is recorded on the enqueue.
func TestEnqueueAsRecordsTheActor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	if err := st.WorkflowRegister(ctx, &store.WorkflowRegisterParams{Name: "elsewhere", Version: 3}); err != nil {
		t.Fatal(err)
	}
	client, err := klaxon.NewClient(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	result, err := client.EnqueueAs(ctx, "ci-token", "elsewhere", []byte(`{"any":["json"]}`), klaxon.WithIdempotencyKey("k"))
	if err != nil {
		t.Fatal(err)
	}
	if result.Run.WorkflowVersion != 3 || result.Deduplicated {
		t.Fatalf("run %+v", result)
	}
	events, err := st.EventList(ctx, result.Run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if events[0].Type != klaxontype.EventRunEnqueued || events[0].Actor != "ci-token" {
		t.Fatalf("first event %+v", events[0])
	}
	again, err := client.EnqueueAs(ctx, "someone-else", "elsewhere", []byte(`{}`), klaxon.WithIdempotencyKey("k"))
	if err != nil || !again.Deduplicated || again.Run.ID != result.Run.ID {
		t.Fatalf("repeat: %+v, %v", again, err)
	}
	var inputErr *klaxon.InputError
	if _, err := client.EnqueueAs(ctx, "ci-token", "elsewhere", []byte(`{nope`)); !errors.As(err, &inputErr) {
		t.Fatalf("input that is not JSON: %v", err)
	}
	var unknown *klaxon.UnknownWorkflowError
	if _, err := client.EnqueueAs(ctx, "ci-token", "elswhere", nil); !errors.As(err, &unknown) {
		t.Fatalf("unknown workflow: %v", err)
	}
}
