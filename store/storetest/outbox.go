package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// testOutbox checks the outbox of dead-letter notifications: claimed by one
// dispatcher at a time, per channel, and settled only by the one that holds
// them.
func testOutbox(t *testing.T, h *harness) {
	t.Run("ClaimByChannel", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		channels := []string{reviewChannel, "security", reviewChannel, "ops"}
		runs, ids := make([]*klaxontype.Run, len(channels)), make([]string, len(channels))
		for i, channel := range channels {
			runs[i], ids[i] = f.deadRun(death{DeadLetter: &store.DeadLetterParams{ID: newEntryID(), Channel: channel}})
		}

		if messages := f.outboxClaim(holderA, 10, longLease); len(messages) != 0 {
			t.Errorf("a claim of no channel returned %d notifications", len(messages))
		}
		review := f.outboxClaim(holderA, 10, longLease, reviewChannel)
		checkIDSet(t, "notifications claimed on review", deliveryEntryIDs(review), ids[0], ids[2])
		for _, m := range review {
			d := m.Delivery
			if d.Channel != reviewChannel || d.State != klaxontype.DeliveryPending || d.Attempts != 0 {
				t.Errorf("claimed delivery %+v; want a pending notification on review, never attempted", d)
			}
			entry, _ := m.Payload.(*klaxontype.DeadLetter)
			if m.Kind != klaxontype.NotificationDeadLetter || entry == nil || entry.ID != d.EntryID || entry.Channel != reviewChannel || entry.State != klaxontype.DeadLetterOpen {
				t.Errorf("delivery of entry %s came as %s with %+v; want a dead-letter notification with that open entry", d.EntryID, m.Kind, m.Payload)
				continue
			}
			want := runs[0]
			if d.EntryID == ids[2] {
				want = runs[2]
			}
			if entry.RunID != want.ID || entry.Class != klaxontype.ClassPermanent {
				t.Errorf("entry %s of run %s, class %s; want run %s, permanent", entry.ID, entry.RunID, entry.Class, want.ID)
			}
		}
		// Held by holderA, they are not handed to anybody else.
		if again := f.outboxClaim(holderB, 10, longLease, reviewChannel); len(again) != 0 {
			t.Errorf("claimed notifications handed to holderB: %v", deliveryEntryIDs(again))
		}
		// A limit caps the claim.
		first := f.outboxClaim(holderB, 1, longLease, "security", "ops")
		second := f.outboxClaim(holderB, 1, longLease, "security", "ops")
		if len(first) != 1 || len(second) != 1 {
			t.Fatalf("claims of one notification returned %d and %d; want 1 each", len(first), len(second))
		}
		checkIDSet(t, "notifications claimed on security and ops", deliveryEntryIDs(append(first, second...)), ids[1], ids[3])
		if rest := f.outboxClaim(holderC, 10, longLease, reviewChannel, "security", "ops"); len(rest) != 0 {
			t.Errorf("a claim after every notification was taken returned %v", deliveryEntryIDs(rest))
		}
	})

	t.Run("LeaseRunsOut", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		_, entryID := f.deadRun(death{})
		leased := time.Now()
		stale := f.outboxClaim(holderA, 10, shortLease, reviewChannel)
		if len(stale) != 1 {
			t.Fatalf("claimed %d notifications; want 1", len(stale))
		}
		var current *store.OutboxMessage
		if taken := f.outboxClaim(holderB, 1, longLease, reviewChannel); len(taken) == 0 {
			current = f.awaitOutboxClaim(holderB, reviewChannel)
		} else {
			// On a slow machine the lease may have run out already.
			if elapsed := time.Since(leased); elapsed < shortLease {
				t.Errorf("a notification under a lease of %s was handed to holderB after %s", shortLease, elapsed)
			}
			current = taken[0]
		}
		if current.Delivery.ID != stale[0].Delivery.ID {
			t.Fatalf("holderB claimed delivery %d; want %d, whose lease ran out", current.Delivery.ID, stale[0].Delivery.ID)
		}

		// holderA's lease ran out: its outcome is refused and changes nothing.
		err := f.store.OutboxSettle(f.ctx, &store.OutboxSettleParams{ID: stale[0].Delivery.ID, Holder: holderA, State: klaxontype.DeliveryDelivered})
		checkErrorIs(t, "OutboxSettle by the holder whose lease ran out", err, klaxontype.ErrLeaseLost)
		if d := f.delivery(entryID); d.State != klaxontype.DeliveryPending || d.Attempts != 0 {
			t.Errorf("after a refused settle the delivery is %s after %d attempts; want pending, 0", d.State, d.Attempts)
		}
		err = f.store.OutboxSettle(f.ctx, &store.OutboxSettleParams{ID: current.Delivery.ID, Holder: holderC, State: klaxontype.DeliveryDelivered})
		checkErrorIs(t, "OutboxSettle by a worker that never held it", err, klaxontype.ErrLeaseLost)

		before := time.Now()
		f.settle(current.Delivery.ID, holderB, klaxontype.DeliveryDelivered, time.Time{}, "")
		after := time.Now()
		d := f.delivery(entryID)
		if d.State != klaxontype.DeliveryDelivered || d.Attempts != 1 || d.LastError != "" {
			t.Errorf("delivery is %s after %d attempts, error %q; want delivered after 1, no error", d.State, d.Attempts, d.LastError)
		}
		checkTimeBetween(t, "DeliveredAt", d.DeliveredAt, before, after)

		// Delivered is final: nobody claims it again, not even once every
		// lease ran out, and it cannot be settled again.
		time.Sleep(2 * shortLease)
		if again := f.outboxClaim(holderA, 10, longLease, reviewChannel); len(again) != 0 {
			t.Errorf("a delivered notification was claimed again: %v", deliveryEntryIDs(again))
		}
		err = f.store.OutboxSettle(f.ctx, &store.OutboxSettleParams{ID: current.Delivery.ID, Holder: holderB, State: klaxontype.DeliveryPending})
		checkErrorIs(t, "OutboxSettle of a delivered notification", err, klaxontype.ErrLeaseLost)
		if d := f.delivery(entryID); d.State != klaxontype.DeliveryDelivered || d.Attempts != 1 {
			t.Errorf("delivery is %s after %d attempts; want still delivered after 1", d.State, d.Attempts)
		}
	})

	t.Run("RetryLater", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		_, entryID := f.deadRun(death{})
		claimed := f.outboxClaim(holderA, 10, longLease, reviewChannel)
		if len(claimed) != 1 {
			t.Fatalf("claimed %d notifications; want 1", len(claimed))
		}
		id := claimed[0].Delivery.ID
		next := time.Now().Add(500 * time.Millisecond)
		f.settle(id, holderA, klaxontype.DeliveryPending, next, "POST https://hooks.example.com/klaxon: 502 Bad Gateway")
		d := f.delivery(entryID)
		if d.State != klaxontype.DeliveryPending || d.Attempts != 1 || d.LastError != "POST https://hooks.example.com/klaxon: 502 Bad Gateway" {
			t.Errorf("delivery is %s after %d attempts, error %q; want pending after 1 with the 502", d.State, d.Attempts, d.LastError)
		}
		checkTimeNear(t, "NextAttemptAt", d.NextAttemptAt, next, precision)
		if !d.DeliveredAt.IsZero() {
			t.Errorf("a pending delivery was delivered at %s", d.DeliveredAt)
		}

		// Settling gave the notification back: holderA holds it no more, and
		// nobody gets it before it is due.
		err := f.store.OutboxSettle(f.ctx, &store.OutboxSettleParams{ID: id, Holder: holderA, State: klaxontype.DeliveryDelivered})
		checkErrorIs(t, "a second OutboxSettle of one claim", err, klaxontype.ErrLeaseLost)
		var retried *store.OutboxMessage
		if early := f.outboxClaim(holderB, 1, longLease, reviewChannel); len(early) == 0 {
			retried = f.awaitOutboxClaim(holderB, reviewChannel)
		} else {
			// On a slow machine it may be due already.
			if claimedBy := time.Now(); claimedBy.Before(next.Add(-precision)) {
				t.Errorf("a notification due at %s was claimed by %s", next.Format(time.RFC3339Nano), claimedBy.Format(time.RFC3339Nano))
			}
			retried = early[0]
		}
		if retried.Delivery.ID != id || retried.Delivery.Attempts != 1 {
			t.Errorf("retried delivery %d after %d attempts; want %d after 1", retried.Delivery.ID, retried.Delivery.Attempts, id)
		}
		f.settle(id, holderB, klaxontype.DeliveryDelivered, time.Time{}, "")
		// A success clears the last error: a delivered notification is not
		// failing, and its attempts still say it took two.
		if d := f.delivery(entryID); d.State != klaxontype.DeliveryDelivered || d.Attempts != 2 || d.LastError != "" {
			t.Errorf("delivery is %s after %d attempts, error %q; want delivered after 2, with no error", d.State, d.Attempts, d.LastError)
		}
	})

	t.Run("GiveBackWithoutAttempt", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		_, entryID := f.deadRun(death{})
		claimed := f.outboxClaim(holderA, 10, longLease, reviewChannel)
		if len(claimed) != 1 {
			t.Fatalf("claimed %d notifications; want 1", len(claimed))
		}
		// A dispatcher stopping before it called the handler gives the
		// notification back: not an attempt, and due again at once.
		err := f.store.OutboxSettle(f.ctx, &store.OutboxSettleParams{
			ID: claimed[0].Delivery.ID, Holder: holderA, State: klaxontype.DeliveryPending, NotAttempted: true,
		})
		if err != nil {
			t.Fatalf("OutboxSettle without an attempt: %v", err)
		}
		if d := f.delivery(entryID); d.State != klaxontype.DeliveryPending || d.Attempts != 0 || d.LastError != "" {
			t.Errorf("delivery is %s after %d attempts, error %q; want pending, never attempted", d.State, d.Attempts, d.LastError)
		}
		again := f.outboxClaim(holderB, 10, longLease, reviewChannel)
		if len(again) != 1 || again[0].Delivery.ID != claimed[0].Delivery.ID {
			t.Errorf("after it was given back, holderB claimed %v; want the notification of entry %s", deliveryEntryIDs(again), entryID)
		}
	})

	t.Run("GivenUpIsFinal", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		_, entryID := f.deadRun(death{})
		claimed := f.outboxClaim(holderA, 10, shortLease, reviewChannel)
		if len(claimed) != 1 {
			t.Fatalf("claimed %d notifications; want 1", len(claimed))
		}
		id := claimed[0].Delivery.ID
		f.settle(id, holderA, klaxontype.DeliveryGivenUp, time.Time{}, "410 Gone after 8 attempts")
		d := f.delivery(entryID)
		if d.State != klaxontype.DeliveryGivenUp || d.Attempts != 1 || d.LastError != "410 Gone after 8 attempts" || !d.DeliveredAt.IsZero() {
			t.Errorf("delivery %+v; want given up after 1 attempt with its error, never delivered", d)
		}
		time.Sleep(2 * shortLease)
		if again := f.outboxClaim(holderB, 10, longLease, reviewChannel); len(again) != 0 {
			t.Errorf("a notification given up was claimed again: %v", deliveryEntryIDs(again))
		}
		for _, state := range []klaxontype.DeliveryState{klaxontype.DeliveryDelivered, klaxontype.DeliveryPending} {
			err := f.store.OutboxSettle(f.ctx, &store.OutboxSettleParams{ID: id, Holder: holderA, State: state})
			checkErrorIs(t, "OutboxSettle to "+string(state)+" of a notification given up", err, klaxontype.ErrLeaseLost)
		}
		if d := f.delivery(entryID); d.State != klaxontype.DeliveryGivenUp || d.Attempts != 1 {
			t.Errorf("delivery is %s after %d attempts; want still given up after 1", d.State, d.Attempts)
		}
		// The entry itself stays open for a person to act on.
		if entry := f.entry(entryID); entry.State != klaxontype.DeadLetterOpen {
			t.Errorf("entry is %s after its notification was given up; want open", entry.State)
		}
	})

	t.Run("SettleRefusesUnknownState", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		_, entryID := f.deadRun(death{})
		claimed := f.outboxClaim(holderA, 10, longLease, reviewChannel)
		if len(claimed) != 1 {
			t.Fatalf("claimed %d notifications; want 1", len(claimed))
		}
		err := f.store.OutboxSettle(f.ctx, &store.OutboxSettleParams{ID: claimed[0].Delivery.ID, Holder: holderA, State: "bounced"})
		checkErrorIs(t, "OutboxSettle to an unknown state", err, klaxontype.ErrInvalid)
		if d := f.delivery(entryID); d.State != klaxontype.DeliveryPending || d.Attempts != 0 {
			t.Errorf("delivery is %s after %d attempts; want pending, never attempted", d.State, d.Attempts)
		}
	})

	t.Run("ConcurrentClaims", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		const entries, dispatchers = 12, 4
		var ids []string
		for range entries {
			_, id := f.deadRun(death{})
			ids = append(ids, id)
		}
		var (
			mu      sync.Mutex
			claims  = make(map[string][]string) // entry ID → holders
			wg      sync.WaitGroup
			started = make(chan struct{})
		)
		for d := range dispatchers {
			holder := fmt.Sprintf("dispatcher-%d", d)
			wg.Go(func() {
				<-started
				// Every claim but the last takes at least one of the
				// notifications: more claims than there are means one was
				// handed out again.
				for range entries + 1 {
					messages, err := f.store.OutboxClaim(f.ctx, &store.OutboxClaimParams{
						Holder: holder, Channels: []string{reviewChannel}, Limit: 2, Lease: longLease,
					})
					if err != nil {
						t.Errorf("OutboxClaim by %s: %v", holder, err)
						return
					}
					if len(messages) == 0 {
						return
					}
					mu.Lock()
					for _, m := range messages {
						claims[m.Delivery.EntryID] = append(claims[m.Delivery.EntryID], holder)
					}
					mu.Unlock()
				}
				t.Errorf("%s claimed notifications %d times; there are only %d", holder, entries+1, entries)
			})
		}
		close(started)
		wg.Wait()
		if len(claims) != entries {
			t.Errorf("%d notifications claimed; want %d", len(claims), entries)
		}
		for _, id := range ids {
			if holders := claims[id]; len(holders) != 1 {
				t.Errorf("notification of entry %s claimed by %v; want one dispatcher", id, holders)
			}
		}
	})
}

