package klaxon_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/postgres"
	"github.com/klaxonhq/klaxon/postgres/pgtest"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

// eachStore runs a test against SQLite and, when KLAXON_TEST_POSTGRES_URL
// is set, against a PostgreSQL schema of its own.
func eachStore(t *testing.T, test func(t *testing.T, st store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "klaxon.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		test(t, st)
	})
	t.Run("postgres", func(t *testing.T) {
		if os.Getenv("KLAXON_TEST_POSTGRES_URL") == "" {
			t.Skip("KLAXON_TEST_POSTGRES_URL is not set")
		}
		t.Parallel()
		st, err := postgres.Open(context.Background(), pgtest.SchemaURL(t, "klaxon_child_"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		test(t, st)
	})
}

func startClientOn(t *testing.T, st store.Store, workflows ...klaxon.Registrable) *klaxon.Client {
	t.Helper()
	client, err := klaxon.NewClient(st, fastConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Register(workflows...); err != nil {
		t.Fatal(err)
	}
	if err := client.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.Stop(ctx)
	})
	return client
}

// counter counts how often each child input was executed.
type counter struct {
	mu   sync.Mutex
	seen map[int]int
}

func (c *counter) add(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[int]int{}
	}
	c.seen[n]++
}

func TestChildFanOutAndFanIn(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st store.Store) {
		var runs counter
		child := klaxon.NewWorkflow("double", func(ctx context.Context, n int) (int, error) {
			return klaxon.Step(ctx, "double", func(ctx context.Context) (int, error) { runs.add(n); return 2 * n, nil })
		})
		parent := klaxon.NewWorkflow("fan", func(ctx context.Context, n int) (int, error) {
			children := make([]*klaxon.ChildRun[int], n)
			for i := range children {
				children[i] = klaxon.StartChild[int](ctx, "double", "double", i)
			}
			outputs, err := klaxon.AwaitChildren(ctx, children...)
			if err != nil {
				return 0, err
			}
			sum := 0
			for i, out := range outputs {
				if out != 2*i {
					return 0, klaxon.Permanent(errors.New("outputs out of order"))
				}
				sum += out
			}
			one, err := klaxon.Child[int](ctx, "one-more", "double", 100)
			return sum + one, err
		})
		client := startClientOn(t, st, child, parent)
		id := enqueue(t, client, "fan", "20")
		run := awaitRun(t, client, id)
		if run.Status != klaxontype.RunStatusCompleted || string(run.Output) != "580" {
			t.Fatalf("parent ended %s with %s (%+v); want completed with 580", run.Status, run.Output, run.Failure)
		}
		for n, times := range runs.seen {
			if times != 1 {
				t.Errorf("child %d ran %d times", n, times)
			}
		}
		if len(runs.seen) != 21 {
			t.Errorf("%d children ran, want 21", len(runs.seen))
		}
		family, err := client.RunFamily(context.Background(), id)
		if err != nil || family.Parent != nil || len(family.Children) != 21 {
			t.Fatalf("family = %+v, %v; want 21 children and no parent", family, err)
		}
		for i, c := range family.Children {
			if c.Status != klaxontype.RunStatusCompleted || c.Workflow != "double" || c.ParentID != id {
				t.Errorf("child %d = %+v", i, c)
			}
		}
		childFamily, err := client.RunFamily(context.Background(), family.Children[0].ChildID)
		if err != nil || childFamily.Parent == nil || childFamily.Parent.ParentID != id || childFamily.Parent.Workflow != "fan" {
			t.Fatalf("a child's family = %+v, %v; want its parent %s", childFamily, err, id)
		}
		if run.Attempt != 1 {
			t.Errorf("the parent counts %d attempts; waking is not an attempt", run.Attempt)
		}
	})
}

