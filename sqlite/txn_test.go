package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/txn"
)

// A rule that writes, then refuses, leaves nothing of what it wrote, while
// the writes group-committed in the same batch are kept.
func TestRefusedRuleRollsBackAloneInItsBatch(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "klaxon.db"), nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	target, _, err := s.RunEnqueue(ctx, &store.RunEnqueueParams{ID: "01JTARGET0000000000000000", Workflow: "w", Input: []byte(`{}`)})
	if err != nil {
		t.Fatalf("RunEnqueue: %v", err)
	}
	refusal := errors.New("refused after writing")
	for round := range 20 {
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				id := fmt.Sprintf("01JBYSTANDER%02d%02d000000000", round, i)
				if _, _, err := s.RunEnqueue(ctx, &store.RunEnqueueParams{ID: id, Workflow: "w", Input: []byte(`{}`)}); err != nil {
					t.Errorf("RunEnqueue %s: %v", id, err)
				}
			})
		}
		err := s.transact(ctx, func(ctx context.Context, tx txn.Tx) error {
			if err := tx.EventInsert(ctx, &klaxontype.Event{RunID: target.ID, Type: klaxontype.EventDLQReplayed, Actor: "rule", At: now(), Message: "half done"}, nil); err != nil {
				return err
			}
			if _, err := tx.RunCancel(ctx, target.ID, "half done", now()); err != nil {
				return err
			}
			return refusal
		})
		if !errors.Is(err, refusal) {
			t.Fatalf("transact: %v; want the rule's refusal", err)
		}
		wg.Wait()
	}
	run, err := s.RunGet(ctx, target.ID)
	if err != nil {
		t.Fatalf("RunGet: %v", err)
	}
	if run.Status != klaxontype.RunStatusPending {
		t.Errorf("the refused rule's run is %s; want it pending, as before", run.Status)
	}
	events, err := s.EventList(ctx, target.ID)
	if err != nil {
		t.Fatalf("EventList: %v", err)
	}
	if len(events) != 1 || events[0].Type != klaxontype.EventRunEnqueued {
		t.Errorf("the refused rule's run has events %v; want only run.enqueued", events)
	}
	counts, err := s.RunCountByStatus(ctx, &store.RunCountByStatusParams{Workflow: "w"})
	if err != nil {
		t.Fatalf("RunCountByStatus: %v", err)
	}
	if counts[klaxontype.RunStatusPending] != 1+20*8 {
		t.Errorf("%d pending runs; want %d: the bystanders' enqueues kept", counts[klaxontype.RunStatusPending], 1+20*8)
	}
}
