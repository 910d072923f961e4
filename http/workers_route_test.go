package http_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/protocol"
)

// A worker that registers over the worker protocol is listed with what it
// said of itself, a heartbeat moves its last-seen time, and a read token
// may list the registry while a worker token may not.
func TestWorkersRegistryOverTheAPI(t *testing.T) {
	t.Parallel()
	f := newWorkerFixture(t)
	ctx := context.Background()
	f.post("/register", protocol.RegisterRequest{
		Worker:    protocol.WorkerInfo{ID: "py-7", Language: "python", SDKVersion: "0.1.0", Runtime: "CPython 3.11.2"},
		Workflows: []protocol.HostedWorkflow{{Name: "summarize"}, {Name: "classify"}},
	}, http.StatusOK, nil)

	workers, err := f.client(operateSecret).Workers(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(workers) != 1 {
		t.Fatalf("listed %d workers; want the one registered", len(workers))
	}
	w := workers[0]
	if w.ID != "py-7" || w.Language != "python" || w.SDKVersion != "0.1.0" || w.Runtime != "CPython 3.11.2" ||
		!slices.Equal(w.Workflows, []string{"classify", "summarize"}) {
		t.Fatalf("worker %+v; want py-7, python 0.1.0 on CPython 3.11.2, hosting classify and summarize", w)
	}

	time.Sleep(5 * time.Millisecond)
	f.post("/heartbeat", protocol.HeartbeatRequest{WorkerID: "py-7", Leases: []protocol.HeldLease{}}, http.StatusOK, nil)
	after, err := f.client(adminSecret).Workers(ctx, 10)
	if err != nil || len(after) != 1 {
		t.Fatalf("after a heartbeat: %+v, %v", after, err)
	}
	if !after[0].LastSeenAt.After(w.LastSeenAt) || !after[0].RegisteredAt.Equal(w.RegisteredAt) {
		t.Errorf("after a heartbeat: registered %v, last seen %v; want last seen after %v and the registration kept",
			after[0].RegisteredAt, after[0].LastSeenAt, w.LastSeenAt)
	}

	f.do(http.MethodGet, "/api/v1/workers", workerSecret, "").wantProblem(t, http.StatusForbidden, "scope")
	f.do(http.MethodGet, "/api/v1/workers?limit=-1", adminSecret, "").wantProblem(t, http.StatusUnprocessableEntity, "limit")
}

// A registration whose worker text no store can keep is refused whole: no
// workflow is registered either.
func TestWorkerRegistrationRefusedWhole(t *testing.T) {
	t.Parallel()
	f := newWorkerFixture(t)
	f.post("/register", protocol.RegisterRequest{
		Worker: protocol.WorkerInfo{ID: "py-8", Language: "py\x00thon"}, Workflows: []protocol.HostedWorkflow{{Name: "summarize"}},
	}, http.StatusUnprocessableEntity, nil)
	if workflows, err := f.store.WorkflowList(context.Background()); err != nil || len(workflows) != 0 {
		t.Errorf("workflows after a refused registration: %v, %v; want none", workflows, err)
	}
}
