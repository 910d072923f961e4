package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// testDLQList checks DLQList's filters, its order and its cursor.
func testDLQList(t *testing.T, h *harness) {
	t.Run("Filters", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		type spec struct {
			workflow string
			class    klaxontype.FailureClass
			channel  string
			entities map[string]string
		}
		specs := []spec{
			{testWorkflow, klaxontype.ClassPermanent, reviewChannel, map[string]string{"document_id": "1", "tenant": "acme"}},
			{"classify", klaxontype.ClassPolicyViolation, "security", map[string]string{"document_id": "2", "tenant": "acme"}},
			{testWorkflow, klaxontype.ClassSemantic, reviewChannel, map[string]string{"document_id": "1", "tenant": "globex"}},
			{"classify", klaxontype.ClassCompensationFailed, "ops", nil},
			{testWorkflow, klaxontype.ClassPermanent, reviewChannel, map[string]string{"document_id": "1", "tenant": "acme", "lang": "en"}},
		}
		e := make([]*klaxontype.DeadLetter, len(specs))
		for i, s := range specs {
			if i > 0 {
				// Entries created one after the other get distinct times, so
				// that a time between them splits them.
				time.Sleep(5 * time.Millisecond)
			}
			_, entryID := f.deadRun(death{
				Run:        store.RunEnqueueParams{Workflow: s.workflow, Entities: s.entities},
				Failure:    &klaxontype.RunFailure{Class: s.class, Reason: "failed as " + string(s.class), Step: "summarize", StepSeq: 1},
				DeadLetter: &store.DeadLetterParams{ID: newEntryID(), Channel: s.channel},
			})
			e[i] = f.entry(entryID)
		}
		discarded, err := f.store.DLQDiscard(f.ctx, &store.DLQDiscardParams{EntryID: e[2].ID, Reason: "known model flake", Actor: "alice"})
		if err != nil {
			t.Fatalf("DLQDiscard: %v", err)
		}
		replayed, err := f.store.DLQReplay(f.ctx, &store.DLQReplayParams{EntryID: e[3].ID, Mode: klaxontype.ReplayResume, Actor: "alice"})
		if err != nil {
			t.Fatalf("DLQReplay: %v", err)
		}
		e[2], e[3] = discarded, replayed

		between := func(earlier, later *klaxontype.DeadLetter) time.Time {
			if !earlier.CreatedAt.Before(later.CreatedAt) {
				t.Fatalf("entry %s was created at %s, not before entry %s at %s",
					earlier.ID, earlier.CreatedAt, later.ID, later.CreatedAt)
			}
			return earlier.CreatedAt.Add(later.CreatedAt.Sub(earlier.CreatedAt) / 2)
		}
		permanent := []klaxontype.FailureClass{klaxontype.ClassPermanent}
		open := []klaxontype.DeadLetterState{klaxontype.DeadLetterOpen}
		for _, tc := range []struct {
			name   string
			params store.DLQListParams
			want   []*klaxontype.DeadLetter
		}{
			{"no filter", store.DLQListParams{}, []*klaxontype.DeadLetter{e[4], e[3], e[2], e[1], e[0]}},
			{"class", store.DLQListParams{Classes: permanent}, []*klaxontype.DeadLetter{e[4], e[0]}},
			{"classes", store.DLQListParams{Classes: []klaxontype.FailureClass{klaxontype.ClassPermanent, klaxontype.ClassPolicyViolation}}, []*klaxontype.DeadLetter{e[4], e[1], e[0]}},
			{"class of no entry", store.DLQListParams{Classes: []klaxontype.FailureClass{klaxontype.ClassTimeout}}, nil},
			{"open", store.DLQListParams{States: open}, []*klaxontype.DeadLetter{e[4], e[1], e[0]}},
			{"replayed or discarded", store.DLQListParams{States: []klaxontype.DeadLetterState{klaxontype.DeadLetterReplayed, klaxontype.DeadLetterDiscarded}}, []*klaxontype.DeadLetter{e[3], e[2]}},
			{"resolved", store.DLQListParams{States: []klaxontype.DeadLetterState{klaxontype.DeadLetterResolved}}, nil},
			{"class and state", store.DLQListParams{Classes: permanent, States: open}, []*klaxontype.DeadLetter{e[4], e[0]}},
			{"class not in state", store.DLQListParams{Classes: []klaxontype.FailureClass{klaxontype.ClassCompensationFailed}, States: open}, nil},
			{"workflow", store.DLQListParams{Workflow: "classify"}, []*klaxontype.DeadLetter{e[3], e[1]}},
			{"unknown workflow", store.DLQListParams{Workflow: "translate"}, nil},
			{"channel", store.DLQListParams{Channel: reviewChannel}, []*klaxontype.DeadLetter{e[4], e[2], e[0]}},
			{"other channel", store.DLQListParams{Channel: "security"}, []*klaxontype.DeadLetter{e[1]}},
			{"workflow and channel", store.DLQListParams{Workflow: "classify", Channel: "ops"}, []*klaxontype.DeadLetter{e[3]}},
			{"one entity", store.DLQListParams{Entities: map[string]string{"document_id": "1"}}, []*klaxontype.DeadLetter{e[4], e[2], e[0]}},
			{"two entities", store.DLQListParams{Entities: map[string]string{"document_id": "1", "tenant": "acme"}}, []*klaxontype.DeadLetter{e[4], e[0]}},
			{"entities all must match", store.DLQListParams{Entities: map[string]string{"document_id": "2", "tenant": "globex"}}, nil},
			{"entity value is exact", store.DLQListParams{Entities: map[string]string{"document_id": "10"}}, nil},
			{"entity and class", store.DLQListParams{Entities: map[string]string{"tenant": "acme"}, Classes: []klaxontype.FailureClass{klaxontype.ClassPolicyViolation}}, []*klaxontype.DeadLetter{e[1]}},
			{"created after", store.DLQListParams{CreatedAfter: between(e[1], e[2])}, []*klaxontype.DeadLetter{e[4], e[3], e[2]}},
			{"created before", store.DLQListParams{CreatedBefore: between(e[2], e[3])}, []*klaxontype.DeadLetter{e[2], e[1], e[0]}},
			{"created between", store.DLQListParams{CreatedAfter: between(e[0], e[1]), CreatedBefore: between(e[3], e[4])}, []*klaxontype.DeadLetter{e[3], e[2], e[1]}},
			{"created between, open", store.DLQListParams{CreatedAfter: between(e[0], e[1]), CreatedBefore: between(e[3], e[4]), States: open}, []*klaxontype.DeadLetter{e[1]}},
			{"class created before", store.DLQListParams{Classes: permanent, CreatedBefore: between(e[3], e[4])}, []*klaxontype.DeadLetter{e[0]}},
			{"class created after", store.DLQListParams{Classes: permanent, CreatedAfter: between(e[0], e[1])}, []*klaxontype.DeadLetter{e[4]}},
			{"state created after", store.DLQListParams{States: open, CreatedAfter: between(e[0], e[1])}, []*klaxontype.DeadLetter{e[4], e[1]}},
			{"state created before", store.DLQListParams{States: open, CreatedBefore: between(e[3], e[4])}, []*klaxontype.DeadLetter{e[1], e[0]}},
			{"created after the last", store.DLQListParams{CreatedAfter: e[4].CreatedAt.Add(time.Second)}, nil},
			{"before cursor", store.DLQListParams{BeforeID: e[3].ID}, []*klaxontype.DeadLetter{e[2], e[1], e[0]}},
			{"before cursor with limit", store.DLQListParams{BeforeID: e[3].ID, Limit: 2}, []*klaxontype.DeadLetter{e[2], e[1]}},
			{"class before cursor", store.DLQListParams{Classes: permanent, BeforeID: e[4].ID}, []*klaxontype.DeadLetter{e[0]}},
			{"state before cursor", store.DLQListParams{States: open, BeforeID: e[4].ID}, []*klaxontype.DeadLetter{e[1], e[0]}},
			{"limit", store.DLQListParams{Limit: 1}, []*klaxontype.DeadLetter{e[4]}},
			{"run", store.DLQListParams{RunID: e[1].RunID}, []*klaxontype.DeadLetter{e[1]}},
			{"run of a replayed entry", store.DLQListParams{RunID: e[3].RunID}, []*klaxontype.DeadLetter{e[3]}},
			{"run and state", store.DLQListParams{RunID: e[3].RunID, States: open}, nil},
			{"run and class", store.DLQListParams{RunID: e[0].RunID, Classes: permanent}, []*klaxontype.DeadLetter{e[0]}},
			{"unknown run", store.DLQListParams{RunID: "01NOSUCHRUN"}, nil},
			{"class with limit", store.DLQListParams{Classes: permanent, Limit: 1}, []*klaxontype.DeadLetter{e[4]}},
		} {
			checkIDs(t, "DLQList "+tc.name, entryIDs(f.dlqList(&tc.params)), entryIDs(tc.want)...)
		}

		// Listed entries are whole: everything DLQGet has but attempts and
		// deliveries.
		for _, listed := range f.dlqList(&store.DLQListParams{}) {
			checkEntryUnchanged(t, "listing entry "+listed.ID, withoutDetails(listed), withoutDetails(f.entry(listed.ID)))
		}
	})

	t.Run("Pages", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		var ids []string
		for range 5 {
			_, entryID := f.deadRun(death{})
			ids = append(ids, entryID)
		}
		var pages [][]string
		cursor := ""
		for range len(ids) + 1 {
			page := entryIDs(f.dlqList(&store.DLQListParams{BeforeID: cursor, Limit: 2}))
			pages = append(pages, page)
			if len(page) == 0 {
				break
			}
			cursor = page[len(page)-1]
		}
		if len(pages) != 4 {
			t.Fatalf("pages of 2 over 5 entries: %v; want 3 pages and an empty one", pages)
		}
		checkIDs(t, "page 1", pages[0], ids[4], ids[3])
		checkIDs(t, "page 2", pages[1], ids[2], ids[1])
		checkIDs(t, "page 3", pages[2], ids[0])
		checkIDs(t, "page after the last", pages[3])
	})

	t.Run("DefaultLimit", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		const n = 103
		runs, deadLetters := newRunIDs(n), make([]string, n)
		for i := range deadLetters {
			deadLetters[i] = newEntryID()
		}
		var wg sync.WaitGroup
		for _, id := range runs {
			wg.Go(func() {
				_, _, err := f.store.RunEnqueue(f.ctx, &store.RunEnqueueParams{
					ID: id, Workflow: testWorkflow, WorkflowVersion: 1, Input: []byte(`{}`), Actor: "client",
				})
				if err != nil {
					t.Errorf("RunEnqueue %s: %v", id, err)
				}
			})
		}
		wg.Wait()
		claimed := f.claim(holderA, n, longLease)
		if len(claimed) != n {
			t.Fatalf("claimed %d runs; want %d", len(claimed), n)
		}
		for i, c := range claimed {
			wg.Go(func() {
				err := f.store.RunFail(f.ctx, &store.RunFailParams{
					Lease: leaseOf(c.Run), Holder: holderA, Attempt: failedAttempt(c.Run, holderA),
					Next: klaxontype.RunStatusDead, Failure: permanentFailure(),
					DeadLetter: &store.DeadLetterParams{ID: deadLetters[i], Channel: reviewChannel},
				})
				if err != nil {
					t.Errorf("RunFail of run %s to dead: %v", c.Run.ID, err)
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		entries := f.dlqList(&store.DLQListParams{})
		if len(entries) != 100 {
			t.Fatalf("DLQList without a limit: %d entries; want 100", len(entries))
		}
		if entries[0].ID != deadLetters[n-1] || entries[99].ID != deadLetters[3] {
			t.Errorf("DLQList without a limit: from %s to %s; want the newest 100, %s to %s",
				entries[0].ID, entries[99].ID, deadLetters[n-1], deadLetters[3])
		}
		if rest := f.dlqList(&store.DLQListParams{BeforeID: entries[99].ID}); len(rest) != 3 {
			t.Errorf("DLQList after the first 100: %d entries; want 3", len(rest))
		}
	})
}
