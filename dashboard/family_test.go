package dashboard_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
)

// TestRunPageShowsTheFamilyTree shows a parent that fanned out to 60
// children: their counts by status, a list capped at 20 with the dead ones in
// it and "and 40 more", a child's own children nested under it, and on a
// grandchild's page the link back to its parent.
func TestRunPageShowsTheFamilyTree(t *testing.T) {
	needChromium(t)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "klaxon.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	// "fan" starts one "mid", which starts two leaves, then 60 leaves, of
	// which 6 die (those numbered 3 modulo 10); a worker of its own runs
	// them and stops before the site's starts.
	leaf := klaxon.NewWorkflow("leaf", func(ctx context.Context, n int) (int, error) {
		return klaxon.Step(ctx, "work", func(context.Context) (int, error) {
			if n%10 == 3 {
				return 0, klaxon.Permanent(fmt.Errorf("leaf %d refuses", n))
			}
			return n, nil
		})
	})
	mid := klaxon.NewWorkflow("mid", func(ctx context.Context, _ int) (int, error) {
		_, err := klaxon.AwaitChildren(ctx, klaxon.StartChild[int](ctx, "first", "leaf", 1001), klaxon.StartChild[int](ctx, "second", "leaf", 1002))
		return 0, err
	})
	fan := klaxon.NewWorkflow("fan", func(ctx context.Context, _ int) (int, error) {
		klaxon.StartChild[int](ctx, "mid", "mid", 0)
		children := make([]*klaxon.ChildRun[int], 60)
		for i := range children {
			children[i] = klaxon.StartChild[int](ctx, fmt.Sprintf("leaf-%d", i), "leaf", i)
		}
		_, err := klaxon.AwaitChildren(ctx, children...)
		return 0, err
	})
	worker, err := klaxon.NewClient(st, &klaxon.Config{PollInterval: 20 * time.Millisecond, ShutdownGrace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := worker.Register(leaf, mid, fan); err != nil {
		t.Fatal(err)
	}
	if err := worker.Start(ctx); err != nil {
		t.Fatal(err)
	}
	enqueued, err := worker.Enqueue(ctx, "fan", []byte("0"))
	if err != nil {
		t.Fatal(err)
	}
	parentID := enqueued.Run.ID
	var tree *klaxontype.RunTree
	deadline := time.Now().Add(15 * time.Second)
	for {
		if tree, err = worker.RunTree(ctx, parentID, klaxon.TreeLimits{}); err != nil {
			t.Fatal(err)
		}
		ended := tree.Children.Statuses[klaxontype.RunStatusCompleted] + tree.Children.Statuses[klaxontype.RunStatusDead]
		if ended == 61 && tree.Children.Runs[0].Children != nil && tree.Children.Runs[0].Children.Statuses[klaxontype.RunStatusCompleted] == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 15 s %d of 61 children ended: %v", ended, tree.Children.Statuses)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := worker.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	midID := tree.Children.Runs[0].Run.ChildID
	grandchildID := tree.Children.Runs[0].Children.Runs[0].Run.ChildID

	s := newSite(t, st)
	tab := s.browser()
	s.signIn(tab, readSecret)
	s.open(tab, "#/runs/"+parentID)
	s.waitElement(tab, "#run-children")
	if got := s.text(tab, "#run-children .family-counts"); !strings.Contains(got, "61 children") {
		t.Errorf("the counts say %q; want 61 children", got)
	}
	for status, want := range map[string]string{"completed": "55", "dead": "6"} {
		if got := s.text(tab, fmt.Sprintf(`#run-children > .family-counts [data-status=%q]`, status)); !strings.Contains(got, want) {
			t.Errorf("the %s count says %q; want %s", status, got, want)
		}
	}
	// 20 listed, the six dead among them, and the rest counted.
	if n := s.count(tab, "#run-children > ul.family > li"); n != 20 {
		t.Errorf("%d children listed; want 20", n)
	}
	if n := s.count(tab, `#run-children > ul.family > li[data-status="dead"]`); n != 6 {
		t.Errorf("%d dead children listed; want all 6", n)
	}
	if got := s.text(tab, "#run-children > .family-more"); !strings.Contains(got, "and 41 more") {
		t.Errorf("under the list: %q; want and 41 more", got)
	}
	// mid's two children nested under it, each a link to its page.
	nested := fmt.Sprintf(`#run-children li[data-run=%q] > ul.family > li`, midID)
	if n := s.count(tab, nested+`[data-status="completed"]`); n != 2 {
		t.Errorf("%d completed children nested under mid; want 2", n)
	}
	if n := s.count(tab, fmt.Sprintf(`%s a[href="#/runs/%s"]`, nested, grandchildID)); n != 1 {
		t.Errorf("no link to grandchild %s under mid", grandchildID)
	}
	s.screenshot(tab, "run-family")

	// The grandchild's page links to its parent.
	s.do(tab, "open a grandchild", chromedp.Click(chromedp.CSS(fmt.Sprintf(`%s a[href="#/runs/%s"]`, nested, grandchildID))))
	s.waitText(tab, "#run-parent", midID)
	if n := s.count(tab, fmt.Sprintf(`#run-parent a[href="#/runs/%s"]`, midID)); n != 1 {
		t.Error("the grandchild's page has no link to its parent")
	}
	if got := s.text(tab, "#run-parent"); !strings.Contains(got, "mid") || !strings.Contains(got, "completed") || !strings.Contains(got, "step 1") {
		t.Errorf("the parent line says %q; want mid, its status and the step that started it", got)
	}
	if s.count(tab, "#run-children") != 0 {
		t.Error("a childless run shows children")
	}
}
