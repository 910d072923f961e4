package alert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/webhook"
)

const (
	// deliveryTimeout bounds one POST to a target.
	deliveryTimeout = 10 * time.Second
	// deliveryBatch is how many notifications one claim takes; they are
	// posted one after another, in the order they were recorded.
	deliveryBatch = 8
	// deliveryLease reserves claimed notifications to this notifier while it
	// posts them; a notifier that dies leaves them to another after that.
	deliveryLease = deliveryBatch*deliveryTimeout + 30*time.Second
	// DefaultMaxAttempts is how many times a notification is tried before
	// it is given up, unless NotifierOptions say otherwise.
	DefaultMaxAttempts = 20
)

// NotifierOptions configure a Notifier. Zero fields take defaults.
type NotifierOptions struct {
	// Holder names this notifier in the outbox's claims; it must differ
	// between processes.
	Holder string
	// Client posts the notifications; default one with a 10-second timeout
	// that follows no redirect.
	Client *http.Client
	// Poll is how often the outbox is read when nothing woke the notifier;
	// default a second.
	Poll time.Duration
	// MaxAttempts is how many times a notification is tried; default
	// DefaultMaxAttempts.
	MaxAttempts int
	// Backoff is how long to wait before trying a notification again after
	// its failed attempts; default doubling from a second to five minutes,
	// with jitter.
	Backoff func(failedAttempts int) time.Duration
	Logger  *slog.Logger
}

// Notifier delivers alert notifications from the store's outbox to the
// configured targets, at least once each: a notification is marked delivered
// only after its target answered 2xx, retried with backoff otherwise, and left
// in the outbox for the next notifier when this one stops.
type Notifier struct {
	store   store.Store
	config  *Config
	options NotifierOptions
}

// NewNotifier returns a notifier of config's targets.
func NewNotifier(st store.Store, config *Config, options NotifierOptions) *Notifier {
	if options.Holder == "" {
		options.Holder = "alert-notifier"
	}
	if options.Client == nil {
		options.Client = &http.Client{
			Timeout:       deliveryTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if options.Poll <= 0 {
		options.Poll = time.Second
	}
	if options.MaxAttempts <= 0 {
		options.MaxAttempts = DefaultMaxAttempts
	}
	if options.Backoff == nil {
		options.Backoff = func(failedAttempts int) time.Duration {
			return klaxontype.RetryPolicy{InitialBackoff: time.Second, MaxBackoff: 5 * time.Minute}.Backoff(failedAttempts)
		}
	}
	if options.Logger == nil {
		options.Logger = slog.New(slog.DiscardHandler)
	}
	return &Notifier{store: st, config: config, options: options}
}

// Run delivers until ctx ends.
func (n *Notifier) Run(ctx context.Context) {
	if len(n.config.Targets) == 0 {
		return
	}
	for ctx.Err() == nil {
		delivered, err := n.DeliverDue(ctx)
		if err != nil && ctx.Err() == nil {
			n.options.Logger.Error("alert notifications", "error", err)
		}
		if delivered == deliveryBatch {
			continue
		}
		timer := time.NewTimer(n.options.Poll)
		select {
		case <-ctx.Done():
		case <-timer.C:
		}
		timer.Stop()
	}
}

// DeliverDue claims the notifications due now, up to a batch, posts each to
// its target and records the outcome. It returns how many it claimed.
func (n *Notifier) DeliverDue(ctx context.Context) (int, error) {
	messages, err := n.store.OutboxClaim(ctx, &store.OutboxClaimParams{
		Holder: n.options.Holder, Channels: n.config.Channels(), Limit: deliveryBatch, Lease: deliveryLease,
	})
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, m := range messages {
		if ctx.Err() != nil {
			errs = append(errs, n.giveBack(m))
			continue
		}
		errs = append(errs, n.deliver(ctx, m))
	}
	return len(messages), errors.Join(errs...)
}

func (n *Notifier) deliver(ctx context.Context, m *store.OutboxMessage) error {
	target := n.config.Target(strings.TrimPrefix(m.Delivery.Channel, ChannelPrefix))
	notification, _ := m.Payload.(*Notification)
	var err error
	switch {
	case m.Kind != klaxontype.NotificationAlert || notification == nil || notification.Alert == nil:
		err = fmt.Errorf("notification %d on %s is not an alert notification", m.Delivery.ID, m.Delivery.Channel)
	case target == nil:
		err = fmt.Errorf("no target for channel %s", m.Delivery.Channel)
	default:
		callCtx, cancel := context.WithTimeout(ctx, deliveryTimeout)
		err = n.post(callCtx, target, notification)
		cancel()
		if err != nil && ctx.Err() != nil {
			// Stopping cut the post short: not the target's failure.
			return n.giveBack(m)
		}
	}
	settle := &store.OutboxSettleParams{ID: m.Delivery.ID, Holder: n.options.Holder, State: klaxontype.DeliveryDelivered}
	if err != nil {
		n.options.Logger.Warn("alert notification failed", "channel", m.Delivery.Channel, "attempt", m.Delivery.Attempts+1, "error", err)
		attempts := m.Delivery.Attempts + 1
		settle.Error = err.Error()
		if attempts >= n.options.MaxAttempts {
			settle.State = klaxontype.DeliveryGivenUp
		} else {
			settle.State = klaxontype.DeliveryPending
			settle.NextAttemptAt = time.Now().Add(n.options.Backoff(attempts))
		}
	}
	if err := n.store.OutboxSettle(context.WithoutCancel(ctx), settle); err != nil {
		return fmt.Errorf("record delivery of notification %d: %w", m.Delivery.ID, err)
	}
	return nil
}

// giveBack returns a claimed notification without counting an attempt, so
// the next notifier posts it at once.
func (n *Notifier) giveBack(m *store.OutboxMessage) error {
	return n.store.OutboxSettle(context.WithoutCancel(context.Background()), &store.OutboxSettleParams{
		ID: m.Delivery.ID, Holder: n.options.Holder, State: klaxontype.DeliveryPending, NotAttempted: true,
	})
}

// post sends one notification in the target's format.
func (n *Notifier) post(ctx context.Context, target *Target, notification *Notification) error {
	payload, err := body(target.Format, notification)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.URL, bytes.NewReader(payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", webhook.UserAgent)
	req.Header.Set(webhook.DeliveryHeader, DeliveryID(notification))
	req.Header.Set(webhook.EventHeader, EventHeaderValue(notification.Event))
	if len(target.Secret) > 0 {
		req.Header.Set(webhook.SignatureHeader, webhook.Sign(target.Secret, payload))
	}
	resp, err := n.options.Client.Do(req)
	if err != nil {
		return fmt.Errorf("post to target %s: %w", target.Name, err)
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("target %s answered %s: %s", target.Name, resp.Status, strings.Join(strings.Fields(string(excerpt)), " "))
	}
	return nil
}
