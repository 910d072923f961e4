package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// testBreakers checks that an open breaker keeps its workflow's runs from
// being claimed, without losing them, until it is reset or its cool-down ends.
func testBreakers(t *testing.T, h *harness) {
	t.Run("OpenBreakerHoldsRunsUntilReset", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		held := f.enqueue(nil)
		other := f.enqueue(&store.RunEnqueueParams{Workflow: "other-workflow"})
		opened, err := f.store.BreakerTrip(f.ctx, &store.BreakerTripParams{
			Workflow: testWorkflow, Reason: "retry storm", Until: time.Now().Add(time.Hour), Actor: holderA, RunID: held.ID,
		})
		if err != nil || !opened {
			t.Fatalf("BreakerTrip: opened %v, %v", opened, err)
		}
		if again, err := f.store.BreakerTrip(f.ctx, &store.BreakerTripParams{
			Workflow: testWorkflow, Reason: "retry storm", Until: time.Now().Add(time.Hour), Actor: holderA,
		}); err != nil || again {
			t.Fatalf("tripping an open breaker: opened %v, %v; want false", again, err)
		}
		claimed := f.claim(holderB, 10, longLease, testWorkflow, "other-workflow")
		if len(claimed) != 1 || claimed[0].Run.ID != other.ID {
			t.Fatalf("claimed %d runs; want only the other workflow's run", len(claimed))
		}
		breakers, err := f.store.BreakerList(f.ctx)
		if err != nil || len(breakers) != 1 || !breakers[0].Open || breakers[0].Reason != "retry storm" || breakers[0].OpenedBy != holderA {
			t.Fatalf("BreakerList = %+v, %v", breakers, err)
		}
		events, _ := f.store.EventList(f.ctx, held.ID)
		if len(events) == 0 || events[len(events)-1].Type != klaxontype.EventBreakerTripped {
			t.Fatalf("events of the tripping run = %+v", events)
		}
		if err := f.store.BreakerReset(f.ctx, &store.BreakerResetParams{Workflow: testWorkflow, Actor: "ops"}); err != nil {
			t.Fatalf("BreakerReset: %v", err)
		}
		if claimed := f.claim(holderB, 10, longLease, testWorkflow); len(claimed) != 1 || claimed[0].Run.ID != held.ID {
			t.Fatalf("after the reset claimed %d runs; want the held one", len(claimed))
		}
		if err := f.store.BreakerReset(f.ctx, &store.BreakerResetParams{Workflow: testWorkflow, Actor: "ops"}); !errors.Is(err, klaxontype.ErrNotFound) {
			t.Fatalf("resetting a closed breaker: %v; want ErrNotFound", err)
		}
		breakers, _ = f.store.BreakerList(f.ctx)
		if len(breakers) != 1 || breakers[0].Open || breakers[0].ResetBy != "ops" {
			t.Fatalf("after reset BreakerList = %+v", breakers[0])
		}
	})
	t.Run("CoolDownEndsByItself", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		run := f.enqueue(nil)
		if _, err := f.store.BreakerTrip(f.ctx, &store.BreakerTripParams{
			Workflow: testWorkflow, Reason: "spend rate", Until: time.Now().Add(100 * time.Millisecond), Actor: holderA,
		}); err != nil {
			t.Fatal(err)
		}
		if claimed := f.claim(holderB, 10, longLease, testWorkflow); len(claimed) != 0 {
			t.Fatal("claimed a run behind an open breaker")
		}
		deadline := time.Now().Add(awaitTimeout)
		for time.Now().Before(deadline) {
			if claimed := f.claim(holderB, 10, longLease, testWorkflow); len(claimed) == 1 && claimed[0].Run.ID == run.ID {
				return
			}
			time.Sleep(pollInterval)
		}
		t.Fatal("the run was not claimable after the cool-down")
	})
	t.Run("NotifiesChannels", func(t *testing.T) { testBreakerNotification(t, h) })
	t.Run("TripNeedsReason", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		if _, err := f.store.BreakerTrip(f.ctx, &store.BreakerTripParams{Workflow: testWorkflow, Actor: holderA, Until: time.Now().Add(time.Hour)}); !errors.Is(err, klaxontype.ErrInvalid) {
			t.Fatalf("trip without a reason: %v", err)
		}
	})
}

// testBreakerNotification checks that a breaker that opens leaves a
// notification in the outbox for each channel named.
func testBreakerNotification(t *testing.T, h *harness) {
	t.Parallel()
	f := h.fixture(t)
	_, err := f.store.BreakerTrip(f.ctx, &store.BreakerTripParams{
		Workflow: testWorkflow, Reason: "spend rate", Until: time.Now().Add(time.Hour), Actor: holderA, Channels: []string{"ops"},
	})
	if err != nil {
		t.Fatal(err)
	}
	messages, err := f.store.OutboxClaim(f.ctx, &store.OutboxClaimParams{Holder: holderB, Channels: []string{"ops"}, Limit: 10, Lease: longLease})
	if err != nil || len(messages) != 1 || messages[0].Kind != klaxontype.NotificationBreaker {
		t.Fatalf("OutboxClaim = %+v, %v; want one breaker notification", messages, err)
	}
	if breaker, _ := messages[0].Payload.(*klaxontype.Breaker); breaker == nil || breaker.Workflow != testWorkflow || breaker.Reason != "spend rate" {
		t.Fatalf("OutboxClaim = %+v, %v; want one breaker notification", messages, err)
	}
	if err := f.store.OutboxSettle(f.ctx, &store.OutboxSettleParams{ID: messages[0].Delivery.ID, Holder: holderB, State: klaxontype.DeliveryDelivered}); err != nil {
		t.Fatalf("OutboxSettle: %v", err)
	}
	// Tripping the open breaker again tells nobody twice.
	_, _ = f.store.BreakerTrip(f.ctx, &store.BreakerTripParams{
		Workflow: testWorkflow, Reason: "spend rate", Until: time.Now().Add(time.Hour), Actor: holderA, Channels: []string{"ops"},
	})
	if again, _ := f.store.OutboxClaim(f.ctx, &store.OutboxClaimParams{Holder: holderB, Channels: []string{"ops"}, Limit: 10, Lease: longLease}); len(again) != 0 {
		t.Fatalf("a breaker already open was notified again: %+v", again)
	}
}
