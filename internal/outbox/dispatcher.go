package outbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// Defaults of the zero fields of Config.
const (
	// DefaultBatch keeps a claim small, so that a slow recipient holds few
	// notifications away from other dispatchers.
	DefaultBatch = 4
	// DefaultTimeout is long enough for a recipient's slow day, short
	// enough that a hung one does not hold the batch for long.
	DefaultTimeout = 30 * time.Second
	// DefaultPoll is how late a notification written by another process
	// is noticed.
	DefaultPoll = time.Second
	// DefaultMaxAttempts with DefaultBackoff keeps trying for four to nine
	// minutes: a recipient's restart, not an outage of hours.
	DefaultMaxAttempts = 10
)

// inFlightBatches is how many claims' worth of notifications a Concurrent
// dispatcher delivers at once.
const inFlightBatches = 4

// Store is the part of store.Store a dispatcher uses: claiming due
// notifications and settling them. Any store.Store is one.
type Store interface {
	OutboxClaim(ctx context.Context, params *store.OutboxClaimParams) ([]*store.OutboxMessage, error)
	OutboxSettle(ctx context.Context, params *store.OutboxSettleParams) error
}

// DeliverFunc delivers one claimed notification. Nil means its recipient took
// it; an error is a failed attempt, tried again after a backoff until
// Config.MaxAttempts. It must honour ctx, which ends after Config.Timeout or
// when the dispatcher stops; an attempt cut short by a stop is not counted.
type DeliverFunc func(ctx context.Context, message *store.OutboxMessage) error

// Config says whose notifications a dispatcher delivers, how, and how
// patiently. Store, Holder, Channels and Deliver are required; zero fields
// of the rest take defaults.
type Config struct {
	Store Store
	// Holder names the dispatcher in the outbox's claims; it must differ
	// between processes, or two would settle each other's notifications.
	Holder string
	// Channels returns the outbox channels to deliver. It is asked before
	// each claim, so that a deliverer whose configuration changes claims
	// what it now delivers; a dispatcher of no channels does nothing.
	Channels func() []string
	Deliver  DeliverFunc
	// Batch is how many notifications one claim takes; they are delivered
	// one after another, in the order they were recorded, unless Concurrent.
	// Default DefaultBatch.
	Batch int
	// Concurrent delivers the notifications of a claim at once rather than
	// one after another, for a deliverer whose recipients differ by channel,
	// and Run claims more as soon as some are delivered, up to four claims'
	// worth in flight, rather than after the whole claim: a recipient that
	// hangs holds only its own notifications, and the others' go out
	// meanwhile. The order of deliveries is then not kept, and Deliver,
	// OnFailure and OnError are called from several goroutines at once.
	Concurrent bool
	// Timeout bounds one call of Deliver; default DefaultTimeout. A claim
	// reserves its notifications for Batch calls of Timeout and half a
	// minute more, after which a dispatcher that died leaves them to another.
	Timeout time.Duration
	// Poll is how often the outbox is read when nothing woke the dispatcher;
	// default DefaultPoll.
	Poll time.Duration
	// MaxAttempts is how many times a notification is tried before it is
	// given up (its record stays, with the last error); default
	// DefaultMaxAttempts.
	MaxAttempts int
	// Backoff is how long to wait before trying a notification again after
	// its failed attempts; default doubling from a second to five minutes,
	// with jitter.
	Backoff func(failedAttempts int) time.Duration
	// OnFailure, if set, is told of each failed attempt to deliver, before
	// the notification is settled for a retry or given up: the recipient's
	// trouble.
	OnFailure func(message *store.OutboxMessage, err error)
	// OnError, if set, is told of each failure of the outbox itself: a claim
	// that failed (message nil; not reported once ctx ended), an outcome or a
	// give-back the store did not record. The notification concerned stays
	// in the outbox and is claimed again when its lease runs out.
	OnError func(message *store.OutboxMessage, err error)
}

// Dispatcher runs the outbox's loop for one deliverer: claim what is due,
// deliver, settle, back off. Delivery is at least once: a notification is
// settled as delivered only after Deliver returned nil, and one claimed by a
// dispatcher that dies is claimed again once its lease runs out.
type Dispatcher struct {
	config Config
	lease  time.Duration
	wake   chan struct{}
}

