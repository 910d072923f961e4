package klaxon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/klaxonhq/klaxon/internal/classify"
	"github.com/klaxonhq/klaxon/internal/engine"
	"github.com/klaxonhq/klaxon/internal/outbox"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/redact"
	"github.com/klaxonhq/klaxon/store"
)

// Config configures a Client's workers. Zero values take the defaults noted.
type Config struct {
	// WorkerID identifies this process's worker in leases and the event log;
	// default host-pid-random.
	WorkerID string
	// Concurrency is the most runs executed at once; default 16.
	Concurrency int
	// LeaseDuration is how long a claimed run stays with this worker without a
	// heartbeat before another worker may take it over; default 30s.
	LeaseDuration time.Duration
	// HeartbeatInterval is how often held leases are renewed; default a third of
	// LeaseDuration.
	HeartbeatInterval time.Duration
	// PollInterval is how long an idle worker waits before looking for work
	// again; an enqueue through this client wakes it at once. Default 1s.
	PollInterval time.Duration
	// ShutdownGrace is how long Stop lets running steps finish before it cancels
	// them and releases their runs to other workers; default 10s.
	ShutdownGrace time.Duration
	// Logger receives the worker's structured logs; default none.
	Logger *slog.Logger
	// OnStep is called after every step call: executed, replayed or failed.
	OnStep func(*klaxontype.StepOutcome)
	// OnAttempt is called when an attempt of a run ends.
	OnAttempt func(*klaxontype.AttemptOutcome)
	// OnSpend is called for each model call a step's function reports with
	// RecordSpend, as it is reported.
	OnSpend func(*klaxontype.SpendOutcome)
	// Tracer receives a span for each attempt of a run, each step call, and
	// each model and tool call made through package llm; package tracing
	// implements it with OpenTelemetry. Nil (the default) traces nothing and
	// costs nothing.
	Tracer klaxontype.Tracer
	// Redaction is the operator's redaction policy (klaxon server
	// --redaction FILE): rules by workflow, "*" for every workflow, added to
	// what each workflow's registration declares (Redact, RedactPattern) and
	// kept whatever a registration says. The client masks with it the
	// dead-letter notifications it hands to Channels and the errors it hands
	// to Tracer; the HTTP API served over this client masks with it what
	// tokens below admin read. Nil adds nothing.
	Redaction *redact.Policy

	// ClassifyRules decide the failure class of errors before the built-in
	// rules (panics, errors that report their class, deadlines, network
	// errors): the place for a mapping of some library's error types. A rule
	// reports false for errors it does not know; the attempt record says
	// "classified_by: rule" when one decided.
	ClassifyRules []func(err error) (klaxontype.FailureClass, bool)
	// Routes sends dead runs of a failure class to a channel. Classes not
	// listed follow the default routing: policy_violation to "security";
	// compensation_failed, transient, timeout and rate_limited to "ops";
	// everything else to "review".
	Routes map[klaxontype.FailureClass]string
	// Channels are the handlers this client delivers dead-letter
	// notifications to, by channel. Notifications of channels no running
	// client handles wait in the outbox.
	Channels map[string]DeadLetterHandler
	// DeliveryPollInterval is how often the outbox is checked for
	// notifications; a run dead-lettered by this client is delivered at once.
	// Default 1s.
	DeliveryPollInterval time.Duration
	// OnBreaker is called when this client's worker opens a workflow's
	// breaker.
	OnBreaker func(workflow, reason string, until time.Time)
	// BreakerCheckInterval is how often, at most, this client's worker reads
	// from the store a workflow's attempts and spend across every worker of
	// the store, to judge the workflow's retry-storm breaker and spend-rate
	// limit; default 1s. Only workflows with a breaker policy or a spend-rate
	// limit are read, and only while their attempts end here.
	BreakerCheckInterval time.Duration
	// MaxDeliveryAttempts is how many times a notification is tried before it
	// is given up (its state stays visible on the entry); default 10.
	MaxDeliveryAttempts int
	// ScheduleInterval is how often a started client looks for due
	// schedules of the store and fires them (see RunSchedules); default 1s.
	// A negative interval fires none in this client.
	ScheduleInterval time.Duration
}

// Client enqueues runs and, once started, works the runs of its registered
// workflows.
type Client struct {
	store  store.Store
	config Config

	mu        sync.Mutex
	workflows map[string]Registrable
	worker    *engine.Worker
	delivery  *outbox.Dispatcher
	// remote serves the worker protocol, once asked for.
	remote  *RemoteWorkers
	stop    context.CancelFunc
	stopped chan error
}

// NewClient returns a client on a store. Register workflows, then Start to
// work them; a client that only enqueues never needs to start.
func NewClient(st store.Store, config *Config) (*Client, error) {
	if st == nil {
		return nil, errors.New("klaxon: NewClient needs a store")
	}
	c := &Client{store: st, workflows: make(map[string]Registrable)}
	if config != nil {
		c.config = *config
	}
	if c.config.WorkerID == "" {
		c.config.WorkerID = defaultWorkerID()
	}
	return c, nil
}

