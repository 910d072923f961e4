package storetest

import (
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

func testRuns(t *testing.T, h *harness) {
	t.Run("EnqueueCreatesPendingRun", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		id := newRunID()
		entities := map[string]string{"document_id": "42", "tenant": "acme"}
		before := time.Now()
		run, created, err := f.store.RunEnqueue(f.ctx, &store.RunEnqueueParams{
			ID: id, Workflow: "summarize", WorkflowVersion: 3, Input: []byte(`{"url": "https://example.com/q3.pdf", "pages": [1, 2]}`),
			Entities: entities, Actor: "api:ci-token",
		})
		after := time.Now()
		if err != nil || !created {
			t.Fatalf("RunEnqueue: created %v, error %v; want a new run", created, err)
		}
		got := f.get(id)
		for _, r := range []struct {
			source string
			run    *klaxontype.Run
		}{{"RunEnqueue", run}, {"RunGet", got}} {
			what := r.source + " run"
			if r.run.ID != id || r.run.Workflow != "summarize" || r.run.WorkflowVersion != 3 {
				t.Errorf("%s is %s of %s version %d; want %s of summarize version 3", what, r.run.ID, r.run.Workflow, r.run.WorkflowVersion, id)
			}
			if r.run.Status != klaxontype.RunStatusPending {
				t.Errorf("%s status %s; want pending", what, r.run.Status)
			}
			checkJSON(t, what+" input", r.run.Input, []byte(`{"url": "https://example.com/q3.pdf", "pages": [1, 2]}`))
			if !maps.Equal(r.run.Entities, entities) {
				t.Errorf("%s entities %v; want %v", what, r.run.Entities, entities)
			}
			if r.run.Attempt != 0 || r.run.Retries != 0 || r.run.Epoch != 0 || r.run.LeaseHolder != "" {
				t.Errorf("%s: attempt %d, retries %d, epoch %d, holder %q; want a run nobody worked yet",
					what, r.run.Attempt, r.run.Retries, r.run.Epoch, r.run.LeaseHolder)
			}
			if r.run.Output != nil || r.run.Failure != nil || r.run.IdempotencyKey != "" {
				t.Errorf("%s: output %q, failure %+v, key %q; want none", what, r.run.Output, r.run.Failure, r.run.IdempotencyKey)
			}
			checkTimeBetween(t, what+" CreatedAt", r.run.CreatedAt, before, after)
			checkTimeBetween(t, what+" AvailableAt", r.run.AvailableAt, before, after)
			if !r.run.StartedAt.IsZero() || !r.run.FinishedAt.IsZero() {
				t.Errorf("%s: started %s, finished %s; want neither", what, r.run.StartedAt, r.run.FinishedAt)
			}
		}

		events := f.events(id)
		if len(events) != 1 {
			t.Fatalf("event log %v; want one run.enqueued event", eventTypes(events))
		}
		checkOneEvent(t, "enqueue", events, klaxontype.EventRunEnqueued)
		checkEvent(t, "enqueue", events[0], klaxontype.Event{RunID: id, Actor: "api:ci-token"})
		checkTimeBetween(t, "run.enqueued time", events[0].At, before, after)
		if attempts := f.attempts(id); len(attempts) != 0 {
			t.Errorf("a new run has %d failed attempts; want none", len(attempts))
		}
		if steps := f.steps(id); len(steps) != 0 {
			t.Errorf("a new run has %d steps; want none", len(steps))
		}
	})

	t.Run("EnqueueDelayed", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		availableAt := time.Now().Add(90 * time.Minute)
		run := f.enqueue(&store.RunEnqueueParams{AvailableAt: availableAt})
		checkTimeNear(t, "AvailableAt", f.get(run.ID).AvailableAt, availableAt, precision)
		if got := f.get(run.ID).Status; got != klaxontype.RunStatusPending {
			t.Errorf("a delayed run is %s; want pending", got)
		}
	})

	t.Run("EnqueueIdempotencyKey", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		first := f.enqueue(&store.RunEnqueueParams{
			IdempotencyKey: "invoice-7", Input: []byte(`{"n": 1}`), Entities: map[string]string{"invoice": "7"},
		})
		if first.IdempotencyKey != "invoice-7" || f.get(first.ID).IdempotencyKey != "invoice-7" {
			t.Errorf("run idempotency key %q; want invoice-7", f.get(first.ID).IdempotencyKey)
		}

		secondID := newRunID()
		again, created, err := f.store.RunEnqueue(f.ctx, &store.RunEnqueueParams{
			ID: secondID, Workflow: testWorkflow, WorkflowVersion: 2, Input: []byte(`{"n": 2}`),
			IdempotencyKey: "invoice-7", Entities: map[string]string{"retry": "yes"}, Actor: "client",
		})
		if err != nil {
			t.Fatalf("RunEnqueue with a used key: %v", err)
		}
		if created {
			t.Errorf("RunEnqueue with a used key: created; want the existing run")
		}
		if again == nil || again.ID != first.ID {
			t.Fatalf("RunEnqueue with a used key returned %+v; want run %s", again, first.ID)
		}
		checkJSON(t, "deduplicated run input", again.Input, []byte(`{"n": 1}`))
		if again.WorkflowVersion != 1 || !maps.Equal(again.Entities, map[string]string{"invoice": "7"}) {
			t.Errorf("deduplicated run: version %d entities %v; want the first enqueue's", again.WorkflowVersion, again.Entities)
		}

		// Nothing was written: no run, no entity, no event.
		_, err = f.store.RunGet(f.ctx, secondID)
		checkErrorIs(t, "RunGet of the deduplicated ID", err, klaxontype.ErrNotFound)
		checkIDs(t, "runs of the workflow", runIDs(f.list(&store.RunListParams{Workflow: testWorkflow})), first.ID)
		checkIDs(t, "runs labelled retry=yes", runIDs(f.list(&store.RunListParams{Entities: map[string]string{"retry": "yes"}})))
		if events := f.events(first.ID); len(events) != 1 {
			t.Errorf("event log after a deduplicated enqueue: %v; want the one run.enqueued", eventTypes(events))
		}
		if events := f.events(secondID); len(events) != 0 {
			t.Errorf("event log of the deduplicated ID: %v; want none", eventTypes(events))
		}

		// The key deduplicates enqueues of one workflow only.
		other := f.enqueue(&store.RunEnqueueParams{Workflow: "classify", IdempotencyKey: "invoice-7"})
		if other.ID == first.ID || other.Workflow != "classify" {
			t.Errorf("the same key on another workflow returned %s of %s; want a new run", other.ID, other.Workflow)
		}
	})

	t.Run("EnqueueIdempotencyKeyReturnsRunAsItIs", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		// A dead run handed back for its key must say it is dead, not pass
		// for a cached success.
		dead := f.runIn(klaxontype.RunStatusDead, &store.RunEnqueueParams{IdempotencyKey: "import-2024-06"})
		again, created, err := f.store.RunEnqueue(f.ctx, &store.RunEnqueueParams{
			ID: newRunID(), Workflow: testWorkflow, WorkflowVersion: 1, Input: []byte(`{}`), IdempotencyKey: "import-2024-06",
		})
		if err != nil || created {
			t.Fatalf("RunEnqueue with the key of a dead run: created %v, error %v; want the dead run", created, err)
		}
		if again.ID != dead.ID || again.Status != klaxontype.RunStatusDead || again.Failure == nil {
			t.Errorf("RunEnqueue returned %s, %s, failure %+v; want dead run %s with its failure", again.ID, again.Status, again.Failure, dead.ID)
		}
	})

	t.Run("EnqueueRefusesInvalidJSON", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		for _, input := range []string{`{"document_id": 42`, `document_id=42`, `{"a": 1}}`, `{'a': 1}`} {
			id := newRunID()
			_, created, err := f.store.RunEnqueue(f.ctx, &store.RunEnqueueParams{
				ID: id, Workflow: testWorkflow, WorkflowVersion: 1, Input: []byte(input), Actor: "client",
			})
			if err == nil || created {
				t.Errorf("RunEnqueue with input %q: created %v, error %v; want it refused", input, created, err)
			}
			_, err = f.store.RunGet(f.ctx, id)
			checkErrorIs(t, fmt.Sprintf("RunGet of the run refused for input %q", input), err, klaxontype.ErrNotFound)
			if events := f.events(id); len(events) != 0 {
				t.Errorf("refused input %q left events %v", input, eventTypes(events))
			}
		}
		if runs := f.list(&store.RunListParams{}); len(runs) != 0 {
			t.Errorf("RunList after refused enqueues: %v; want no run", runIDs(runs))
		}
	})

	t.Run("GetNotFound", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		f.enqueue(nil)
		run, err := f.store.RunGet(f.ctx, newRunID())
		checkErrorIs(t, "RunGet of an unknown run", err, klaxontype.ErrNotFound)
		if run != nil {
			t.Errorf("RunGet of an unknown run returned %+v", run)
		}
	})

	t.Run("ListNewestFirstWithCursor", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		ids := newRunIDs(7)
		// Enqueued out of order: RunList orders by run ID, which is the
		// enqueue time of a ULID, not by the order of the writes.
		for _, i := range []int{3, 0, 6, 1, 5, 2, 4} {
			f.enqueue(&store.RunEnqueueParams{ID: ids[i]})
		}
		checkIDs(t, "RunList", runIDs(f.list(&store.RunListParams{})), ids[6], ids[5], ids[4], ids[3], ids[2], ids[1], ids[0])

		page := f.list(&store.RunListParams{Limit: 3})
		checkIDs(t, "first page", runIDs(page), ids[6], ids[5], ids[4])
		page = f.list(&store.RunListParams{Limit: 3, BeforeID: ids[4]})
		checkIDs(t, "second page", runIDs(page), ids[3], ids[2], ids[1])
		page = f.list(&store.RunListParams{Limit: 3, BeforeID: ids[1]})
		checkIDs(t, "last page", runIDs(page), ids[0])
		page = f.list(&store.RunListParams{Limit: 3, BeforeID: ids[0]})
		checkIDs(t, "page after the last", runIDs(page))
	})

	t.Run("ListDefaultLimit", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		ids := newRunIDs(103)
		for _, id := range ids {
			f.enqueue(&store.RunEnqueueParams{ID: id})
		}
		runs := f.list(&store.RunListParams{})
		if len(runs) != 100 {
			t.Fatalf("RunList without a limit: %d runs; want 100", len(runs))
		}
		if runs[0].ID != ids[102] || runs[99].ID != ids[3] {
			t.Errorf("RunList without a limit: from %s to %s; want the newest 100, %s to %s", runs[0].ID, runs[99].ID, ids[102], ids[3])
		}
	})

	t.Run("ListFilters", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		ids := newRunIDs(6)
		pending1 := f.runIn(klaxontype.RunStatusPending, &store.RunEnqueueParams{ID: ids[0], Entities: map[string]string{"document_id": "1", "tenant": "acme"}})
		running := f.runIn(klaxontype.RunStatusRunning, &store.RunEnqueueParams{ID: ids[1], Entities: map[string]string{"document_id": "1", "tenant": "globex"}})
		completed := f.runIn(klaxontype.RunStatusCompleted, &store.RunEnqueueParams{ID: ids[2], Workflow: "classify", Entities: map[string]string{"document_id": "2", "tenant": "acme"}})
		dead := f.runIn(klaxontype.RunStatusDead, &store.RunEnqueueParams{ID: ids[3], Workflow: "classify"})
		pending2 := f.runIn(klaxontype.RunStatusPending, &store.RunEnqueueParams{ID: ids[4], Entities: map[string]string{"document_id": "1", "tenant": "acme", "lang": "en"}})
		retrying := f.runIn(klaxontype.RunStatusRetrying, &store.RunEnqueueParams{ID: ids[5], Entities: map[string]string{"tenant": "acme"}})

		for _, tc := range []struct {
			name   string
			params store.RunListParams
			want   []*klaxontype.Run
		}{
			{"no filter", store.RunListParams{}, []*klaxontype.Run{retrying, pending2, dead, completed, running, pending1}},
			{"pending", store.RunListParams{Statuses: []klaxontype.RunStatus{klaxontype.RunStatusPending}}, []*klaxontype.Run{pending2, pending1}},
			{"running or completed", store.RunListParams{Statuses: []klaxontype.RunStatus{klaxontype.RunStatusRunning, klaxontype.RunStatusCompleted}}, []*klaxontype.Run{completed, running}},
			{"dead", store.RunListParams{Statuses: []klaxontype.RunStatus{klaxontype.RunStatusDead}}, []*klaxontype.Run{dead}},
			{"retrying", store.RunListParams{Statuses: []klaxontype.RunStatus{klaxontype.RunStatusRetrying}}, []*klaxontype.Run{retrying}},
			{"cancelled", store.RunListParams{Statuses: []klaxontype.RunStatus{klaxontype.RunStatusCancelled}}, nil},
			{"workflow", store.RunListParams{Workflow: "classify"}, []*klaxontype.Run{dead, completed}},
			{"unknown workflow", store.RunListParams{Workflow: "translate"}, nil},
			{"workflow and status", store.RunListParams{Workflow: testWorkflow, Statuses: []klaxontype.RunStatus{klaxontype.RunStatusPending, klaxontype.RunStatusDead}}, []*klaxontype.Run{pending2, pending1}},
			{"one entity", store.RunListParams{Entities: map[string]string{"document_id": "1"}}, []*klaxontype.Run{pending2, running, pending1}},
			{"two entities", store.RunListParams{Entities: map[string]string{"document_id": "1", "tenant": "acme"}}, []*klaxontype.Run{pending2, pending1}},
			{"three entities", store.RunListParams{Entities: map[string]string{"document_id": "1", "tenant": "acme", "lang": "en"}}, []*klaxontype.Run{pending2}},
			{"entities all must match", store.RunListParams{Entities: map[string]string{"document_id": "2", "tenant": "globex"}}, nil},
			{"entity value is exact", store.RunListParams{Entities: map[string]string{"document_id": "10"}}, nil},
			{"entity and status", store.RunListParams{Entities: map[string]string{"tenant": "acme"}, Statuses: []klaxontype.RunStatus{klaxontype.RunStatusRetrying, klaxontype.RunStatusCompleted}}, []*klaxontype.Run{retrying, completed}},
			{"entity and workflow", store.RunListParams{Entities: map[string]string{"tenant": "acme"}, Workflow: "classify"}, []*klaxontype.Run{completed}},
			{"entity with limit", store.RunListParams{Entities: map[string]string{"document_id": "1"}, Limit: 2}, []*klaxontype.Run{pending2, running}},
			{"entity after cursor", store.RunListParams{Entities: map[string]string{"document_id": "1"}, BeforeID: running.ID}, []*klaxontype.Run{pending1}},
			{"status after cursor", store.RunListParams{Statuses: []klaxontype.RunStatus{klaxontype.RunStatusPending}, BeforeID: pending2.ID}, []*klaxontype.Run{pending1}},
		} {
			checkIDs(t, "RunList "+tc.name, runIDs(f.list(&tc.params)), runIDs(tc.want)...)
		}

		// Listed runs are whole: status, entities and the rest as RunGet has them.
		for _, run := range f.list(&store.RunListParams{}) {
			checkRunUnchanged(t, "listing run "+run.ID, run, f.get(run.ID))
		}
	})

	t.Run("ListCreatedBetween", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		ids := newRunIDs(5)
		r := make([]*klaxontype.Run, len(ids))
		for i, id := range ids {
			if i > 0 {
				// Runs enqueued one after the other get distinct times, so
				// that a time between them splits them.
				time.Sleep(5 * time.Millisecond)
			}
			params := &store.RunEnqueueParams{ID: id}
			if i%2 == 1 {
				params.Workflow = "classify"
				params.Entities = map[string]string{"tenant": "acme"}
			}
			r[i] = f.get(f.enqueue(params).ID)
		}
		between := func(earlier, later *klaxontype.Run) time.Time {
			if !earlier.CreatedAt.Before(later.CreatedAt) {
				t.Fatalf("run %s was created at %s, not before run %s at %s",
					earlier.ID, earlier.CreatedAt, later.ID, later.CreatedAt)
			}
			return earlier.CreatedAt.Add(later.CreatedAt.Sub(earlier.CreatedAt) / 2)
		}
		acme := map[string]string{"tenant": "acme"}

		for _, tc := range []struct {
			name   string
			params store.RunListParams
			want   []*klaxontype.Run
		}{
			{"created after", store.RunListParams{CreatedAfter: between(r[1], r[2])}, []*klaxontype.Run{r[4], r[3], r[2]}},
			{"created before", store.RunListParams{CreatedBefore: between(r[2], r[3])}, []*klaxontype.Run{r[2], r[1], r[0]}},
			{"created between", store.RunListParams{CreatedAfter: between(r[0], r[1]), CreatedBefore: between(r[3], r[4])}, []*klaxontype.Run{r[3], r[2], r[1]}},
			{"after is inclusive", store.RunListParams{CreatedAfter: r[3].CreatedAt}, []*klaxontype.Run{r[4], r[3]}},
			{"before is exclusive", store.RunListParams{CreatedBefore: r[1].CreatedAt}, []*klaxontype.Run{r[0]}},
			{"empty range", store.RunListParams{CreatedAfter: between(r[2], r[3]), CreatedBefore: between(r[1], r[2])}, nil},
			{"created after the last", store.RunListParams{CreatedAfter: r[4].CreatedAt.Add(time.Second)}, nil},
			{"created before the first", store.RunListParams{CreatedBefore: r[0].CreatedAt.Add(-time.Second)}, nil},
			{"workflow created after", store.RunListParams{Workflow: "classify", CreatedAfter: between(r[1], r[2])}, []*klaxontype.Run{r[3]}},
			{"status created before", store.RunListParams{Statuses: []klaxontype.RunStatus{klaxontype.RunStatusPending}, CreatedBefore: between(r[1], r[2])}, []*klaxontype.Run{r[1], r[0]}},
			{"entity created between", store.RunListParams{Entities: acme, CreatedAfter: between(r[0], r[1]), CreatedBefore: between(r[2], r[3])}, []*klaxontype.Run{r[1]}},
			{"created after with cursor", store.RunListParams{CreatedAfter: between(r[0], r[1]), BeforeID: r[3].ID}, []*klaxontype.Run{r[2], r[1]}},
			{"created before with limit", store.RunListParams{CreatedBefore: between(r[3], r[4]), Limit: 2}, []*klaxontype.Run{r[3], r[2]}},
		} {
			checkIDs(t, "RunList "+tc.name, runIDs(f.list(&tc.params)), runIDs(tc.want)...)
		}
	})

	t.Run("CountByStatus", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		f.checkCounts("", map[klaxontype.RunStatus]int{})

		for range 3 {
			f.runIn(klaxontype.RunStatusPending, nil)
		}
		f.runIn(klaxontype.RunStatusDead, nil)
		f.runIn(klaxontype.RunStatusRetrying, nil)
		f.runIn(klaxontype.RunStatusRunning, &store.RunEnqueueParams{Workflow: "classify"})
		f.runIn(klaxontype.RunStatusCompleted, &store.RunEnqueueParams{Workflow: "classify"})
		f.runIn(klaxontype.RunStatusCompleted, &store.RunEnqueueParams{Workflow: "classify"})
		f.runIn(klaxontype.RunStatusCompensating, &store.RunEnqueueParams{Workflow: "classify"})

		f.checkCounts("", map[klaxontype.RunStatus]int{
			klaxontype.RunStatusPending: 3, klaxontype.RunStatusDead: 1, klaxontype.RunStatusRetrying: 1,
			klaxontype.RunStatusRunning: 1, klaxontype.RunStatusCompleted: 2, klaxontype.RunStatusCompensating: 1,
		})
		f.checkCounts(testWorkflow, map[klaxontype.RunStatus]int{
			klaxontype.RunStatusPending: 3, klaxontype.RunStatusDead: 1, klaxontype.RunStatusRetrying: 1,
		})
		f.checkCounts("classify", map[klaxontype.RunStatus]int{
			klaxontype.RunStatusRunning: 1, klaxontype.RunStatusCompleted: 2, klaxontype.RunStatusCompensating: 1,
		})
		f.checkCounts("translate", map[klaxontype.RunStatus]int{})
	})
}

// checkCounts compares RunCountByStatus with want; a status missing from
// either counts zero.
func (f *fixture) checkCounts(workflow string, want map[klaxontype.RunStatus]int) {
	f.t.Helper()
	counts, err := f.store.RunCountByStatus(f.ctx, &store.RunCountByStatusParams{Workflow: workflow})
	if err != nil {
		f.t.Fatalf("RunCountByStatus %q: %v", workflow, err)
	}
	for status, n := range counts {
		if !status.Valid() {
			f.t.Errorf("RunCountByStatus %q counts unknown status %q", workflow, status)
		} else if n != want[status] {
			f.t.Errorf("RunCountByStatus %q: %d %s; want %d", workflow, n, status, want[status])
		}
	}
	for status, n := range want {
		if _, ok := counts[status]; !ok && n != 0 {
			f.t.Errorf("RunCountByStatus %q: no %s; want %d", workflow, status, n)
		}
	}
}