func TestChildDeadFailsParentAndResolvingItResumesTheParent(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st store.Store) {
		child := klaxon.NewWorkflow("refuse", func(ctx context.Context, n int) (int, error) {
			return klaxon.Step(ctx, "decide", func(ctx context.Context) (int, error) {
				return 0, klaxon.Permanent(errors.New("the model refused"))
			})
		})
		parent := klaxon.NewWorkflow("asker", func(ctx context.Context, n int) (int, error) {
			out, err := klaxon.Child[int](ctx, "ask", "refuse", n)
			if err != nil {
				return 0, err
			}
			return out + 1, nil
		})
		client := startClientOn(t, st, child, parent)
		id := enqueue(t, client, "asker", "1")
		run := awaitRun(t, client, id)
		if run.Status != klaxontype.RunStatusDead || run.Failure == nil || run.Failure.Class != klaxontype.ClassPermanent {
			t.Fatalf("parent ended %s (%+v); want dead, permanent", run.Status, run.Failure)
		}
		family, err := client.RunFamily(context.Background(), id)
		if err != nil || len(family.Children) != 1 {
			t.Fatalf("family = %+v, %v", family, err)
		}
		childID := family.Children[0].ChildID
		if !strings.Contains(run.Failure.Reason, childID) || !strings.Contains(run.Failure.Reason, "the model refused") {
			t.Errorf("the parent's reason %q does not name child %s and its reason", run.Failure.Reason, childID)
		}
		entries, err := client.DeadLetters(context.Background(), &klaxon.DeadLetterFilter{RunID: childID})
		if err != nil || len(entries) != 1 {
			t.Fatalf("child entries = %v, %v", entries, err)
		}
		if _, err := client.Resolve(context.Background(), entries[0].ID, "decide", []byte("41"), "tester"); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			run, err = client.Run(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if run.Status == klaxontype.RunStatusCompleted || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if run.Status != klaxontype.RunStatusCompleted || string(run.Output) != "42" {
			t.Fatalf("after the child was resolved the parent is %s with %s; want completed with 42", run.Status, run.Output)
		}
	})
}

func TestChildCancelCascadesFromTheParent(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st store.Store) {
		child := klaxon.NewWorkflow("listener", func(ctx context.Context, n int) (string, error) {
			return klaxon.WaitForSignal[string](ctx, "go")
		})
		parent := klaxon.NewWorkflow("boss", func(ctx context.Context, n int) (string, error) {
			a := klaxon.StartChild[string](ctx, "a", "listener", 1)
			b := klaxon.StartChild[string](ctx, "b", "listener", 2)
			outs, err := klaxon.AwaitChildren(ctx, a, b)
			if err != nil {
				return "", err
			}
			return outs[0] + outs[1], nil
		})
		client := startClientOn(t, st, child, parent)
		id := enqueue(t, client, "boss", "1")
		awaitStatus(t, client, id, klaxontype.RunStatusWaiting)
		var family *klaxontype.RunFamily
		deadline := time.Now().Add(10 * time.Second)
		for {
			var err error
			if family, err = client.RunFamily(context.Background(), id); err != nil {
				t.Fatal(err)
			}
			if len(family.Children) == 2 || time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		for _, c := range family.Children {
			awaitStatus(t, client, c.ChildID, klaxontype.RunStatusWaiting)
		}
		if _, err := client.Cancel(context.Background(), id, "not needed", "tester"); err != nil {
			t.Fatal(err)
		}
		family, err := client.RunFamily(context.Background(), id)
		if err != nil || len(family.Children) != 2 {
			t.Fatalf("family = %+v, %v", family, err)
		}
		for _, c := range family.Children {
			if c.Status != klaxontype.RunStatusCancelled {
				t.Errorf("child %s is %s after its parent was cancelled", c.ChildID, c.Status)
			}
		}
		if run := awaitRun(t, client, id); run.Status != klaxontype.RunStatusCancelled {
			t.Errorf("parent is %s", run.Status)
		}
	})
}

func TestChildOfAnUnknownWorkflowIsRefusedAndStartsNothing(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st store.Store) {
		parent := klaxon.NewWorkflow("lost", func(ctx context.Context, n int) (int, error) {
			return klaxon.Child[int](ctx, "ghost", "no-such-workflow", n)
		})
		client := startClientOn(t, st, parent)
		id := enqueue(t, client, "lost", "1")
		run := awaitRun(t, client, id)
		if run.Status != klaxontype.RunStatusDead || run.Failure.Class != klaxontype.ClassPermanent ||
			!strings.Contains(run.Failure.Reason, `"no-such-workflow"`) {
			t.Fatalf("parent ended %s (%+v); want dead, permanent, naming the workflow", run.Status, run.Failure)
		}
		family, err := client.RunFamily(context.Background(), id)
		if err != nil || len(family.Children) != 0 {
			t.Fatalf("family = %+v, %v; want no child", family, err)
		}
		runs, err := st.RunList(context.Background(), &store.RunListParams{Workflow: "no-such-workflow"})
		if err != nil || len(runs) != 0 {
			t.Fatalf("runs of the unknown workflow = %v, %v", runs, err)
		}
	})
}