func defaultWorkerID() string {
	host, err := os.Hostname()
	if err != nil {
		host = "host"
	}
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(suffix))
}

// Store is the client's store.
func (c *Client) Store() store.Store { return c.store }

// WorkerID is the identity of the client's worker.
func (c *Client) WorkerID() string { return c.config.WorkerID }

// Register adds workflows this client can execute. It must be called before
// Start.
func (c *Client) Register(workflows ...Registrable) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.worker != nil {
		return errors.New("klaxon: register workflows before Start")
	}
	// Everything is checked before any workflow is added: a refused
	// Register changes nothing.
	seen := make(map[string]bool, len(workflows))
	for _, w := range workflows {
		if w.Name() == "" {
			return errors.New("klaxon: a workflow needs a name")
		}
		if _, dup := c.workflows[w.Name()]; dup || seen[w.Name()] {
			return fmt.Errorf("klaxon: workflow %q is registered twice", w.Name())
		}
		seen[w.Name()] = true
		if err := w.checkRedaction(); err != nil {
			return err
		}
		if err := checkDefinition(w); err != nil {
			return err
		}
	}
	for _, w := range workflows {
		c.workflows[w.Name()] = w
	}
	return nil
}

// newID makes a ULID: runs and dead-letter entries sort by creation time.
func newID() string { return ulid.Make().String() }

// Start records the registered workflows in the store and starts working runs,
// and delivering dead-letter notifications to the configured channels, in the
// background until Stop.
func (c *Client) Start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.worker != nil {
		return errors.New("klaxon: client already started")
	}
	for channel, handler := range c.config.Channels {
		if handler == nil || channel == "" {
			return fmt.Errorf("klaxon: channel %q has no handler", channel)
		}
	}
	definitions := make(map[string]*engine.Definition, len(c.workflows))
	for name, w := range c.workflows {
		definitions[name] = w.definition()
	}
	// Everything is checked before the store is written: a refused Start must
	// not leave workflows registered that no worker will run.
	worker, err := engine.NewWorker(engine.Config{
		Store:             c.store,
		ID:                c.config.WorkerID,
		Workflows:         definitions,
		Concurrency:       c.config.Concurrency,
		LeaseDuration:     c.config.LeaseDuration,
		HeartbeatInterval: c.config.HeartbeatInterval,
		PollInterval:      c.config.PollInterval,
		ShutdownGrace:     c.config.ShutdownGrace,
		Logger:            c.config.Logger,
		OnStep:            c.config.OnStep,
		OnAttempt:         c.config.OnAttempt,
		OnSpend:           c.config.OnSpend,
		Tracer:            c.tracer(),
		Routes:            c.config.Routes,
		OnBreaker:         c.config.OnBreaker,
		Classifier:        classifier(c.config.ClassifyRules),
		NewID:             newID,
		Children:          childStarter{c},
		OnDeadLetter: func(string, string) {
			if c.delivery != nil {
				c.delivery.Wake()
			}
		},

		BreakerCheckInterval: c.config.BreakerCheckInterval,
	})
	if err != nil {
		return fmt.Errorf("klaxon: %w", err)
	}
	schedules, err := c.declaredSchedules()
	if err != nil {
		return fmt.Errorf("klaxon: %w", err)
	}
	registrations := make([]*store.WorkflowRegisterParams, 0, len(definitions))
	for name, definition := range definitions {
		registration := &store.WorkflowRegisterParams{
			Name: name, Version: definition.Version, ExpectedSteps: definition.ExpectedSteps,
			InputSchema: c.workflows[name].inputSchema(), Policies: policies(definition),
		}
		registration.Policies.Redact, registration.Policies.RedactPatterns = c.workflows[name].redaction()
		registrations = append(registrations, registration)
	}
	// A worker of another language may have registered these versions with
	// other steps: the same rule as for theirs.
	drops, err := engine.CheckRegistrations(ctx, c.store, registrations...)
	if err != nil {
		return fmt.Errorf("klaxon: register workflows: %w", err)
	}
	for _, registration := range registrations {
		name := registration.Name
		if err := c.store.WorkflowRegister(ctx, registration); err != nil {
			return fmt.Errorf("klaxon: register workflow %q: %w", name, err)
		}
	}
	engine.RecordRedactionDrops(ctx, c.store, c.config.Logger, c.config.WorkerID, drops)
	if err := c.store.WorkerRegister(ctx, goWorkerRegistration(c.config.WorkerID, definitions)); err != nil {
		return fmt.Errorf("klaxon: register worker %q: %w", c.config.WorkerID, err)
	}
	if err := c.saveDeclaredSchedules(ctx, schedules); err != nil {
		return fmt.Errorf("klaxon: %w", err)
	}
	c.delivery = c.newDispatcher()
	workerCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	c.worker, c.stop, c.stopped = worker, stop, make(chan error, 1)
	deliveryDone := make(chan struct{})
	go func() {
		defer close(deliveryDone)
		if c.delivery != nil {
			c.delivery.Run(workerCtx)
		}
	}()
	schedulesDone := make(chan struct{})
	go func() {
		defer close(schedulesDone)
		if c.config.ScheduleInterval >= 0 {
			_ = c.RunSchedules(workerCtx)
		}
	}()
	go func() {
		err := worker.Run(workerCtx)
		<-deliveryDone
		<-schedulesDone
		c.stopped <- err
	}()
	return nil
}

