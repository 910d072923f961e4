package klaxon_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// An enqueue takes WithPriority, else its workflow's DefaultPriority, which
// is recorded so that a process without the workflow's code applies it too;
// a priority out of range is refused naming the bound, and nothing is written.
func TestPriorityEnqueueOptionsAndDefaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	urgent := klaxon.NewWorkflow("urgent-echo", func(ctx context.Context, doc document) (string, error) {
		return doc.Text, nil
	}, klaxon.DefaultPriority(20))
	client, err := klaxon.NewClient(st, fastConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Register(urgent); err != nil {
		t.Fatal(err)
	}
	defaulted, err := urgent.Enqueue(ctx, client, document{ID: "1"})
	if err != nil || defaulted.Run.Priority != 20 {
		t.Fatalf("enqueue without a priority: %+v, %v; want the workflow's default 20", defaulted, err)
	}
	chosen, err := urgent.Enqueue(ctx, client, document{ID: "2"}, klaxon.WithPriority(-5))
	if err != nil || chosen.Run.Priority != -5 {
		t.Fatalf("enqueue WithPriority(-5): %+v, %v", chosen, err)
	}
	for _, priority := range []int{101, -101} {
		_, err := urgent.Enqueue(ctx, client, document{ID: "3"}, klaxon.WithPriority(priority))
		if !errors.Is(err, klaxontype.ErrInvalid) || !strings.Contains(err.Error(), "-100..100") {
			t.Errorf("enqueue WithPriority(%d): %v; want ErrInvalid naming -100..100", priority, err)
		}
	}
	if runs, _ := st.RunList(ctx, &store.RunListParams{}); len(runs) != 2 {
		t.Errorf("%d runs; want the 2 accepted ones", len(runs))
	}

	// Another process, without the code, applies the recorded default once
	// a worker registered it.
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer client.Stop(ctx)
	other, err := klaxon.NewClient(st, fastConfig())
	if err != nil {
		t.Fatal(err)
	}
	remote, err := other.Enqueue(ctx, "urgent-echo", []byte(`{"id": "4"}`))
	if err != nil || remote.Run.Priority != 20 {
		t.Fatalf("enqueue by a client without the code: %+v, %v; want the recorded default 20", remote, err)
	}
}

// A default priority out of range is refused at Register, naming the
// workflow, and registers nothing.
func TestPriorityDefaultOutOfRangeRefused(t *testing.T) {
	t.Parallel()
	client, err := klaxon.NewClient(openStore(t), fastConfig())
	if err != nil {
		t.Fatal(err)
	}
	bad := klaxon.NewWorkflow("too-urgent", func(ctx context.Context, doc document) (string, error) {
		return doc.Text, nil
	}, klaxon.DefaultPriority(500))
	err = client.Register(echo, bad)
	if !errors.Is(err, klaxontype.ErrInvalid) || !strings.Contains(err.Error(), `"too-urgent"`) || !strings.Contains(err.Error(), "-100..100") {
		t.Fatalf("Register: %v; want ErrInvalid naming the workflow and the range", err)
	}
	if err := client.Register(echo); err != nil {
		t.Errorf("echo was registered by the refused Register: %v", err)
	}
}

// A worker with one slot executes a backlog in priority order: the run
// enqueued last at priority 50 goes before the earlier runs of priority 0.
func TestPriorityWorkerTakesHigherFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	var mu sync.Mutex
	var order []string
	ordered := klaxon.NewWorkflow("ordered", func(ctx context.Context, doc document) (string, error) {
		mu.Lock()
		order = append(order, doc.ID)
		mu.Unlock()
		return doc.ID, nil
	})
	config := fastConfig()
	config.Concurrency = 1
	client, err := klaxon.NewClient(st, config)
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Register(ordered); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, priority := range []int{0, 0, -10, 50} {
		result, err := ordered.Enqueue(ctx, client, document{ID: strconv.Itoa(i)}, klaxon.WithPriority(priority))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, result.Run.ID)
	}
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer client.Stop(ctx)
	for _, id := range ids {
		if run := awaitRun(t, client, id); run.Status != klaxontype.RunStatusCompleted {
			t.Fatalf("run %s ended %s", id, run.Status)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"3", "0", "1", "2"}; !slices.Equal(order, want) {
		t.Errorf("executed %v; want %v (priority 50 first, -10 last)", order, want)
	}
}
