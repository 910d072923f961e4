package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"

	"github.com/klaxonhq/klaxon/internal/outbox"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/redact"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/webhook"
)

const (
	deliveryHeader = webhook.DeliveryHeader
	eventHeader    = webhook.EventHeader
	// deliveryBatch is how many notifications one claim takes; they are
	// delivered at once.
	deliveryBatch = 16
	// DefaultMaxAttempts is how many times a notification is tried before it
	// is given up, unless Options say otherwise: with the default backoff,
	// about an hour of a target's outage.
	DefaultMaxAttempts = 20
	// errorBodyLimit is how much of a refusing answer an error quotes.
	errorBodyLimit = 200
)

// Store is what a Deliverer uses of a store: the outbox it delivers, and the
// alerts it raises and resolves for a target that keeps failing. Any
// store.Store is one.
type Store interface {
	outbox.Store
	AlertFire(ctx context.Context, params *store.AlertFireParams) (*klaxontype.Alert, bool, error)
	AlertUpdate(ctx context.Context, params *store.AlertUpdateParams) (*klaxontype.Alert, bool, error)
	AlertResolve(ctx context.Context, params *store.AlertResolveParams) (*klaxontype.Alert, bool, error)
	// WorkflowList gives the workflows' redaction rules, applied to every
	// dead-letter entry before a target's own redact paths.
	WorkflowList(ctx context.Context) ([]*klaxontype.WorkflowInfo, error)
}

// Options configure a Deliverer. Zero fields take defaults.
type Options struct {
	// Holder names the deliverer in the outbox's claims; it must differ
	// between processes.
	Holder string
	// Client posts to the targets; default one that follows no redirect.
	// Each request is bounded by its target's timeout whatever the client's.
	Client *http.Client
	// Poll is how often the outbox is read when nothing woke the deliverer;
	// default a second.
	Poll time.Duration
	// MaxAttempts is how many times a notification is tried before it is
	// given up; default DefaultMaxAttempts.
	MaxAttempts int
	// Backoff is how long to wait after failed attempts, both before a
	// notification is tried again and before a target that failed is
	// called again; default doubling from a second to five minutes, with
	// jitter.
	Backoff func(failedAttempts int) time.Duration
	Logger  *slog.Logger
	// Redaction is the operator's redaction policy, added to each
	// workflow's registered rule in the dead-letter entries the targets
	// get; nil adds nothing.
	Redaction *redact.Policy
}

// Deliverer delivers the notifications of a channels file's channels to
// their targets, at least once each. A notification is claimed by one
// deliverer of the database at a time (the outbox fences it), sent to every
// target of its channel at once, and settled delivered when all of them took
// it; otherwise it is tried again after a backoff, and then only the targets
// that have not taken it yet are called (as long as the same process tries
// again: after a restart, or from another server, a target that took it may
// get it twice and deduplicates by Klaxon-Delivery). Notifications are
// delivered many at once, more claimed as soon as some are done, and a
// target that failed is not called again before its own backoff has passed,
// so a target that hangs holds only its own notifications and costs one
// timeout per backoff, not one per notification.
type Deliverer struct {
	config     *Config
	store      Store
	options    Options
	logger     *slog.Logger
	dispatcher *outbox.Dispatcher

	mu sync.Mutex
	// took are the targets that took each notification under way, kept
	// until it is delivered or given up here, or forgotten after
	// forgetAfter: another server may have finished it.
	took map[int64]*partialDelivery
	// health is each target's run of failures.
	health map[*Target]*targetHealth
}

// forgetAfter is how long a notification's partial delivery is remembered
// since it was last tried here: longer than any backoff between its
// attempts.
const forgetAfter = time.Hour

// partialDelivery is which targets took a notification that some did not.
type partialDelivery struct {
	targets   map[*Target]bool
	lastTried time.Time
}

// targetHealth is a target's run of failed attempts.
type targetHealth struct {
	failures int
	retryAt  time.Time
	// alertID is the alert raised for the run of failures, once raised.
	alertID string
}

