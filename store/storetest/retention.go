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

// testRetention checks that retention deletes old ended runs with everything
// recorded of them, and never a run that is not ended or has an open
// dead-letter entry.
func testRetention(t *testing.T, h *harness) {
	t.Run("DeletesEndedRunsWithTheirHistory", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		const workflow = "retained"
		completed := f.enqueue(&store.RunEnqueueParams{Workflow: workflow, Entities: map[string]string{"document_id": "42"}})
		held := f.claimRun(completed, holderA, longLease).Run
		f.mustCheckpoint(held, holderA, 1, "fetch", `{"pages": 3}`)
		if err := f.store.RunComplete(f.ctx, &store.RunCompleteParams{Lease: leaseOf(held), Holder: holderA, Output: []byte(`{}`)}); err != nil {
			t.Fatalf("RunComplete: %v", err)
		}
		openDead, openEntry := f.deadRun(death{Run: store.RunEnqueueParams{Workflow: workflow}, Steps: []string{"fetch"}})
		closedDead, closedEntry := f.deadRun(death{Run: store.RunEnqueueParams{Workflow: workflow}, Steps: []string{"fetch"}})
		if _, err := f.store.DLQDiscard(f.ctx, &store.DLQDiscardParams{EntryID: closedEntry, Reason: "known bad", Actor: "alice"}); err != nil {
			t.Fatalf("DLQDiscard: %v", err)
		}
		cancelled := f.enqueue(&store.RunEnqueueParams{Workflow: workflow, AvailableAt: time.Now().Add(time.Hour)})
		if _, err := f.store.RunCancel(f.ctx, &store.RunCancelParams{ID: cancelled.ID, Actor: "alice"}); err != nil {
			t.Fatalf("RunCancel: %v", err)
		}
		running := f.runIn(klaxontype.RunStatusRunning, &store.RunEnqueueParams{Workflow: workflow})
		pending := f.enqueue(&store.RunEnqueueParams{Workflow: workflow, AvailableAt: time.Now().Add(time.Hour)})
		other := f.runIn(klaxontype.RunStatusCompleted, &store.RunEnqueueParams{Workflow: "kept"})

		before := time.Now().Add(time.Minute)
		expired := f.expired(&store.RunListExpiredParams{Workflow: workflow, FinishedBefore: before, Limit: 100})
		want := []string{completed.ID, closedDead.ID, cancelled.ID}
		if !sameIDs(expired, want) {
			t.Fatalf("expired runs %v; want the completed, the dead one whose entry is closed and the cancelled (%v)", expired, want)
		}
		if got := f.expired(&store.RunListExpiredParams{Workflow: workflow, FinishedBefore: before, Limit: 100,
			Statuses: []klaxontype.RunStatus{klaxontype.RunStatusCompleted}}); !sameIDs(got, []string{completed.ID}) {
			t.Errorf("expired completed runs %v; want %s", got, completed.ID)
		}
		if got := f.expired(&store.RunListExpiredParams{Workflow: workflow, FinishedBefore: time.Now().Add(-time.Hour), Limit: 100}); len(got) != 0 {
			t.Errorf("runs that finished more than an hour ago: %v; want none", got)
		}
		if got := f.expired(&store.RunListExpiredParams{Workflow: workflow, FinishedBefore: before, Limit: 2}); len(got) != 2 {
			t.Errorf("a batch of 2: %v", got)
		}

		// Asked to delete more than it may, it deletes only what it may.
		asked := append(slices.Clone(expired), openDead.ID, running.ID, pending.ID)
		deleted, err := f.store.RunsDelete(f.ctx, &store.RunsDeleteParams{IDs: asked, Actor: "retention", Rule: "ended before now"})
		if err != nil {
			t.Fatalf("RunsDelete: %v", err)
		}
		if !sameIDs(deleted, want) {
			t.Fatalf("deleted %v; want %v", deleted, want)
		}
		for _, id := range want {
			if _, err := f.store.RunGet(f.ctx, id); !errors.Is(err, klaxontype.ErrNotFound) {
				t.Errorf("deleted run %s: %v; want not found", id, err)
			}
		}
		if _, err := f.store.DLQGet(f.ctx, closedEntry); !errors.Is(err, klaxontype.ErrNotFound) {
			t.Errorf("the deleted run's closed entry: %v; want not found", err)
		}
		for _, id := range []string{openDead.ID, running.ID, pending.ID, other.ID} {
			if _, err := f.store.RunGet(f.ctx, id); err != nil {
				t.Errorf("kept run %s: %v", id, err)
			}
		}
		if entry := f.entry(openEntry); entry.State != klaxontype.DeadLetterOpen || len(f.steps(openDead.ID)) != 1 {
			t.Errorf("the open entry's run lost its entry or steps")
		}
		if h.rows != nil {
			for _, row := range h.rows(t, f.store) {
				for _, id := range want {
					if strings.Contains(row, id) && !strings.HasPrefix(row, "audit_log") {
						t.Errorf("a row of deleted run %s remains: %s", id, row)
					}
				}
			}
		}
		records := f.audit(&store.AuditListParams{Action: klaxontype.AuditRetentionDelete})
		if len(records) != 1 || records[0].Actor != "retention" || !strings.Contains(string(records[0].Params), completed.ID) {
			t.Errorf("audit records of the deletion: %+v; want one by retention naming the runs", records)
		}
		again, err := f.store.RunsDelete(f.ctx, &store.RunsDeleteParams{IDs: asked, Actor: "retention", Rule: "ended before now"})
		if err != nil || len(again) != 0 {
			t.Errorf("the same batch again: deleted %v, %v; want nothing", again, err)
		}
	})

	t.Run("RefusesWhatItCannotDo", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		for _, params := range []*store.RunListExpiredParams{
			{FinishedBefore: time.Now(), Limit: 10},
			{Workflow: "w", Limit: 10},
			{Workflow: "w", FinishedBefore: time.Now(), Limit: 0},
			{Workflow: "w", FinishedBefore: time.Now(), Limit: store.MaxRetentionBatch + 1},
			{Workflow: "w", FinishedBefore: time.Now(), Limit: 10, Statuses: []klaxontype.RunStatus{klaxontype.RunStatusRunning}},
		} {
			_, err := f.store.RunListExpired(f.ctx, params)
			checkErrorIs(t, "RunListExpired", err, klaxontype.ErrInvalid)
		}
		_, err := f.store.RunsDelete(f.ctx, &store.RunsDeleteParams{IDs: []string{"r"}, Rule: "x"})
		checkErrorIs(t, "RunsDelete without an actor", err, klaxontype.ErrInvalid)
	})
}

func (f *fixture) expired(params *store.RunListExpiredParams) []string {
	f.t.Helper()
	ids, err := f.store.RunListExpired(f.ctx, params)
	if err != nil {
		f.t.Fatalf("RunListExpired: %v", err)
	}
	return ids
}

// sameIDs reports whether two lists hold the same IDs, in any order.
func sameIDs(got, want []string) bool {
	a, b := slices.Clone(got), slices.Clone(want)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
