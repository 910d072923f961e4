package klaxon_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// familyWorkflows make a family three generations deep: "fan" starts one
// "mid" run, which starts two "leaf" runs, and then `leaves` leaf runs of its
// own, of which every one numbered 3 modulo 10 dies; it awaits them all, so it
// dies of the first dead one.
func familyWorkflows(leaves int) []klaxon.Registrable {
	leaf := klaxon.NewWorkflow("leaf", func(ctx context.Context, n int) (int, error) {
		return klaxon.Step(ctx, "work", func(context.Context) (int, error) {
			if n%10 == 3 {
				return 0, klaxon.Permanent(fmt.Errorf("leaf %d refuses", n))
			}
			return n, nil
		})
	})
	mid := klaxon.NewWorkflow("mid", func(ctx context.Context, n int) (int, error) {
		outputs, err := klaxon.AwaitChildren(ctx,
			klaxon.StartChild[int](ctx, "first", "leaf", 1001), klaxon.StartChild[int](ctx, "second", "leaf", 1002))
		if err != nil {
			return 0, err
		}
		return outputs[0] + outputs[1], nil
	})
	fan := klaxon.NewWorkflow("fan", func(ctx context.Context, n int) (int, error) {
		klaxon.StartChild[int](ctx, "mid", "mid", 0)
		children := make([]*klaxon.ChildRun[int], leaves)
		for i := range children {
			children[i] = klaxon.StartChild[int](ctx, fmt.Sprintf("leaf-%d", i), "leaf", i)
		}
		_, err := klaxon.AwaitChildren(ctx, children...)
		return 0, err
	})
	return []klaxon.Registrable{leaf, mid, fan}
}