// New returns a deliverer of config's channels.
func New(st Store, config *Config, options Options) *Deliverer {
	if options.Holder == "" {
		options.Holder = "klaxon-channels"
	}
	if options.Client == nil {
		options.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if options.MaxAttempts <= 0 {
		options.MaxAttempts = DefaultMaxAttempts
	}
	if options.Backoff == nil {
		options.Backoff = outbox.DefaultBackoff
	}
	logger := options.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	d := &Deliverer{
		config: config, store: st, options: options, logger: logger,
		took: map[int64]*partialDelivery{}, health: map[*Target]*targetHealth{},
	}
	longest := time.Duration(0)
	for _, ch := range config.Channels {
		for _, t := range ch.Targets {
			longest = max(longest, t.Timeout)
			d.health[t] = &targetHealth{}
		}
	}
	channels := config.ChannelNames()
	d.dispatcher = outbox.New(outbox.Config{
		Store:       st,
		Holder:      options.Holder,
		Channels:    func() []string { return channels },
		Deliver:     d.deliver,
		Batch:       deliveryBatch,
		Concurrent:  true,
		Timeout:     longest + 5*time.Second,
		Poll:        options.Poll,
		MaxAttempts: options.MaxAttempts,
		Backoff:     options.Backoff,
		OnFailure: func(m *store.OutboxMessage, err error) {
			logger.Warn("notification not delivered", "channel", m.Delivery.Channel, "kind", m.Kind,
				"notification", m.Delivery.ID, "attempt", m.Delivery.Attempts+1, "error", err)
		},
		OnError: func(_ *store.OutboxMessage, err error) {
			logger.Error("notifications", "error", err)
		},
	})
	return d
}

// Run delivers until ctx ends.
func (d *Deliverer) Run(ctx context.Context) { d.dispatcher.Run(ctx) }

// DeliverDue claims the notifications due now, up to a batch, delivers each
// to its channel's targets and records the outcome. It returns how many it
// claimed, and the store's failures; a target's failure is not an error
// here but a failed attempt, retried after its backoff.
func (d *Deliverer) DeliverDue(ctx context.Context) (int, error) { return d.dispatcher.DeliverDue(ctx) }

// deliver sends one notification to the targets of its channel that have
// not taken it yet, all at once, and fails if any of them did not take it.
func (d *Deliverer) deliver(ctx context.Context, m *store.OutboxMessage) error {
	targets := d.config.Targets(m.Delivery.Channel)
	if len(targets) == 0 {
		return fmt.Errorf("channel %s has no targets here", m.Delivery.Channel)
	}
	n, err := notificationOf(m, d.config.DashboardURL)
	if err != nil {
		return err
	}
	if n.DeadLetter != nil {
		// The workflow's redaction rule applies to every target, whatever
		// the channels file says of it.
		rule, err := d.workflowRule(ctx, n.DeadLetter.Workflow)
		if err != nil {
			return err
		}
		n.DeadLetter = rule.DeadLetter(n.DeadLetter)
	}
	d.mu.Lock()
	now := time.Now()
	for id, partial := range d.took {
		if now.Sub(partial.lastTried) > forgetAfter {
			delete(d.took, id)
		}
	}
	partial := d.took[m.Delivery.ID]
	if partial == nil {
		partial = &partialDelivery{targets: map[*Target]bool{}}
		d.took[m.Delivery.ID] = partial
	}
	partial.lastTried = now
	took := partial.targets
	var pending []*Target
	for _, t := range targets {
		if !took[t] {
			pending = append(pending, t)
		}
	}
	d.mu.Unlock()

	errs := make([]error, len(pending))
	var wg sync.WaitGroup
	for i, t := range pending {
		wg.Go(func() { errs[i] = d.deliverTo(ctx, t, n) })
	}
	wg.Wait()

	d.mu.Lock()
	defer d.mu.Unlock()
	for i, t := range pending {
		if errs[i] == nil {
			took[t] = true
		}
	}
	err = errors.Join(errs...)
	if err == nil || ctx.Err() != nil || m.Delivery.Attempts+1 >= d.options.MaxAttempts {
		// Delivered, or given up, or given back to whichever deliverer
		// claims it next: nothing more to remember.
		delete(d.took, m.Delivery.ID)
	}
	return err
}

// deliverTo makes one attempt to tell a target, unless the target is
// backing off after failures, and keeps its run of failures.
func (d *Deliverer) deliverTo(ctx context.Context, t *Target, n *Notification) error {
	d.mu.Lock()
	health := d.health[t]
	retryAt, failures := health.retryAt, health.failures
	d.mu.Unlock()
	if wait := time.Until(retryAt); wait > 0 {
		return fmt.Errorf("target %s: not tried: waiting %s after %d failures in a row", t, wait.Round(time.Millisecond), failures)
	}
	callCtx, cancel := context.WithTimeout(ctx, t.Timeout)
	err := d.post(callCtx, t, n)
	timedOut := errors.Is(callCtx.Err(), context.DeadlineExceeded)
	cancel()
	if err != nil && ctx.Err() != nil {
		return err // stopping, not the target's failure
	}
	if err != nil && timedOut {
		err = fmt.Errorf("target %s: no answer within %s", t, t.Timeout)
	}
	d.mu.Lock()
	if err == nil {
		alertID := health.alertID
		health.failures, health.retryAt, health.alertID = 0, time.Time{}, ""
		d.mu.Unlock()
		if alertID != "" {
			d.resolveAlert(ctx, t, alertID)
		}
		return nil
	}
	health.failures++
	health.retryAt = time.Now().Add(d.options.Backoff(health.failures))
	failures = health.failures
	d.mu.Unlock()
	if failures >= d.config.AlertAfter {
		d.raiseAlert(ctx, t, failures, err)
	}
	return err
}

// post sends one notification to a target.
func (d *Deliverer) post(ctx context.Context, t *Target, n *Notification) error {
	body, headers, err := t.Body(n)
	if err != nil {
		return fmt.Errorf("target %s: %w", t, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("target %s: %w", t, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", webhook.UserAgent)
	for name, value := range headers {
		req.Header.Set(name, value)
	}
	if len(t.Secret) > 0 {
		req.Header.Set(webhook.SignatureHeader, webhook.Sign(t.Secret, body))
	}
	resp, err := d.options.Client.Do(req)
	if err != nil {
		// Not the *url.Error: it quotes the whole URL, and a Slack URL's
		// path is its secret.
		cause := err
		if urlErr, ok := errors.AsType[*url.Error](err); ok {
			cause = urlErr.Err
		}
		return fmt.Errorf("target %s: post to %s: %w", t, t.Host(), cause)
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyLimit+utf8.UTFMax))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		text := strings.ToValidUTF8(oneLine(string(excerpt)), "\uFFFD")
		if len(text) > errorBodyLimit {
			text = text[:errorBodyLimit] + "…"
		}
		return fmt.Errorf("target %s: %s answered %s: %s", t, t.Host(), resp.Status, text)
	}
	return nil
}

// alertRule is the rule name of a target's failing alert: one alert at a
// time per target across every server of the database.
func alertRule(t *Target) string { return "notification-target:" + t.String() }

// raiseAlert fires the alert of a target that keeps failing, or, when it
// fires already (raised here or by another server), records the latest
// failure on it so that the alert evaluators keep it firing.
func (d *Deliverer) raiseAlert(ctx context.Context, t *Target, failures int, cause error) {
	ctx = context.WithoutCancel(ctx)
	now := time.Now().UTC().Truncate(time.Microsecond)
	why := strings.TrimPrefix(cause.Error(), "target "+t.String()+": ")
	summary := fmt.Sprintf("notification target %s (%s to %s) failed %d attempts in a row: %s", t, t.Type, t.Host(), failures, oneLine(why))
	a, fired, err := d.store.AlertFire(ctx, &store.AlertFireParams{
		ID: ulid.Make().String(), Rule: alertRule(t), Kind: klaxontype.AlertNotificationFailing,
		Severity: klaxontype.SeverityWarning, Summary: summary, Value: float64(failures),
		Threshold: float64(d.config.AlertAfter), At: now, Channels: d.config.AlertChannels,
	})
	if err == nil && !fired {
		_, _, err = d.store.AlertUpdate(ctx, &store.AlertUpdateParams{
			ID: a.ID, Summary: summary, Value: float64(failures), Threshold: float64(d.config.AlertAfter), At: now,
		})
	}
	if err != nil {
		d.logger.Error("raising the alert of a failing notification target", "target", t.String(), "error", err)
		return
	}
	if fired {
		d.logger.Warn("notification target keeps failing: alert raised", "target", t.String(), "alert", a.ID, "failures", failures)
	}
	d.mu.Lock()
	if d.health[t].failures > 0 {
		d.health[t].alertID = a.ID
	}
	d.mu.Unlock()
}

// resolveAlert resolves a target's alert once it took a notification again.
func (d *Deliverer) resolveAlert(ctx context.Context, t *Target, alertID string) {
	_, _, err := d.store.AlertResolve(context.WithoutCancel(ctx), &store.AlertResolveParams{
		ID: alertID, At: time.Now().UTC().Truncate(time.Microsecond),
		Summary:  fmt.Sprintf("notification target %s took a notification again", t),
		Channels: d.config.AlertChannels,
	})
	if err != nil {
		d.logger.Error("resolving the alert of a notification target", "target", t.String(), "error", err)
	}
}

// workflowRule is the redaction rule of a workflow, read from the store for
// each notification so that a rule registered since is applied at once,
// with the operator's policy added.
func (d *Deliverer) workflowRule(ctx context.Context, workflow string) (*redact.Rule, error) {
	workflows, err := d.store.WorkflowList(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the workflows' redaction rules: %w", err)
	}
	rules, err := redact.NewSet(workflows, d.options.Redaction)
	if err != nil {
		return nil, err
	}
	return rules.For(workflow), nil
}
