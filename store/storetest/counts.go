package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// testCounts checks the counts that metrics scrape from the store: dead-letter
// entries by workflow, class and state, the outbox's backlog, and suppressed
// duplicates by workflow.
func testCounts(t *testing.T, h *harness) {
	t.Run("DLQCountAndOutboxBacklog", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		f.checkDLQCount(nil)
		f.checkOutboxPending(0)

		_, first := f.deadRun(death{})
		f.deadRun(death{})
		overflow := &klaxontype.RunFailure{Class: klaxontype.ClassContextOverflow, Reason: "prompt of 210k tokens", Step: "summarize", StepSeq: 1}
		f.deadRun(death{Run: store.RunEnqueueParams{Workflow: "classify"}, Failure: overflow})
		f.checkOutboxPending(3)

		// A delivered notification leaves the backlog; one that will be
		// tried again stays in it.
		messages := f.outboxClaim(holderA, 2, longLease, reviewChannel)
		if len(messages) != 2 {
			t.Fatalf("claimed %d notifications; want 2", len(messages))
		}
		f.settle(messages[0].Delivery.ID, holderA, klaxontype.DeliveryDelivered, time.Time{}, "")
		f.settle(messages[1].Delivery.ID, holderA, klaxontype.DeliveryPending, time.Now().Add(time.Hour), "503 from the webhook")
		f.checkOutboxPending(2)

		// A closed entry still counts, under its new state: the total of a
		// class is every entry ever created.
		if _, err := f.store.DLQDiscard(f.ctx, &store.DLQDiscardParams{EntryID: first, Reason: "refunded by hand", Actor: "dave"}); err != nil {
			t.Fatalf("DLQDiscard: %v", err)
		}
		f.checkDLQCount([]*store.DLQCount{
			{Workflow: "classify", Class: klaxontype.ClassContextOverflow, State: klaxontype.DeadLetterOpen, Count: 1},
			{Workflow: testWorkflow, Class: klaxontype.ClassPermanent, State: klaxontype.DeadLetterDiscarded, Count: 1},
			{Workflow: testWorkflow, Class: klaxontype.ClassPermanent, State: klaxontype.DeadLetterOpen, Count: 1},
		})
	})

	t.Run("EventCountSuppressed", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		f.checkSuppressedCount(map[string]int{})
		// A stale holder's two refused checkpoints are two suppressed
		// duplicates of the run's workflow.
		stale, _ := f.takeOver()
		for seq, name := range map[int]string{2: "summarize", 3: "publish"} {
			if err := f.checkpoint(stale, holderA, seq, name, `"late"`); err == nil {
				t.Fatalf("a stale checkpoint of %s was accepted", name)
			}
		}
		f.checkSuppressedCount(map[string]int{testWorkflow: 2})
	})
}

// checkSuppressedCount compares EventCountSuppressed with want.
func (f *fixture) checkSuppressedCount(want map[string]int) {
	f.t.Helper()
	got, err := f.store.EventCountSuppressed(f.ctx)
	if err != nil {
		f.t.Fatalf("EventCountSuppressed: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		f.t.Errorf("EventCountSuppressed = %v; want %v", got, want)
	}
}

// checkDLQCount compares DLQCount with want, in its order.
func (f *fixture) checkDLQCount(want []*store.DLQCount) {
	f.t.Helper()
	got, err := f.store.DLQCount(f.ctx)
	if err != nil {
		f.t.Fatalf("DLQCount: %v", err)
	}
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		f.t.Errorf("DLQCount:")
		for _, c := range got {
			f.t.Errorf("  got  %+v", *c)
		}
		for _, c := range want {
			f.t.Errorf("  want %+v", *c)
		}
	}
}

// checkOutboxPending compares OutboxCountPending with want.
func (f *fixture) checkOutboxPending(want int) {
	f.t.Helper()
	got, err := f.store.OutboxCountPending(f.ctx)
	if err != nil {
		f.t.Fatalf("OutboxCountPending: %v", err)
	}
	if got != want {
		f.t.Errorf("OutboxCountPending = %d; want %d", got, want)
	}
}
