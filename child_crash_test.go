package klaxon_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

const childRunsWorkerRole = "child-runs-worker"

const crashChildren = 20

// crashFamily is a parent that starts its children one after another, with
// a pause after each, then awaits them all; each child takes a while.
func crashFamily() (*klaxon.Workflow[int, int], *klaxon.Workflow[int, int]) {
	child := klaxon.NewWorkflow("crash-child", func(ctx context.Context, n int) (int, error) {
		return klaxon.Step(ctx, "work", func(ctx context.Context) (int, error) {
			time.Sleep(150 * time.Millisecond)
			return n, nil
		})
	})
	parent := klaxon.NewWorkflow("crash-parent", func(ctx context.Context, n int) (int, error) {
		children := make([]*klaxon.ChildRun[int], n)
		for i := range children {
			children[i] = klaxon.StartChild[int](ctx, "child", "crash-child", i)
			if _, err := children[i].RunID(); err != nil {
				return 0, err
			}
			if _, err := klaxon.Step(ctx, "pause", func(ctx context.Context) (int, error) {
				time.Sleep(40 * time.Millisecond)
				return i, nil
			}); err != nil {
				return 0, err
			}
		}
		outputs, err := klaxon.AwaitChildren(ctx, children...)
		sum := 0
		for _, out := range outputs {
			sum += out
		}
		return sum, err
	})
	return parent, child
}

// runChildRunsWorker works the crash family until the parent is terminal.
func runChildRunsWorker() int {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, os.Getenv("KLAXON_TEST_DB"), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer st.Close()
	client, err := klaxon.NewClient(st, &klaxon.Config{Concurrency: 8, LeaseDuration: time.Second, PollInterval: 20 * time.Millisecond})
	parent, child := crashFamily()
	if err == nil {
		err = client.Register(parent, child)
	}
	if err == nil {
		err = client.Start(ctx)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for {
		counts, err := st.RunCountByStatus(ctx, &store.RunCountByStatusParams{Workflow: "crash-parent"})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if counts[klaxontype.RunStatusCompleted]+counts[klaxontype.RunStatusDead] == sumCounts(counts) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = client.Stop(ctx)
	return 0
}

// TestChildRunsSurviveTheParentsWorkerSIGKILL kills the worker of a parent
// while it is starting its children and they run. A new worker takes the
// parent over: its step log gives it the children started already, whose
// enqueue keys find them, so no child is started twice, and the parent ends
// with every child's output.
func TestChildRunsSurviveTheParentsWorkerSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test starts and kills worker processes; skipped in -short mode")
	}
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "children.db")
	ctx := context.Background()
	st, err := sqlite.Open(ctx, dbPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	producer, _ := klaxon.NewClient(st, nil)
	parent, child := crashFamily()
	_ = producer.Register(parent, child)
	result, err := parent.Enqueue(ctx, producer, crashChildren)
	if err != nil {
		t.Fatal(err)
	}
	id := result.Run.ID

	first := startChild(t, childRunsWorkerRole, dbPath, filepath.Join(dir, "sink"))
	deadline := time.Now().Add(20 * time.Second)
	for {
		family, err := st.RunFamily(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		running := 0
		for _, c := range family.Children {
			if c.Status == klaxontype.RunStatusRunning {
				running++
			}
		}
		if len(family.Children) >= 6 && running > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the parent never had children running: %+v", family.Children)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.cmd.Wait()
	if run, _ := st.RunGet(ctx, id); run.Status != klaxontype.RunStatusRunning {
		t.Fatalf("the parent was %s when its worker was killed; the test wants it mid fan-out", run.Status)
	}

	second := startChild(t, childRunsWorkerRole, dbPath, filepath.Join(dir, "sink"))
	hung := time.AfterFunc(60*time.Second, func() { _ = second.cmd.Process.Kill() })
	defer hung.Stop()
	for range second.lines {
	}
	if err := second.cmd.Wait(); err != nil {
		t.Fatalf("second worker: %v", err)
	}

	run, err := st.RunGet(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if want := crashChildren * (crashChildren - 1) / 2; run.Status != klaxontype.RunStatusCompleted || string(run.Output) != fmt.Sprint(want) {
		t.Fatalf("parent ended %s with %s (%+v); want completed with %d", run.Status, run.Output, run.Failure, want)
	}
	children, err := st.RunList(ctx, &store.RunListParams{Workflow: "crash-child", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(children) != crashChildren {
		t.Errorf("%d runs of the child workflow exist; want %d: a child was started twice", len(children), crashChildren)
	}
	family, err := st.RunFamily(ctx, id)
	if err != nil || len(family.Children) != crashChildren {
		t.Fatalf("family has %d children (%v); want %d", len(family.Children), err, crashChildren)
	}
	for _, c := range family.Children {
		if c.Status != klaxontype.RunStatusCompleted {
			t.Errorf("child %s is %s", c.ChildID, c.Status)
		}
	}
}
