package http_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/oklog/ulid/v2"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// TestRunFamilyTree reads a parent's two dead children through the typed
// client, capped at one listed, and refuses a depth out of range.
func TestRunFamilyTree(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	ctx := context.Background()
	parent := f.enqueueRun("greet", `"ada"`, nil)
	var children []string
	for seq := 1; seq <= 2; seq++ {
		child, _, err := f.store.RunEnqueue(ctx, &store.RunEnqueueParams{
			ID: ulid.Make().String(), Workflow: "charge", WorkflowVersion: 1, Input: []byte(`1`),
			IdempotencyKey: store.ChildKeyPrefix + parent + "/" + string(rune('0'+seq)), ParentID: parent, ParentSeq: seq,
		})
		if err != nil {
			t.Fatal(err)
		}
		children = append(children, child.ID)
	}
	for _, id := range children {
		f.awaitStatus(id, klaxontype.RunStatusDead)
	}
	reader := f.client(readSecret)
	tree, err := reader.RunTree(ctx, parent, klaxon.TreeLimits{Listed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if b := tree.Children; tree.Parent != nil || b.Count != 2 || b.Statuses[klaxontype.RunStatusDead] != 2 || len(b.Runs) != 1 || b.Runs[0].Run.ChildID != children[0] || b.More != 1 {
		t.Fatalf("tree = %+v, children %+v; want two dead children, the first listed and one more", tree, tree.Children)
	}
	up, err := reader.RunTree(ctx, children[1], klaxon.TreeLimits{})
	if err != nil || up.Parent == nil || up.Parent.ParentID != parent || up.Parent.ParentSeq != 2 || up.Children.Count != 0 {
		t.Fatalf("child's tree = %+v, %v; want its parent, step 2", up, err)
	}
	f.do(http.MethodGet, "/api/v1/runs/"+parent+"/family?depth=7", readSecret, "").wantProblem(t, http.StatusUnprocessableEntity, "depth")
	if _, err := reader.RunTree(ctx, ulid.Make().String(), klaxon.TreeLimits{}); !errors.Is(err, klaxontype.ErrNotFound) {
		t.Errorf("tree of an unknown run: %v; want not found", err)
	}
}
