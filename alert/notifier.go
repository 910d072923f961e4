package alert

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/internal/outbox"
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
// in the outbox for the next notifier when this one stops. The outbox's loop
// is internal/outbox's, shared with the dead-letter notifications of clients;
// what is the notifier's own is finding a channel's target and posting to it.
type Notifier struct {
	config     *Config
	client     *http.Client
	dispatcher *outbox.Dispatcher
}

// NewNotifier returns a notifier of config's targets.
func NewNotifier(st store.Outbox, config *Config, options NotifierOptions) *Notifier {
	if options.Holder == "" {
		options.Holder = "alert-notifier"
	}
	if options.Client == nil {
		options.Client = &http.Client{
			Timeout:       deliveryTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if options.MaxAttempts <= 0 {
		options.MaxAttempts = DefaultMaxAttempts
	}
	logger := options.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	n := &Notifier{config: config, client: options.Client}
	n.dispatcher = outbox.New(outbox.Config{
		Store:       st,
		Holder:      options.Holder,
		Channels:    config.Channels,
		Deliver:     n.deliver,
		Batch:       deliveryBatch,
		Timeout:     deliveryTimeout,
		Poll:        options.Poll,
		MaxAttempts: options.MaxAttempts,
		Backoff:     options.Backoff,
		OnFailure: func(m *store.OutboxMessage, err error) {
			logger.Warn("alert notification failed", "channel", m.Delivery.Channel, "attempt", m.Delivery.Attempts+1, "error", err)
		},
		OnError: func(_ *store.OutboxMessage, err error) {
			logger.Error("alert notifications", "error", err)
		},
	})
	return n
}

// Run delivers until ctx ends; with no targets, it returns at once.
func (n *Notifier) Run(ctx context.Context) { n.dispatcher.Run(ctx) }

// DeliverDue claims the notifications due now, up to a batch, posts each to
// its target and records the outcome. It returns how many it claimed, and
// the store's failures to claim or record; a target's refusal is not an
// error here but a failed attempt, retried after its backoff.
func (n *Notifier) DeliverDue(ctx context.Context) (int, error) {
	return n.dispatcher.DeliverDue(ctx)
}

// deliver posts one notification to the target of its channel.
func (n *Notifier) deliver(ctx context.Context, m *store.OutboxMessage) error {
	notification, _ := m.Payload.(*Notification)
	if m.Kind != klaxontype.NotificationAlert || notification == nil || notification.Alert == nil {
		return fmt.Errorf("notification %d on %s is not an alert notification", m.Delivery.ID, m.Delivery.Channel)
	}
	target := n.config.Target(strings.TrimPrefix(m.Delivery.Channel, ChannelPrefix))
	if target == nil {
		return fmt.Errorf("no target for channel %s", m.Delivery.Channel)
	}
	return n.post(ctx, target, notification)
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
	resp, err := n.client.Do(req)
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
