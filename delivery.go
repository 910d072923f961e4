package klaxon

import (
	"context"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

const (
	// deliveryTimeout bounds one call of a handler.
	deliveryTimeout = 30 * time.Second
	// deliveryBatch is how many notifications are claimed at once; they are
	// delivered one after another.
	deliveryBatch = 4
	// deliveryLease reserves claimed notifications to this process while their
	// handlers run, one after another, each up to deliveryTimeout; a process
	// that dies leaves them to another after that.
	deliveryLease = deliveryBatch*deliveryTimeout + 30*time.Second
)

// dispatcher delivers the dead-letter notifications of the channels this
// client has handlers for, retrying failed deliveries with backoff until they
// are delivered or given up.
type dispatcher struct {
	store       store.Store
	holder      string
	handlers    map[string]DeadLetterHandler
	channels    []string
	poll        time.Duration
	maxAttempts int
	onError     func(delivery *klaxontype.Delivery, err error)
	wake        chan struct{}
}

func (d *dispatcher) notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// run delivers until ctx ends.
func (d *dispatcher) run(ctx context.Context) {
	for ctx.Err() == nil {
		messages, err := d.store.OutboxClaim(ctx, &store.OutboxClaimParams{
			Holder: d.holder, Channels: d.channels, Limit: deliveryBatch, Lease: deliveryLease,
		})
		if err != nil && ctx.Err() == nil && d.onError != nil {
			d.onError(nil, err)
		}
		for _, m := range messages {
			if ctx.Err() != nil {
				d.giveBack(m)
				continue
			}
			d.deliver(ctx, m)
		}
		if len(messages) == deliveryBatch {
			continue
		}
		timer := time.NewTimer(d.poll)
		select {
		case <-ctx.Done():
		case <-d.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

func (d *dispatcher) deliver(ctx context.Context, m *store.OutboxMessage) {
	handler := d.handlers[m.Delivery.Channel]
	callCtx, cancel := context.WithTimeout(ctx, deliveryTimeout)
	err := callHandler(callCtx, handler, m)
	cancel()
	if err != nil && ctx.Err() != nil {
		// Stopping cut the call short: not the handler's failure.
		d.giveBack(m)
		return
	}
	settle := &store.OutboxSettleParams{ID: m.Delivery.ID, Holder: d.holder, State: klaxontype.DeliveryDelivered}
	if err != nil {
		if d.onError != nil {
			d.onError(m.Delivery, err)
		}
		attempts := m.Delivery.Attempts + 1
		settle.Error = err.Error()
		if attempts >= d.maxAttempts {
			settle.State = klaxontype.DeliveryGivenUp
		} else {
			settle.State = klaxontype.DeliveryPending
			settle.NextAttemptAt = time.Now().Add(deliveryBackoff(attempts))
		}
	}
	if err := d.store.OutboxSettle(context.WithoutCancel(ctx), settle); err != nil && d.onError != nil {
		d.onError(m.Delivery, fmt.Errorf("record delivery: %w", err))
	}
}

// giveBack returns a claimed notification without counting an attempt, so
// the next dispatcher delivers it at once.
func (d *dispatcher) giveBack(m *store.OutboxMessage) {
	err := d.store.OutboxSettle(context.Background(), &store.OutboxSettleParams{
		ID: m.Delivery.ID, Holder: d.holder, State: klaxontype.DeliveryPending, NotAttempted: true,
	})
	if err != nil && d.onError != nil {
		d.onError(m.Delivery, fmt.Errorf("give back: %w", err))
	}
}

func callHandler(ctx context.Context, handler DeadLetterHandler, m *store.OutboxMessage) (err error) {
	defer func() {
		if recovered := recover(); recovered != nil {
			err = fmt.Errorf("dead-letter handler panicked: %v", recovered)
		}
	}()
	switch m.Kind {
	case klaxontype.NotificationDeadLetter:
		return handler.HandleDeadLetter(ctx, m.Payload.(*klaxontype.DeadLetter))
	case klaxontype.NotificationBreaker:
		if breakers, ok := handler.(BreakerHandler); ok {
			return breakers.HandleBreaker(ctx, m.Payload.(*klaxontype.Breaker))
		}
		return nil // this channel's handler does not take breaker news
	default:
		// Channels named alert:… belong to klaxon server's alert notifier.
		return fmt.Errorf("notification %d on channel %s is an alert notification, which klaxon server posts: do not name a dead-letter channel alert:…", m.Delivery.ID, m.Delivery.Channel)
	}
}

// deliveryBackoff doubles from one second to five minutes, with jitter.
func deliveryBackoff(failedAttempts int) time.Duration {
	return klaxontype.RetryPolicy{InitialBackoff: time.Second, MaxBackoff: 5 * time.Minute}.Backoff(failedAttempts)
}
