package outbox_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/internal/outbox"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
)

// TestDispatcherSettlesEveryOutcome: a notification its recipient takes is
// delivered; one that fails, or panics, is retried after the backoff and
// given up after MaxAttempts, each failure told to OnFailure; one claimed by
// a dispatcher that stops is given back untried.
func TestDispatcherSettlesEveryOutcome(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		deliver    outbox.DeliverFunc
		wantState  klaxontype.DeliveryState
		wantTries  int
		wantError  string
		wantFailed int
	}{
		{"delivered", func(context.Context, *store.OutboxMessage) error { return nil }, klaxontype.DeliveryDelivered, 1, "", 0},
		{"failing", func(context.Context, *store.OutboxMessage) error { return errors.New("pager quota exceeded") }, klaxontype.DeliveryGivenUp, 2, "pager quota exceeded", 2},
		{"panicking", func(context.Context, *store.OutboxMessage) error { panic("nil map") }, klaxontype.DeliveryGivenUp, 2, "panicked: nil map", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := &recordingStore{Store: openStore(t)}
			tripBreaker(t, st, "ops")
			var mu sync.Mutex
			var kinds []klaxontype.NotificationKind
			failed := 0
			d := outbox.New(outbox.Config{
				Store: st, Holder: "test", Channels: ops, MaxAttempts: 2,
				Backoff: func(int) time.Duration { return time.Millisecond },
				Deliver: func(ctx context.Context, m *store.OutboxMessage) error {
					mu.Lock()
					kinds = append(kinds, m.Kind)
					mu.Unlock()
					return tc.deliver(ctx, m)
				},
				OnFailure: func(*store.OutboxMessage, error) { failed++ },
				OnError:   func(_ *store.OutboxMessage, err error) { t.Errorf("OnError: %v", err) },
			})
			deadline := time.Now().Add(5 * time.Second)
			for pending(t, st) > 0 {
				if _, err := d.DeliverDue(ctx); err != nil {
					t.Fatalf("DeliverDue: %v", err)
				}
				if time.Now().After(deadline) {
					t.Fatalf("still %d pending", pending(t, st))
				}
				time.Sleep(2 * time.Millisecond)
			}
			got := st.last()
			if got.State != tc.wantState || len(kinds) != tc.wantTries || !strings.Contains(got.Error, tc.wantError) || failed != tc.wantFailed {
				t.Fatalf("settled %s after %d attempts (%q), %d failures told; want %s after %d (%q), %d told",
					got.State, len(kinds), got.Error, failed, tc.wantState, tc.wantTries, tc.wantError, tc.wantFailed)
			}
			for _, kind := range kinds {
				if kind != klaxontype.NotificationBreaker {
					t.Errorf("delivered a notification of kind %q; want breaker", kind)
				}
			}
		})
	}

	t.Run("stopped", func(t *testing.T) {
		t.Parallel()
		st := &recordingStore{Store: openStore(t)}
		tripBreaker(t, st, "ops")
		ctx, stop := context.WithCancel(context.Background())
		d := outbox.New(outbox.Config{
			Store: st, Holder: "stopping", Channels: ops,
			Deliver: func(ctx context.Context, _ *store.OutboxMessage) error {
				stop()
				<-ctx.Done()
				return ctx.Err()
			},
			OnFailure: func(_ *store.OutboxMessage, err error) { t.Errorf("a stop counted as a failure: %v", err) },
		})
		d.Run(ctx)
		if got := st.last(); got.State != klaxontype.DeliveryPending || !got.NotAttempted {
			t.Fatalf("settled %+v on a stop; want given back untried", got)
		}
		// Given back, it is due at once for the next dispatcher.
		next := outbox.New(outbox.Config{
			Store: st, Holder: "next", Channels: ops,
			Deliver: func(context.Context, *store.OutboxMessage) error { return nil },
		})
		if n, err := next.DeliverDue(context.Background()); n != 1 || err != nil {
			t.Fatalf("DeliverDue after the give-back = %d, %v; want the notification delivered", n, err)
		}
	})
}

func ops() []string { return []string{"ops"} }

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "klaxon.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// tripBreaker writes one breaker notification to channel.
func tripBreaker(t *testing.T, st store.Store, channel string) {
	t.Helper()
	_, err := st.BreakerTrip(context.Background(), &store.BreakerTripParams{
		Workflow: "pipeline", Reason: "retry storm", Until: time.Now().Add(time.Hour), Actor: "test", Channels: []string{channel},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func pending(t *testing.T, st store.Store) int {
	t.Helper()
	n, err := st.OutboxCountPending(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// recordingStore is a real store that keeps what the dispatcher settled,
// which the store shows only for dead-letter notifications.
type recordingStore struct {
	store.Store
	mu      sync.Mutex
	settled []store.OutboxSettleParams
}

func (s *recordingStore) OutboxSettle(ctx context.Context, params *store.OutboxSettleParams) error {
	s.mu.Lock()
	s.settled = append(s.settled, *params)
	s.mu.Unlock()
	return s.Store.OutboxSettle(ctx, params)
}

// last is the latest outcome settled.
func (s *recordingStore) last() store.OutboxSettleParams {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.settled) == 0 {
		return store.OutboxSettleParams{}
	}
	return s.settled[len(s.settled)-1]
}

// TestConcurrentDispatcherIsNotHeldByAHungRecipient: while one notification
// hangs in its delivery, a concurrent dispatcher delivers one written after
// it, on another channel, at once; stopping gives the hung one back untried.
func TestConcurrentDispatcherIsNotHeldByAHungRecipient(t *testing.T) {
	t.Parallel()
	st := &recordingStore{Store: openStore(t)}
	tripBreaker(t, st, "slow")
	hung := make(chan struct{})
	delivered := make(chan string, 4)
	d := outbox.New(outbox.Config{
		Store: st, Holder: "concurrent", Concurrent: true, Batch: 1, Poll: time.Hour,
		Channels: func() []string { return []string{"slow", "fast"} },
		Deliver: func(ctx context.Context, m *store.OutboxMessage) error {
			if m.Delivery.Channel == "slow" {
				close(hung)
				<-ctx.Done()
				return ctx.Err()
			}
			delivered <- m.Delivery.Channel
			return nil
		},
		OnFailure: func(_ *store.OutboxMessage, err error) { t.Errorf("a stop counted as a failure: %v", err) },
	})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		d.Run(ctx)
		close(done)
	}()
	<-hung
	// Another workflow's breaker: the first one is open already.
	if _, err := st.BreakerTrip(context.Background(), &store.BreakerTripParams{
		Workflow: "refunds", Reason: "retry storm", Until: time.Now().Add(time.Hour), Actor: "test", Channels: []string{"fast"},
	}); err != nil {
		t.Fatal(err)
	}
	d.Wake()
	select {
	case channel := <-delivered:
		if channel != "fast" {
			t.Fatalf("delivered on %s; want fast", channel)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the notification written after the hung one was not delivered within 5s")
	}
	stop()
	<-done
	if got := st.last(); got.State != klaxontype.DeliveryPending || !got.NotAttempted {
		t.Fatalf("the hung notification was settled %+v on a stop; want given back untried", got)
	}
}
