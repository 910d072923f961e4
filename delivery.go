package klaxon

import (
	"context"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/internal/outbox"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/redact"
	"github.com/klaxonhq/klaxon/store"
)

const (
	// deliveryTimeout bounds one call of a handler.
	deliveryTimeout = 30 * time.Second
	// deliveryBatch is how many notifications are claimed at once; they are
	// delivered one after another.
	deliveryBatch = 4
	// defaultMaxDeliveryAttempts is Config.MaxDeliveryAttempts by default.
	defaultMaxDeliveryAttempts = 10
)

// newDispatcher returns the outbox dispatcher that delivers the dead-letter
// and breaker notifications of the configured channels to their handlers, or
// nil when there are none.
func (c *Client) newDispatcher() *outbox.Dispatcher {
	if len(c.config.Channels) == 0 {
		return nil
	}
	handlers := c.config.Channels
	config := outbox.Config{
		Store:  c.store,
		Holder: c.config.WorkerID,
		Deliver: func(ctx context.Context, m *store.OutboxMessage) error {
			masked, err := c.maskedNotification(ctx, m)
			if err != nil {
				return err
			}
			return deliver(ctx, handlers[m.Delivery.Channel], masked)
		},
		Batch:       deliveryBatch,
		Timeout:     deliveryTimeout,
		Poll:        c.config.DeliveryPollInterval,
		MaxAttempts: c.config.MaxDeliveryAttempts,
	}
	if config.MaxAttempts <= 0 {
		config.MaxAttempts = defaultMaxDeliveryAttempts
	}
	channels := make([]string, 0, len(handlers))
	for channel := range handlers {
		channels = append(channels, channel)
	}
	config.Channels = func() []string { return channels }
	if logger := c.config.Logger; logger != nil {
		report := func(m *store.OutboxMessage, err error) {
			if m == nil {
				logger.Error("claiming dead-letter notifications failed", "error", err)
				return
			}
			logger.Warn("dead-letter notification failed", "entry", m.Delivery.EntryID, "channel", m.Delivery.Channel, "attempt", m.Delivery.Attempts+1, "error", err)
		}
		config.OnFailure, config.OnError = report, report
	}
	return outbox.New(config)
}

// deliver hands one notification to its channel's handler, by kind. A
// notification of a kind no channel handler takes is a failed delivery: its
// channel belongs to another deliverer, and was configured here by mistake.
func deliver(ctx context.Context, handler DeadLetterHandler, m *store.OutboxMessage) error {
	switch m.Kind {
	case klaxontype.NotificationDeadLetter:
		if entry, ok := m.Payload.(*klaxontype.DeadLetter); ok {
			return handler.HandleDeadLetter(ctx, entry)
		}
	case klaxontype.NotificationBreaker:
		breaker, ok := m.Payload.(*klaxontype.Breaker)
		if !ok {
			break
		}
		if breakers, ok := handler.(BreakerHandler); ok {
			return breakers.HandleBreaker(ctx, breaker)
		}
		return nil // this channel's handler does not take breaker news
	case klaxontype.NotificationApproval:
		request, ok := m.Payload.(*klaxontype.ApprovalNotification)
		if !ok {
			break
		}
		if approvals, ok := handler.(ApprovalHandler); ok {
			return approvals.HandleApproval(ctx, request)
		}
		return nil // this channel's handler does not take approval requests
	default:
		return fmt.Errorf("notification %d on channel %s is of kind %s, which a client's channel handlers do not take: another process delivers this channel", m.Delivery.ID, m.Delivery.Channel, m.Kind)
	}
	return fmt.Errorf("%s notification %d carries %T", m.Kind, m.Delivery.ID, m.Payload)
}

// maskedNotification is m with its dead-letter entry masked by the
// workflow's redaction rule (Redact, RedactPattern, and Config.Redaction's): a channel's handler (a
// webhook, say) carries the entry out of the process, so it gets what a read
// token would see. The store keeps the real values; a handler that needs
// them reads the entry with Client.DeadLetter.
func (c *Client) maskedNotification(ctx context.Context, m *store.OutboxMessage) (*store.OutboxMessage, error) {
	entry, ok := m.Payload.(*klaxontype.DeadLetter)
	if !ok || entry == nil {
		return m, nil
	}
	workflows, err := c.store.WorkflowList(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the workflows' redaction rules: %w", err)
	}
	rules, err := redact.NewSet(workflows, c.config.Redaction)
	if err != nil {
		return nil, err
	}
	rule := rules.For(entry.Workflow)
	if rule.Empty() {
		return m, nil
	}
	masked := *m
	masked.Payload = rule.DeadLetter(entry)
	return &masked, nil
}
