package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/klaxonhq/klaxon/internal/classify"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// Config configures a Worker. Zero durations take the defaults noted.
type Config struct {
	Store Storage
	// ID identifies the worker in leases, events and attempts.
	ID string
	// Workflows are the workflows this worker can execute, by name.
	Workflows map[string]*Definition
	// Concurrency is the most runs executed at once; default 16.
	Concurrency int
	// LeaseDuration is how long a claim lasts without a heartbeat; default 30s.
	LeaseDuration time.Duration
	// HeartbeatInterval is how often leases are renewed; default a third of
	// LeaseDuration.
	HeartbeatInterval time.Duration
	// PollInterval is how long an idle worker waits before looking for work
	// again, unless woken; default 1s.
	PollInterval time.Duration
	// ShutdownGrace is how long a stopping worker lets running steps finish
	// before it cancels them and releases their runs; default 10s.
	ShutdownGrace time.Duration
	// Classifier decides failure classes; default classify.Default().
	Classifier classify.Chain
	// Routes maps failure classes to dead-letter channels; classes not in it
	// follow DefaultRoute.
	Routes map[klaxontype.FailureClass]string
	// NewID makes the IDs of dead-letter entries (ULIDs).
	NewID func() string
	// BreakerCheckInterval is how often, at most, the worker reads from the
	// store a workflow's attempts and spend across every worker, to judge the
	// workflow's breaker; default 1s. Only workflows with a breaker policy or
	// a spend-rate limit are read, and only while their attempts end.
	BreakerCheckInterval time.Duration
	// OnBreaker is called when this worker opened a workflow's breaker.
	OnBreaker func(workflow, reason string, until time.Time)
	// OnDeadLetter is called after a run was dead-lettered, with the entry ID
	// and channel, so a dispatcher in the same process can deliver at once.
	OnDeadLetter func(entryID, channel string)
	Logger       *slog.Logger
	// Children starts and reads the child runs of workflows (klaxon.Child);
	// nil refuses them.
	Children  Children
	OnStep    func(*klaxontype.StepOutcome)
	OnAttempt func(*klaxontype.AttemptOutcome)
	OnSpend   func(*klaxontype.SpendOutcome)
	// Tracer, when set, receives a span per attempt and per step; nil costs
	// nothing.
	Tracer klaxontype.Tracer

	// heartbeatsDisabled makes a worker behave as if hung, for tests of lease
	// expiry.
	heartbeatsDisabled bool
}