// New returns a dispatcher of config, with defaults for its zero fields. It
// panics without a store, a holder, channels or a delivery function: that is a bug of
// its caller, not a condition to handle.
func New(config Config) *Dispatcher {
	if config.Store == nil || config.Holder == "" || config.Channels == nil || config.Deliver == nil {
		panic("outbox: a dispatcher needs a store, a holder, its channels and a delivery function")
	}
	if config.Batch <= 0 {
		config.Batch = DefaultBatch
	}
	if config.Timeout <= 0 {
		config.Timeout = DefaultTimeout
	}
	if config.Poll <= 0 {
		config.Poll = DefaultPoll
	}
	if config.MaxAttempts <= 0 {
		config.MaxAttempts = DefaultMaxAttempts
	}
	if config.Backoff == nil {
		config.Backoff = DefaultBackoff
	}
	return &Dispatcher{
		config: config,
		lease:  time.Duration(config.Batch)*config.Timeout + 30*time.Second,
		wake:   make(chan struct{}, 1),
	}
}

// DefaultBackoff doubles from one second to five minutes, with jitter: a
// recipient that is down for a while is not hammered, and one back soon gets
// its notifications soon.
func DefaultBackoff(failedAttempts int) time.Duration {
	return klaxontype.RetryPolicy{InitialBackoff: time.Second, MaxBackoff: 5 * time.Minute}.Backoff(failedAttempts)
}

