package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// testChildren checks child runs: the link written with the child's enqueue,
// found again by its key; a child's completion satisfying its waiting
// parent's wait and waking the parent once the last awaited child ended; and
// a parent's cancel cancelling its open children.
func testChildren(t *testing.T, h *harness) {
	t.Run("EnqueueLinksTheChildOnce", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		parent := f.enqueue(nil)
		key := store.ChildKeyPrefix + parent.ID + "/1/c"
		child := f.enqueue(&store.RunEnqueueParams{IdempotencyKey: key, ParentID: parent.ID, ParentSeq: 1})
		again, created, err := f.store.RunEnqueue(f.ctx, &store.RunEnqueueParams{
			ID: newRunID(), Workflow: testWorkflow, WorkflowVersion: 1, Input: []byte(`1`),
			IdempotencyKey: key, ParentID: parent.ID, ParentSeq: 1,
		})
		if err != nil || created || again.ID != child.ID {
			t.Fatalf("a second enqueue of the child gave %v, created %v, %v; want child %s found", again, created, err, child.ID)
		}
		family, err := f.store.RunFamily(f.ctx, parent.ID)
		if err != nil || family.Parent != nil || len(family.Children) != 1 {
			t.Fatalf("parent's family = %+v, %v; want one child", family, err)
		}
		if c := family.Children[0]; c.ChildID != child.ID || c.ParentSeq != 1 || c.Status != klaxontype.RunStatusPending || c.Workflow != testWorkflow {
			t.Errorf("child link = %+v", c)
		}
		family, err = f.store.RunFamily(f.ctx, child.ID)
		if err != nil || family.Parent == nil || family.Parent.ParentID != parent.ID || len(family.Children) != 0 {
			t.Fatalf("child's family = %+v, %v; want its parent", family, err)
		}
		_, err = f.store.RunFamily(f.ctx, newRunID())
		checkErrorIs(t, "family of an unknown run", err, klaxontype.ErrNotFound)

		// A child without a key derived from its parent's step is refused.
		_, _, err = f.store.RunEnqueue(f.ctx, &store.RunEnqueueParams{
			ID: newRunID(), Workflow: testWorkflow, WorkflowVersion: 1, Input: []byte(`1`), ParentID: parent.ID, ParentSeq: 2,
		})
		checkErrorIs(t, "a child without its key", err, klaxontype.ErrInvalid)
		if family, _ := f.store.RunFamily(f.ctx, parent.ID); len(family.Children) != 1 {
			t.Errorf("a refused child was linked: %+v", family.Children)
		}

		// A child's own children are counted on its link, so a family tree
		// knows which children to open without reading each.
		for seq := 1; seq <= 2; seq++ {
			f.enqueue(&store.RunEnqueueParams{IdempotencyKey: fmt.Sprintf("%s%s/%d/g", store.ChildKeyPrefix, child.ID, seq), ParentID: child.ID, ParentSeq: seq})
		}
		family, err = f.store.RunFamily(f.ctx, parent.ID)
		if err != nil || len(family.Children) != 1 || family.Children[0].ChildCount != 2 {
			t.Fatalf("parent's family after two grandchildren = %+v, %v; want its child counting 2", family, err)
		}
		family, err = f.store.RunFamily(f.ctx, child.ID)
		if err != nil || family.Parent == nil || family.Parent.ChildCount != 0 || len(family.Children) != 2 || family.Children[0].ChildCount != 0 {
			t.Fatalf("child's family = %+v, %v; want its parent uncounted and two childless children", family, err)
		}
	})

	t.Run("ChildCompletionSatisfiesTheParentAndWakesItOnTheLast", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		parent := f.claimRun(f.enqueue(nil), holderA, longLease).Run
		children := make([]*klaxontype.Run, 2)
		for i := range children {
			children[i] = f.enqueue(&store.RunEnqueueParams{
				IdempotencyKey: store.ChildKeyPrefix + parent.ID + "/" + string(rune('1'+i)), ParentID: parent.ID, ParentSeq: i + 1,
			})
		}
		deadline := time.Now().Add(time.Hour)
		f.wait(parent, holderA,
			store.WaitParams{Seq: 3, Name: "a", Kind: klaxontype.WaitChild, IdempotencyKey: "k3", Deadline: deadline, ChildRunID: children[0].ID},
			store.WaitParams{Seq: 4, Name: "b", Kind: klaxontype.WaitChild, IdempotencyKey: "k4", Deadline: deadline, ChildRunID: children[1].ID})
		complete := func(child *klaxontype.Run, output string) {
			t.Helper()
			held := f.claimRun(child, holderB, longLease).Run
			if err := f.store.RunComplete(f.ctx, &store.RunCompleteParams{Lease: leaseOf(held), Holder: holderB, Output: []byte(output), Child: true}); err != nil {
				t.Fatal(err)
			}
		}
		complete(children[0], `"first"`)
		if wait := f.waitAt(parent.ID, 3); wait.State != klaxontype.WaitSatisfied || wait.ChildRunID != children[0].ID {
			t.Fatalf("wait a = %+v; want satisfied by its child", wait)
		}
		steps := f.steps(parent.ID)
		if len(steps) != 1 || steps[0].Seq != 3 || string(steps[0].Output) != `"first"` || steps[0].IdempotencyKey != "k3" {
			t.Fatalf("parent's steps = %+v; want the first child's output at 3", steps)
		}
		if run := f.get(parent.ID); run.Status != klaxontype.RunStatusWaiting || run.AvailableAt.Before(deadline.Add(-time.Minute)) {
			t.Fatalf("parent is %s, available at %s; want waiting on its other child", run.Status, run.AvailableAt)
		}
		complete(children[1], `"second"`)
		if wait := f.waitAt(parent.ID, 4); wait.State != klaxontype.WaitSatisfied {
			t.Fatalf("wait b = %+v; want satisfied", wait)
		}
		resumed := f.claimRun(parent, holderA, longLease).Run
		if resumed.Attempt != parent.Attempt {
			t.Errorf("woken at attempt %d; want %d", resumed.Attempt, parent.Attempt)
		}
	})

	t.Run("ChildThatEndsBeforeItsParentWaitsMakesTheParentClaimable", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		parent := f.claimRun(f.enqueue(nil), holderA, longLease).Run
		child := f.enqueue(&store.RunEnqueueParams{IdempotencyKey: store.ChildKeyPrefix + parent.ID + "/1", ParentID: parent.ID, ParentSeq: 1})
		if _, err := f.store.RunCancel(f.ctx, &store.RunCancelParams{ID: child.ID, Actor: "tester"}); err != nil {
			t.Fatal(err)
		}
		waiting := f.wait(parent, holderA, store.WaitParams{Seq: 2, Name: "c", Kind: klaxontype.WaitChild, IdempotencyKey: "k2",
			Deadline: time.Now().Add(time.Hour), ChildRunID: child.ID})
		if waiting.Until.After(time.Now().Add(time.Minute)) {
			t.Fatalf("the parent of an ended child waits until %s; want claimable at once", waiting.Until)
		}
		f.claimRun(parent, holderB, longLease)
	})

	t.Run("CancelCascadesToOpenChildren", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		parent := f.enqueue(nil)
		child := f.enqueue(&store.RunEnqueueParams{IdempotencyKey: store.ChildKeyPrefix + parent.ID + "/1", ParentID: parent.ID, ParentSeq: 1})
		grandchild := f.enqueue(&store.RunEnqueueParams{IdempotencyKey: store.ChildKeyPrefix + child.ID + "/1", ParentID: child.ID, ParentSeq: 1})
		if _, err := f.store.RunCancel(f.ctx, &store.RunCancelParams{ID: parent.ID, Actor: "tester", Reason: "stop"}); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{child.ID, grandchild.ID} {
			if run := f.get(id); run.Status != klaxontype.RunStatusCancelled {
				t.Errorf("descendant %s is %s after its ancestor's cancel", id, run.Status)
			}
		}
	})
}