// classifier puts the user's rules before the default chain.
func classifier(rules []func(error) (klaxontype.FailureClass, bool)) classify.Chain {
	chain := classify.Chain{}
	for _, rule := range rules {
		chain = append(chain, func(err error) (classify.Result, bool) {
			if class, ok := rule(err); ok && class.Valid() {
				return classify.Result{Class: class, By: "rule"}, true
			}
			return classify.Result{}, false
		})
	}
	return append(chain, classify.Default()...)
}

// Stop stops claiming runs, lets running steps finish within the shutdown
// grace period, releases the rest and returns when the worker has stopped or
// ctx ends.
func (c *Client) Stop(ctx context.Context) error {
	c.mu.Lock()
	stop, stopped := c.stop, c.stopped
	c.mu.Unlock()
	if stop == nil {
		return ErrNotStarted
	}
	stop()
	select {
	case err := <-stopped:
		stopped <- err // a second Stop returns at once
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Enqueue creates a run of a workflow by name with a JSON input. The workflow
// must be registered with this client, whose input type then checks the input
// strictly, or with some worker of the store, whose recorded input schema then
// checks it. Nothing is written when the workflow is unknown or the input does
// not fit.
func (c *Client) Enqueue(ctx context.Context, workflow string, input []byte, opts ...EnqueueOption) (*EnqueueResult, error) {
	return c.EnqueueAs(ctx, "client", workflow, input, opts...)
}

// enqueueDefaults is what an enqueue takes from its workflow.
type enqueueDefaults struct {
	version  int
	priority int
}

// checkEnqueue finds the workflow and checks the input, returning the version
// to record on the run and the workflow's default priority.
func (c *Client) checkEnqueue(ctx context.Context, workflow string, input []byte) (enqueueDefaults, error) {
	c.mu.Lock()
	local := c.workflows[workflow]
	c.mu.Unlock()
	if local != nil {
		if err := local.checkInput(input); err != nil {
			return enqueueDefaults{}, err
		}
		definition := local.definition()
		return enqueueDefaults{version: definition.Version, priority: definition.Priority}, nil
	}
	known, err := c.store.WorkflowList(ctx)
	if err != nil {
		return enqueueDefaults{}, fmt.Errorf("klaxon: list workflows: %w", err)
	}
	names := make([]string, 0, len(known))
	for _, info := range known {
		if info.Name == workflow {
			if err := checkRecordedInput(info, input); err != nil {
				return enqueueDefaults{}, err
			}
			defaults := enqueueDefaults{version: info.Version}
			if info.Policies != nil {
				defaults.priority = info.Policies.DefaultPriority
			}
			return defaults, nil
		}
		names = append(names, info.Name)
	}
	return enqueueDefaults{}, &UnknownWorkflowError{Name: workflow, Known: names}
}

// checkRecordedInput checks an input, in a process without the workflow's
// code, against what the store records of the workflow: it must be JSON and
// fit the input schema its workers recorded, if any.
func checkRecordedInput(info *klaxontype.WorkflowInfo, input []byte) error {
	if !json.Valid(input) {
		return &InputError{Workflow: info.Name, Err: errors.New("input is not valid JSON")}
	}
	if len(info.InputSchema) > 0 {
		if err := validateInput(info.InputSchema, input); err != nil {
			return &InputError{Workflow: info.Name, Err: err}
		}
	}
	return nil
}

// Run returns a run by ID.
func (c *Client) Run(ctx context.Context, id string) (*klaxontype.Run, error) {
	return c.store.RunGet(ctx, id)
}

// AwaitRun polls a run until it is terminal and returns it. A dead or cancelled
// run is returned with a *RunFailedError.
func (c *Client) AwaitRun(ctx context.Context, id string) (*klaxontype.Run, error) {
	delay := 5 * time.Millisecond
	for {
		run, err := c.store.RunGet(ctx, id)
		if err != nil {
			return nil, err
		}
		if run.Status.Terminal() {
			if run.Status != klaxontype.RunStatusCompleted {
				return run, &RunFailedError{Run: run}
			}
			return run, nil
		}
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return run, ctx.Err()
		case <-timer.C:
		}
		delay = min(delay*2, 250*time.Millisecond)
	}
}