func (c *Config) withDefaults() error {
	if c.Store == nil {
		return errors.New("engine: no store")
	}
	if c.ID == "" {
		return errors.New("engine: no worker ID")
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 16
	}
	if c.LeaseDuration <= 0 {
		c.LeaseDuration = 30 * time.Second
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = c.LeaseDuration / 3
	}
	if c.HeartbeatInterval >= c.LeaseDuration {
		return fmt.Errorf("engine: heartbeat interval %s must be shorter than the lease duration %s", c.HeartbeatInterval, c.LeaseDuration)
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.ShutdownGrace <= 0 {
		c.ShutdownGrace = 10 * time.Second
	}
	if c.Classifier == nil {
		c.Classifier = classify.Default()
	}
	if c.NewID == nil {
		return errors.New("engine: no ID generator for dead-letter entries")
	}
	if c.Logger == nil {
		// Failures of the machinery (heartbeats, claims) must not be silent.
		c.Logger = slog.Default()
	}
	return nil
}

// errShutdown is the cause of a run context cancelled because its worker is
// stopping and the grace period ran out.
var errShutdown = errors.New("worker shutting down")

// releaseTimeout bounds how long a stopped worker waits, after cancelling its
// runs, for them to release their leases.
const releaseTimeout = 5 * time.Second

// Worker claims runs of its workflows and executes them, up to Concurrency at
// a time.
type Worker struct {
	config    Config
	workflows []string
	leases    *leaseSet
	breakers  *breakerWatch
	// admission is the idle pass that admits runs waiting for a slot of a
	// concurrency key; nil when no workflow of the worker has a key.
	admission *admissionPass

	mu        sync.Mutex
	free      int
	slotFreed chan struct{}
	wake      chan struct{}
	// woken, when set, is told of every Wake: a Remote's waiting claims.
	woken  func()
	active sync.WaitGroup
}

// NewWorker checks the configuration and returns a worker ready to Run.
func NewWorker(config Config) (*Worker, error) {
	if err := config.withDefaults(); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(config.Workflows))
	var admission *admissionPass
	for name, definition := range config.Workflows {
		if definition.Execute == nil {
			return nil, fmt.Errorf("engine: workflow %q has no function", name)
		}
		if definition.ConcurrencyKey != nil {
			if err := klaxontype.CheckConcurrencyLimit(definition.ConcurrencyLimit); err != nil {
				return nil, fmt.Errorf("engine: workflow %q: %w", name, err)
			}
			admission = &admissionPass{}
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return &Worker{
		admission: admission,
		config:    config,
		workflows: names,
		leases:    newLeaseSet(),
		breakers:  newBreakerWatch(config.Store, config.BreakerCheckInterval, config.Logger),
		free:      config.Concurrency,
		slotFreed: make(chan struct{}, 1),
		wake:      make(chan struct{}, 1),
	}, nil
}

// ID is the worker's identity in leases and events.
func (w *Worker) ID() string { return w.config.ID }

// Wake makes an idle worker look for work now, for example after an enqueue.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
	if w.woken != nil {
		w.woken()
	}
}

// Run claims and executes runs until ctx is cancelled, then shuts down
// gracefully: it stops claiming, lets running steps finish within the grace
// period, cancels what is left and releases those runs so that other workers
// can take them at once. It returns when every run it held is settled.
func (w *Worker) Run(ctx context.Context) error {
	if len(w.workflows) == 0 {
		return errors.New("engine: the worker has no workflows to run")
	}
	runCtx, cancelRuns := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancelRuns(nil)
	heartbeatCtx, stopHeartbeats := context.WithCancel(context.WithoutCancel(ctx))
	heartbeatDone := make(chan struct{})
	go func() {
		defer close(heartbeatDone)
		w.heartbeat(heartbeatCtx)
	}()

	if notifier, ok := w.config.Store.(store.RunNotifier); ok {
		notified, unsubscribe := notifier.SubscribeRuns()
		defer unsubscribe()
		go func() {
			for {
				select {
				case <-notified:
					w.Wake()
				case <-ctx.Done():
					return
				}
			}
		}()
	}

	w.claimLoop(ctx, runCtx)

	w.config.Logger.Debug("worker stopping", "worker", w.config.ID, "active", w.leases.len(), "grace", w.config.ShutdownGrace)
	if !waitTimeout(&w.active, w.config.ShutdownGrace) {
		cancelRuns(errShutdown)
		if !waitTimeout(&w.active, releaseTimeout) {
			w.config.Logger.Warn("runs did not stop after cancellation; their leases will expire", "worker", w.config.ID, "runs", w.leases.len())
		}
	}
	stopHeartbeats()
	<-heartbeatDone
	return nil
}

// claimLoop claims as many runs as there are free slots, starts each, and
// waits for a free slot or for work when there is none.
func (w *Worker) claimLoop(ctx, runCtx context.Context) {
	failures := 0
	for ctx.Err() == nil {
		w.mu.Lock()
		free := w.free
		w.mu.Unlock()
		if free == 0 {
			select {
			case <-w.slotFreed:
			case <-ctx.Done():
			}
			continue
		}
		claimed, err := w.config.Store.RunsClaim(ctx, &store.RunsClaimParams{
			Holder: w.config.ID, Workflows: w.workflows, Limit: free, LeaseDuration: w.config.LeaseDuration,
		})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			w.config.Logger.Error("claiming runs failed", "worker", w.config.ID, "error", err)
			sleep(ctx, min(time.Duration(failures)*w.config.PollInterval, 30*time.Second))
			continue
		}
		failures = 0
		claimed = admitClaimed(ctx, w.config.Store, w.config.ID, claimed, w.definition, w.config.Logger)
		w.mu.Lock()
		w.free -= len(claimed)
		w.mu.Unlock()
		for _, c := range claimed {
			w.active.Add(1)
			w.leases.add(store.Lease{RunID: c.Run.ID, Epoch: c.Run.Epoch})
			go w.work(runCtx, c)
		}
		if len(claimed) == 0 {
			w.admitWaiting(ctx)
			select {
			case <-w.wake:
			case <-time.After(w.config.PollInterval):
			case <-ctx.Done():
			}
		}
	}
}

// slotDone returns an execution slot.
func (w *Worker) slotDone(lease store.Lease) {
	w.leases.remove(lease)
	w.mu.Lock()
	w.free++
	w.mu.Unlock()
	select {
	case w.slotFreed <- struct{}{}:
	default:
	}
	w.active.Done()
}

// wakeAt wakes the worker when a scheduled retry becomes available, if that is
// sooner than the next poll.
func (w *Worker) wakeAt(at time.Time) {
	if delay := time.Until(at); delay < w.config.PollInterval {
		time.AfterFunc(max(delay, 0), w.Wake)
	}
}

func waitTimeout(wg *sync.WaitGroup, timeout time.Duration) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(timeout):
		return false
	}
}

func sleep(ctx context.Context, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
}