// TestRunTreeCountsListsAndNests reads a family of 33 runs as the dashboard
// does: counts by status, the dead children listed before completed ones
// when the list is capped, a grandparent's grandchildren nested, a depth
// limit that leaves a child unopened but counted, and a child's parent.
func TestRunTreeCountsListsAndNests(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	client := startClientOn(t, st, familyWorkflows(30)...)
	id := enqueue(t, client, "fan", "0")
	if run := awaitRun(t, client, id); run.Status != klaxontype.RunStatusDead || run.Failure == nil || run.Failure.Class != klaxontype.ClassPermanent {
		t.Fatalf("fan ended %s (%+v); want dead of its dead leaves", run.Status, run.Failure)
	}
	var tree *klaxontype.RunTree
	var err error
	deadline := time.Now().Add(10 * time.Second)
	for {
		if tree, err = client.RunTree(ctx, id, klaxon.TreeLimits{Listed: 5}); err != nil {
			t.Fatal(err)
		}
		if tree.Children.Statuses[klaxontype.RunStatusCompleted]+tree.Children.Statuses[klaxontype.RunStatusDead] == 31 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	branch := tree.Children
	if tree.Parent != nil || branch.Count != 31 || branch.Statuses[klaxontype.RunStatusDead] != 3 || branch.Statuses[klaxontype.RunStatusCompleted] != 28 {
		t.Fatalf("fan's tree: parent %+v, %d children by status %v; want 31, 3 dead and 28 completed", tree.Parent, branch.Count, branch.Statuses)
	}
	// Five listed: the three dead, then the first completed in start order
	// (mid, then leaf 0), shown in start order; 26 more.
	var listed []string
	for _, node := range branch.Runs {
		listed = append(listed, fmt.Sprintf("%s:%s", node.Run.Workflow, node.Run.Status))
	}
	want := []string{"mid:completed", "leaf:completed", "leaf:dead", "leaf:dead", "leaf:dead"}
	if fmt.Sprint(listed) != fmt.Sprint(want) || branch.More != 26 {
		t.Fatalf("listed %v and %d more; want %v and 26 more", listed, branch.More, want)
	}
	mid := branch.Runs[0]
	if mid.Run.ChildCount != 2 || mid.Children == nil || mid.Children.Count != 2 || len(mid.Children.Runs) != 2 ||
		mid.Children.Statuses[klaxontype.RunStatusCompleted] != 2 || mid.Children.More != 0 {
		t.Fatalf("mid's branch = %+v (link %+v); want its two completed leaves", mid.Children, mid.Run)
	}
	if leaf := branch.Runs[1]; leaf.Children != nil || leaf.Run.ChildCount != 0 {
		t.Errorf("a childless leaf has a branch %+v", leaf.Children)
	}

	// One generation: mid is listed with its count but not opened.
	shallow, err := client.RunTree(ctx, id, klaxon.TreeLimits{Depth: 1})
	if err != nil {
		t.Fatal(err)
	}
	if first := shallow.Children.Runs[0]; first.Run.Workflow != "mid" || first.Children != nil || first.Run.ChildCount != 2 {
		t.Errorf("at depth 1 mid is %+v with branch %+v; want it counted, not opened", first.Run, first.Children)
	}
	if len(shallow.Children.Runs) != 20 || shallow.Children.More != 11 {
		t.Errorf("by default %d listed and %d more; want 20 and 11", len(shallow.Children.Runs), shallow.Children.More)
	}

	// A grandchild sees its parent, mid, and has no children.
	grandchild := mid.Children.Runs[0].Run.ChildID
	up, err := client.RunTree(ctx, grandchild, klaxon.TreeLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if up.Parent == nil || up.Parent.ParentID != mid.Run.ChildID || up.Parent.Workflow != "mid" || up.Children.Count != 0 || len(up.Children.Runs) != 0 {
		t.Errorf("grandchild's tree: parent %+v, children %+v; want mid and none", up.Parent, up.Children)
	}
	if _, err := client.RunTree(ctx, "01ARZ3NDEKTSV4RRFFQ69G5FAV", klaxon.TreeLimits{}); !errors.Is(err, klaxontype.ErrNotFound) {
		t.Errorf("tree of an unknown run: %v; want ErrNotFound", err)
	}
}

// TestRunTreeOpensAtMostAHundredRuns: a parent of 150 children, each with a
// child of its own, all listed; the tree reads the children of the first 99
// (the parent's own read is the hundredth) and leaves the rest counted on
// their links, unopened.
func TestRunTreeOpensAtMostAHundredRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	enqueue := func(parentID string, seq int) string {
		t.Helper()
		params := &store.RunEnqueueParams{ID: ulid.Make().String(), Workflow: "w", WorkflowVersion: 1, Input: []byte(`1`)}
		if parentID != "" {
			params.ParentID, params.ParentSeq = parentID, seq
			params.IdempotencyKey = fmt.Sprintf("%s%s/%d/c", store.ChildKeyPrefix, parentID, seq)
		}
		run, _, err := st.RunEnqueue(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		return run.ID
	}
	parent := enqueue("", 0)
	for seq := 1; seq <= 150; seq++ {
		enqueue(enqueue(parent, seq), 1)
	}
	client, err := klaxon.NewClient(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := client.RunTree(ctx, parent, klaxon.TreeLimits{Listed: klaxon.MaxTreeListed})
	if err != nil {
		t.Fatal(err)
	}
	if len(tree.Children.Runs) != 150 || tree.Children.More != 0 || tree.Children.Statuses[klaxontype.RunStatusPending] != 150 {
		t.Fatalf("listed %d, %d more, by status %v; want all 150 pending", len(tree.Children.Runs), tree.Children.More, tree.Children.Statuses)
	}
	opened := 0
	for i, node := range tree.Children.Runs {
		if node.Run.ChildCount != 1 {
			t.Fatalf("child %d counts %d children; want 1", i, node.Run.ChildCount)
		}
		if node.Children != nil {
			opened++
			if i >= 99 || node.Children.Count != 1 {
				t.Errorf("child %d opened with %+v; want only the first 99, each with its one child", i, node.Children)
			}
		}
	}
	if opened != 99 {
		t.Errorf("%d children opened; want 99", opened)
	}
}