// Wake makes a running dispatcher read the outbox now rather than at its
// next poll, for a notification its own process just wrote. It never blocks.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, reading the outbox again at once after a
// full batch, otherwise after Poll or a Wake. It returns at once when the
// dispatcher has no channels when it starts. What goes wrong is told to OnFailure and
// OnError. A Concurrent dispatcher claims again as soon as deliveries end, and
// waits for those under way before it returns.
func (d *Dispatcher) Run(ctx context.Context) {
	if len(d.config.Channels()) == 0 {
		return
	}
	if d.config.Concurrent {
		d.runConcurrent(ctx)
		return
	}
	for ctx.Err() == nil {
		claimed, _ := d.DeliverDue(ctx)
		if claimed == d.config.Batch {
			continue
		}
		timer := time.NewTimer(d.config.Poll)
		select {
		case <-ctx.Done():
		case <-d.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// DeliverDue claims the notifications due now, up to a batch, delivers each
// and records the outcome, and returns how many it claimed. Notifications
// claimed after ctx ended are given back untried. Failures of the outbox
// itself are told to OnError and returned, joined; failed deliveries are not
// errors of DeliverDue: they are told to OnFailure and retried.
func (d *Dispatcher) DeliverDue(ctx context.Context) (int, error) {
	messages, err := d.claim(ctx, d.config.Batch)
	if err != nil {
		return 0, err
	}
	errs := make([]error, len(messages))
	if d.config.Concurrent {
		var wg sync.WaitGroup
		for i, m := range messages {
			wg.Go(func() { errs[i] = d.handle(ctx, m) })
		}
		wg.Wait()
	} else {
		for i, m := range messages {
			errs[i] = d.handle(ctx, m)
		}
	}
	return len(messages), errors.Join(errs...)
}

// claim takes up to limit due notifications, telling OnError of a failure.
func (d *Dispatcher) claim(ctx context.Context, limit int) ([]*store.OutboxMessage, error) {
	messages, err := d.config.Store.OutboxClaim(ctx, &store.OutboxClaimParams{
		Holder: d.config.Holder, Channels: d.config.Channels(), Limit: limit, Lease: d.lease,
	})
	if err != nil && ctx.Err() == nil && d.config.OnError != nil {
		d.config.OnError(nil, err)
	}
	return messages, err
}

// handle delivers one claimed notification, or gives it back when ctx
// ended, telling OnError of a failure to record either.
func (d *Dispatcher) handle(ctx context.Context, m *store.OutboxMessage) error {
	var err error
	if ctx.Err() != nil {
		err = d.giveBack(m)
	} else {
		err = d.deliver(ctx, m)
	}
	if err != nil && d.config.OnError != nil {
		d.config.OnError(m, err)
	}
	return err
}

// runConcurrent is Run for a Concurrent dispatcher: it claims again as soon
// as deliveries end, without waiting for the rest of their claim, up to
// inFlightBatches claims' worth at once, so that a recipient that hangs
// holds only its own notifications.
func (d *Dispatcher) runConcurrent(ctx context.Context) {
	slots := make(chan struct{}, inFlightBatches*d.config.Batch)
	freed := make(chan struct{}, 1)
	var inFlight sync.WaitGroup
	defer inFlight.Wait()
	for ctx.Err() == nil {
		limit := min(cap(slots)-len(slots), d.config.Batch)
		if limit > 0 {
			messages, _ := d.claim(ctx, limit)
			for _, m := range messages {
				slots <- struct{}{} // never blocks: only this loop fills the slots
				inFlight.Go(func() {
					defer func() {
						<-slots
						select {
						case freed <- struct{}{}:
						default:
						}
					}()
					_ = d.handle(ctx, m)
				})
			}
			if len(messages) == d.config.Batch {
				continue
			}
		}
		var slotFreed <-chan struct{}
		if limit == 0 {
			slotFreed = freed
		}
		timer := time.NewTimer(d.config.Poll)
		select {
		case <-ctx.Done():
		case <-d.wake:
		case <-slotFreed:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// stopGrace is how long a delivery in flight may go on once the dispatcher
// is stopping.
const stopGrace = 2 * time.Second

// deliver makes one attempt and settles it: delivered, pending a retry after
// the backoff, or given up after the last attempt.
func (d *Dispatcher) deliver(ctx context.Context, m *store.OutboxMessage) error {
	// A call in flight when the dispatcher stops gets a short grace to
	// finish: cut at once, a notification the recipient took would be given
	// back and sent again.
	callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.config.Timeout)
	var grace *time.Timer
	var graceMu sync.Mutex
	unwatch := context.AfterFunc(ctx, func() {
		graceMu.Lock()
		grace = time.AfterFunc(stopGrace, cancel)
		graceMu.Unlock()
	})
	err := d.call(callCtx, m)
	unwatch()
	graceMu.Lock()
	if grace != nil {
		grace.Stop()
	}
	graceMu.Unlock()
	cancel()
	if err != nil && ctx.Err() != nil {
		// Stopping cut the attempt short: not the recipient's failure.
		return d.giveBack(m)
	}
	settle := &store.OutboxSettleParams{ID: m.Delivery.ID, Holder: d.config.Holder, State: klaxontype.DeliveryDelivered}
	if err != nil {
		if d.config.OnFailure != nil {
			d.config.OnFailure(m, err)
		}
		attempts := m.Delivery.Attempts + 1
		settle.Error = err.Error()
		if attempts >= d.config.MaxAttempts {
			settle.State = klaxontype.DeliveryGivenUp
		} else {
			settle.State = klaxontype.DeliveryPending
			settle.NextAttemptAt = time.Now().Add(d.config.Backoff(attempts))
		}
	}
	// The outcome happened: record it even if the dispatcher is stopping.
	if err := d.config.Store.OutboxSettle(context.WithoutCancel(ctx), settle); err != nil {
		return fmt.Errorf("record delivery of notification %d: %w", m.Delivery.ID, err)
	}
	return nil
}

// call runs Deliver, turning a panic into a failed attempt so that one bad
// notification does not take the process down.
func (d *Dispatcher) call(ctx context.Context, m *store.OutboxMessage) (err error) {
	defer func() {
		if recovered := recover(); recovered != nil {
			err = fmt.Errorf("notification handler panicked: %v", recovered)
		}
	}()
	return d.config.Deliver(ctx, m)
}

// giveBack returns a claimed notification without counting an attempt, so
// that the next dispatcher delivers it at once.
func (d *Dispatcher) giveBack(m *store.OutboxMessage) error {
	err := d.config.Store.OutboxSettle(context.Background(), &store.OutboxSettleParams{
		ID: m.Delivery.ID, Holder: d.config.Holder, State: klaxontype.DeliveryPending, NotAttempted: true,
	})
	if err != nil {
		return fmt.Errorf("give back notification %d: %w", m.Delivery.ID, err)
	}
	return nil
}
