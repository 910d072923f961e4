package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// testOutboxAdmin checks what a person sees of the outbox and does with it:
// the pending notifications summed up by channel, and a channel's pending
// notifications given up, leaving alone the ones a deliverer holds.
func testOutboxAdmin(t *testing.T, h *harness) {
	t.Run("PendingByChannelAndGiveUp", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		before := time.Now()
		_, retried := f.deadRun(death{DeadLetter: &store.DeadLetterParams{ID: newEntryID(), Channel: reviewChannel}})
		_, held := f.deadRun(death{DeadLetter: &store.DeadLetterParams{ID: newEntryID(), Channel: reviewChannel}})
		_, untouched := f.deadRun(death{DeadLetter: &store.DeadLetterParams{ID: newEntryID(), Channel: "security"}})
		after := time.Now()

		pending := f.outboxPending()
		if len(pending) != 2 || *pending[0] != (store.OutboxChannel{Channel: reviewChannel, Kind: "dead_letter", Pending: 2, Oldest: pending[0].Oldest}) ||
			*pending[1] != (store.OutboxChannel{Channel: "security", Kind: "dead_letter", Pending: 1, Oldest: pending[1].Oldest}) {
			t.Fatalf("OutboxSummarize = %s; want 2 never tried on review, then 1 on security", showChannels(pending))
		}
		checkTimeBetween(t, "oldest on review", pending[0].Oldest, before, after)

		// One review notification fails once and waits for its retry; the
		// other is being delivered right now.
		first := f.outboxClaim(holderA, 1, longLease, reviewChannel)
		if len(first) != 1 {
			t.Fatalf("claimed %d notifications; want 1", len(first))
		}
		if first[0].Delivery.EntryID != retried {
			retried, held = held, retried
		}
		f.settle(first[0].Delivery.ID, holderA, klaxontype.DeliveryPending, time.Now().Add(time.Hour), "POST https://hooks.example.com/gone: 404 Not Found")
		if second := f.outboxClaim(holderB, 1, longLease, reviewChannel); len(second) != 1 || second[0].Delivery.EntryID != held {
			t.Fatalf("the second claim on review returned %v; want entry %s", deliveryEntryIDs(second), held)
		}
		pending = f.outboxPending()
		if len(pending) != 2 || pending[0].Pending != 2 || pending[0].Attempted != 1 || pending[0].MaxAttempts != 1 ||
			pending[0].LastError != "POST https://hooks.example.com/gone: 404 Not Found" {
			t.Errorf("OutboxSummarize = %s; want review with 2 pending, 1 tried once, its 404 as the last error", showChannels(pending))
		}

		// Bad requests name what is missing and change nothing.
		for _, bad := range []store.OutboxGiveUpParams{
			{Reason: "hook removed", Actor: "ops"},
			{Channel: reviewChannel, Actor: "ops"},
			{Channel: reviewChannel, Reason: "hook removed"},
		} {
			n, err := f.store.OutboxGiveUp(f.ctx, &bad)
			checkErrorIs(t, "OutboxGiveUp without a channel, reason or actor", err, klaxontype.ErrInvalid)
			if n != 0 {
				t.Errorf("a refused OutboxGiveUp reports %d given up", n)
			}
		}

		n, err := f.store.OutboxGiveUp(f.ctx, &store.OutboxGiveUpParams{Channel: reviewChannel, Reason: "hook removed", Actor: "ops"})
		if err != nil || n != 1 {
			t.Fatalf("OutboxGiveUp of review = %d, %v; want 1 (the held one left to its holder)", n, err)
		}
		if d := f.delivery(retried); d.State != klaxontype.DeliveryGivenUp || d.Attempts != 1 || d.LastError != "given up by ops: hook removed" {
			t.Errorf("the given-up delivery is %s after %d attempts, error %q; want given_up after 1, with who and why", d.State, d.Attempts, d.LastError)
		}
		if d := f.delivery(held); d.State != klaxontype.DeliveryPending {
			t.Errorf("the held delivery is %s; want it still pending", d.State)
		}
		if d := f.delivery(untouched); d.State != klaxontype.DeliveryPending || d.LastError != "" {
			t.Errorf("the security delivery is %s, error %q; want it untouched", d.State, d.LastError)
		}
		// Its holder settles the held one as usual.
		f.settle(f.delivery(held).ID, holderB, klaxontype.DeliveryDelivered, time.Time{}, "")
		pending = f.outboxPending()
		if len(pending) != 1 || pending[0].Channel != "security" || pending[0].Pending != 1 {
			t.Errorf("OutboxSummarize = %s; want only security's one", showChannels(pending))
		}
		if count, err := f.store.OutboxCountPending(f.ctx); err != nil || count != 1 {
			t.Errorf("OutboxCountPending = %d, %v; want 1", count, err)
		}
		if n, err := f.store.OutboxGiveUp(f.ctx, &store.OutboxGiveUpParams{Channel: "nowhere", Reason: "r", Actor: "ops"}); err != nil || n != 0 {
			t.Errorf("OutboxGiveUp of a channel with nothing pending = %d, %v; want 0, nil", n, err)
		}
	})
}

func (f *fixture) outboxPending() []*store.OutboxChannel {
	f.t.Helper()
	pending, err := f.store.OutboxSummarize(f.ctx)
	if err != nil {
		f.t.Fatalf("OutboxSummarize: %v", err)
	}
	return pending
}

func showChannels(channels []*store.OutboxChannel) string {
	var out []string
	for _, c := range channels {
		out = append(out, fmt.Sprintf("%s/%s: %d pending, %d tried, max %d, last error %q",
			c.Channel, c.Kind, c.Pending, c.Attempted, c.MaxAttempts, c.LastError))
	}
	return "[" + strings.Join(out, "; ") + "]"
}