// outboxClaim claims up to limit notifications of the channels for holder.
func (f *fixture) outboxClaim(holder string, limit int, lease time.Duration, channels ...string) []*store.OutboxMessage {
	f.t.Helper()
	messages, err := f.store.OutboxClaim(f.ctx, &store.OutboxClaimParams{
		Holder: holder, Channels: channels, Limit: limit, Lease: lease,
	})
	if err != nil {
		f.t.Fatalf("OutboxClaim by %s of %v: %v", holder, channels, err)
	}
	for _, m := range messages {
		if m.Delivery == nil {
			f.t.Fatalf("OutboxClaim by %s returned a message without its delivery", holder)
		}
	}
	return messages
}

// awaitOutboxClaim polls until holder claims one notification of the channel,
// which becomes claimable only once a lease runs out or it is due.
func (f *fixture) awaitOutboxClaim(holder, channel string) *store.OutboxMessage {
	f.t.Helper()
	deadline := time.Now().Add(awaitTimeout)
	for {
		switch claimed := f.outboxClaim(holder, 1, longLease, channel); {
		case len(claimed) == 1:
			return claimed[0]
		case time.Now().After(deadline):
			f.t.Fatalf("no notification on %s was claimable by %s within %s", channel, holder, awaitTimeout)
		}
		time.Sleep(pollInterval)
	}
}

// settle records a delivery attempt that the store must accept.
func (f *fixture) settle(id int64, holder string, state klaxontype.DeliveryState, next time.Time, deliveryError string) {
	f.t.Helper()
	err := f.store.OutboxSettle(f.ctx, &store.OutboxSettleParams{
		ID: id, Holder: holder, State: state, NextAttemptAt: next, Error: deliveryError,
	})
	if err != nil {
		f.t.Fatalf("OutboxSettle %d by %s to %s: %v", id, holder, state, err)
	}
}

// delivery returns the one notification of an entry, as DLQGet has it.
func (f *fixture) delivery(entryID string) *klaxontype.Delivery {
	f.t.Helper()
	entry := f.entry(entryID)
	if len(entry.Deliveries) != 1 {
		f.t.Fatalf("entry %s has %d deliveries; want 1", entryID, len(entry.Deliveries))
	}
	return entry.Deliveries[0]
}

func deliveryEntryIDs(messages []*store.OutboxMessage) []string {
	ids := make([]string, len(messages))
	for i, m := range messages {
		ids[i] = m.Delivery.EntryID
	}
	return ids
}
