package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// testWorkers checks the workers registry: a registration replaces the
// worker's earlier one, a heartbeat moves only its last-seen time, and the
// list puts the most recently seen first.
func testWorkers(t *testing.T, h *harness) {
	t.Run("RegisterAndList", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		before := time.Now().Add(-time.Second)
		f.registerWorker(&store.WorkerRegisterParams{
			ID: "py-1", Language: "python", SDKVersion: "0.1.0", Runtime: "CPython 3.11.2",
			Workflows: []string{"summarize", "classify", "summarize"},
		})
		after := time.Now().Add(time.Second)
		workers := f.workers(&store.WorkerListParams{})
		if len(workers) != 1 {
			t.Fatalf("listed %d workers; want 1", len(workers))
		}
		w := workers[0]
		if w.ID != "py-1" || w.Language != "python" || w.SDKVersion != "0.1.0" || w.Runtime != "CPython 3.11.2" {
			t.Errorf("worker = %+v; want py-1, python, 0.1.0, CPython 3.11.2", w)
		}
		if !slices.Equal(w.Workflows, []string{"classify", "summarize"}) {
			t.Errorf("workflows = %q; want them sorted, each once", w.Workflows)
		}
		if w.RegisteredAt.Before(before) || w.RegisteredAt.After(after) || !w.LastSeenAt.Equal(w.RegisteredAt) {
			t.Errorf("registered at %v, last seen at %v; want both the registration's time", w.RegisteredAt, w.LastSeenAt)
		}
	})

	t.Run("RegisterReplaces", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		f.registerWorker(&store.WorkerRegisterParams{ID: "ts-1", Language: "typescript", SDKVersion: "0.1.0", Workflows: []string{"a", "b"}})
		f.registerWorker(&store.WorkerRegisterParams{ID: "ts-1", Language: "typescript", SDKVersion: "0.2.0", Runtime: "node v22.1.0", Workflows: []string{"c"}})
		workers := f.workers(&store.WorkerListParams{})
		if len(workers) != 1 {
			t.Fatalf("listed %d workers; want the one, registered twice", len(workers))
		}
		if w := workers[0]; w.SDKVersion != "0.2.0" || w.Runtime != "node v22.1.0" || !slices.Equal(w.Workflows, []string{"c"}) {
			t.Errorf("worker = %+v; want the second registration", w)
		}
	})

	t.Run("NoWorkflows", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		f.registerWorker(&store.WorkerRegisterParams{ID: "idle"})
		workers := f.workers(&store.WorkerListParams{})
		if len(workers) != 1 || workers[0].Workflows == nil || len(workers[0].Workflows) != 0 {
			t.Fatalf("workers = %+v; want one with an empty, non-nil list of workflows", workers)
		}
	})

	t.Run("SeenOrdersTheList", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		for _, id := range []string{"w-1", "w-2", "w-3"} {
			f.registerWorker(&store.WorkerRegisterParams{ID: id, Language: "go"})
			time.Sleep(2 * time.Millisecond)
		}
		if got := workerIDs(f.workers(&store.WorkerListParams{})); !slices.Equal(got, []string{"w-3", "w-2", "w-1"}) {
			t.Fatalf("listed %q; want the latest registered first", got)
		}
		registered := f.workers(&store.WorkerListParams{})[2].RegisteredAt
		time.Sleep(2 * time.Millisecond)
		if err := f.store.WorkerSeen(f.ctx, &store.WorkerSeenParams{ID: "w-1"}); err != nil {
			t.Fatalf("WorkerSeen: %v", err)
		}
		workers := f.workers(&store.WorkerListParams{})
		if got := workerIDs(workers); !slices.Equal(got, []string{"w-1", "w-3", "w-2"}) {
			t.Fatalf("listed %q; want the one just seen first", got)
		}
		if !workers[0].LastSeenAt.After(registered) || !workers[0].RegisteredAt.Equal(registered) {
			t.Errorf("after a heartbeat: registered at %v, last seen at %v; want the registration kept and last seen later",
				workers[0].RegisteredAt, workers[0].LastSeenAt)
		}
		if got := workerIDs(f.workers(&store.WorkerListParams{Limit: 2})); !slices.Equal(got, []string{"w-1", "w-3"}) {
			t.Errorf("listed %q with a limit of 2; want the two most recently seen", got)
		}
	})

	t.Run("SeenUnknownIsNotAnError", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		if err := f.store.WorkerSeen(f.ctx, &store.WorkerSeenParams{ID: "never-registered"}); err != nil {
			t.Fatalf("WorkerSeen of an unknown worker: %v; want nil", err)
		}
		if workers := f.workers(&store.WorkerListParams{}); len(workers) != 0 {
			t.Errorf("listed %d workers; a heartbeat registers nobody", len(workers))
		}
	})

	t.Run("Refusals", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		for name, params := range map[string]*store.WorkerRegisterParams{
			"no id":             {Language: "python"},
			"NUL in the id":     {ID: "a\x00b"},
			"invalid UTF-8":     {ID: "w", Runtime: "CPython \xff"},
			"long language":     {ID: "w", Language: strings.Repeat("x", store.MaxWorkerLabelLength+1)},
			"long runtime":      {ID: "w", Runtime: strings.Repeat("x", store.MaxWorkerRuntimeLength+1)},
			"NUL in a workflow": {ID: "w", Workflows: []string{"a\x00"}},
		} {
			if err := f.store.WorkerRegister(f.ctx, params); !errors.Is(err, klaxontype.ErrInvalid) {
				t.Errorf("%s: WorkerRegister = %v; want ErrInvalid", name, err)
			}
		}
		if err := f.store.WorkerSeen(f.ctx, &store.WorkerSeenParams{}); !errors.Is(err, klaxontype.ErrInvalid) {
			t.Errorf("WorkerSeen without an ID = %v; want ErrInvalid", err)
		}
		if _, err := f.store.WorkerList(f.ctx, &store.WorkerListParams{Limit: -1}); !errors.Is(err, klaxontype.ErrInvalid) {
			t.Errorf("WorkerList with a negative limit = %v; want ErrInvalid", err)
		}
		if workers := f.workers(&store.WorkerListParams{}); len(workers) != 0 {
			t.Errorf("listed %d workers after refusals; a refused registration records nothing", len(workers))
		}
	})
}

// registerWorker records a worker and fails the test if the store refuses.
func (f *fixture) registerWorker(params *store.WorkerRegisterParams) {
	f.t.Helper()
	if err := f.store.WorkerRegister(f.ctx, params); err != nil {
		f.t.Fatalf("WorkerRegister(%s): %v", params.ID, err)
	}
}

// workers lists the registry and fails the test on an error.
func (f *fixture) workers(params *store.WorkerListParams) []*klaxontype.Worker {
	f.t.Helper()
	workers, err := f.store.WorkerList(f.ctx, params)
	if err != nil {
		f.t.Fatalf("WorkerList: %v", err)
	}
	return workers
}

func workerIDs(workers []*klaxontype.Worker) []string {
	ids := make([]string, len(workers))
	for i, w := range workers {
		ids[i] = w.ID
	}
	return ids
}
