package engine

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/klaxonhq/klaxon/internal/classify"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/protocol"
	"github.com/klaxonhq/klaxon/redact"
	"github.com/klaxonhq/klaxon/store"
)

// RemoteConfig configures a Remote: the same machinery a Worker has, less
// the workflows' code, which runs in the remote workers.
type RemoteConfig struct {
	Store RemoteStorage
	// Classifier decides failure classes; default classify.Default().
	Classifier classify.Chain
	// Routes maps failure classes to dead-letter channels.
	Routes map[klaxontype.FailureClass]string
	// NewID makes the IDs of dead-letter entries.
	NewID  func() string
	Logger *slog.Logger
	// Hooks, as a Worker's.
	OnStep       func(*klaxontype.StepOutcome)
	OnAttempt    func(*klaxontype.AttemptOutcome)
	OnSpend      func(*klaxontype.SpendOutcome)
	OnDeadLetter func(entryID, channel string)
	OnBreaker    func(workflow, reason string, until time.Time)
	Tracer       klaxontype.Tracer
	// BreakerCheckInterval is as a Worker's.
	BreakerCheckInterval time.Duration
	// Price prices a model call a remote worker reports, with the same table
	// as package llm; nil leaves every cost unknown.
	Price func(provider, model string, usage klaxontype.TokenUsage) klaxontype.Cost
	// CheckSchema checks a JSON document against a JSON Schema, for outputs
	// of workflows that declared one; nil checks nothing.
	CheckSchema func(schema, document []byte) error
	// PollInterval is how often a waiting claim looks for runs that became
	// available by time (retries); default 1s. Enqueues wake it at once.
	PollInterval time.Duration
	// Children starts and reads the child runs remote workflows start
	// (remote_children.go); nil refuses them.
	Children Children
}

// Remote keeps the engine's rules for runs whose workflow code runs in
// worker processes of any language, which report over the worker protocol
// (docs/worker-protocol.md). Each call stands alone: it reads from the store
// what it needs, applies the same rules as an in-process worker (the same
// step path, classification, retries, routing, manifests, budgets, breakers
// and completion records), and writes through the same store, so any number
// of servers can serve one database.
type Remote struct {
	worker      *Worker
	config      RemoteConfig
	definitions *definitionCache
	wake        *broadcast
}

// NewRemote checks the configuration and returns a Remote.
func NewRemote(config RemoteConfig) (*Remote, error) {
	workerConfig := Config{
		Store: config.Store, ID: "server", Classifier: config.Classifier, Routes: config.Routes,
		NewID: config.NewID, Logger: config.Logger, OnStep: config.OnStep, OnAttempt: config.OnAttempt,
		OnDeadLetter: config.OnDeadLetter, OnBreaker: config.OnBreaker, Tracer: config.Tracer,
		BreakerCheckInterval: config.BreakerCheckInterval,
	}
	if err := workerConfig.withDefaults(); err != nil {
		return nil, err
	}
	if config.PollInterval <= 0 {
		config.PollInterval = time.Second
	}
	r := &Remote{
		worker: &Worker{
			config:    workerConfig,
			leases:    newLeaseSet(),
			breakers:  newBreakerWatch(workerConfig.Store, workerConfig.BreakerCheckInterval, workerConfig.Logger),
			admission: &admissionPass{},
			wake:      make(chan struct{}, 1),
		},
		config:      config,
		definitions: newDefinitionCache(config.Store),
		wake:        newBroadcast(),
	}
	// Runs admitted to a concurrency slot wake the waiting claims.
	r.worker.woken = r.Wake
	return r, nil
}

// Wake makes waiting claims look for runs now: after an enqueue, a replay, a
// release.
func (r *Remote) Wake() { r.wake.signal() }

// Register records a worker's workflows, as an in-process worker's Start
// does. A manifest that differs from the one recorded for the same version
// is refused with klaxontype.ErrManifestConflict.
func (r *Remote) Register(ctx context.Context, request *protocol.RegisterRequest) (*protocol.RegisterAnswer, error) {
	if request.Worker.ID == "" {
		return nil, invalidf("worker.id is empty: name the worker (host-pid-random)")
	}
	worker := workerRegistration(request)
	// Checked before any workflow is registered: a refused registration
	// changes nothing.
	if err := worker.Validate(); err != nil {
		return nil, err
	}
	answer := &protocol.RegisterAnswer{
		WorkerID: request.Worker.ID, LeaseMS: protocol.DefaultLease.Milliseconds(),
		HeartbeatMS: (protocol.DefaultLease / 3).Milliseconds(),
	}
	params := make([]*store.WorkflowRegisterParams, 0, len(request.Workflows))
	seen := make(map[string]bool, len(request.Workflows))
	for i := range request.Workflows {
		workflow := &request.Workflows[i]
		if seen[workflow.Name] {
			return nil, invalidf("workflow %q is listed twice", workflow.Name)
		}
		seen[workflow.Name] = true
		registration, err := registrationOf(workflow)
		if err != nil {
			return nil, err
		}
		params = append(params, registration)
		answer.Workflows = append(answer.Workflows, protocol.RegisteredWorkflow{Name: workflow.Name, Version: workflow.Version})
	}
	drops, err := CheckRegistrations(ctx, r.config.Store, params...)
	if err != nil {
		return nil, err
	}
	for _, registration := range params {
		if err := r.config.Store.WorkflowRegister(ctx, registration); err != nil {
			return nil, fmt.Errorf("register workflow %q: %w", registration.Name, err)
		}
	}
	RecordRedactionDrops(ctx, r.config.Store, r.config.Logger, request.Worker.ID, drops)
	r.definitions.forget()
	if err := r.config.Store.WorkerRegister(ctx, worker); err != nil {
		return nil, fmt.Errorf("register worker %q: %w", worker.ID, err)
	}
	return answer, nil
}

// workerRegistration is what the workers registry records of a registering
// worker: what it says of itself, and the workflows it hosts.
func workerRegistration(request *protocol.RegisterRequest) *store.WorkerRegisterParams {
	worker := &store.WorkerRegisterParams{
		ID: request.Worker.ID, Language: request.Worker.Language, SDKVersion: request.Worker.SDKVersion,
		Runtime: request.Worker.Runtime, Workflows: make([]string, len(request.Workflows)),
	}
	for i := range request.Workflows {
		worker.Workflows[i] = request.Workflows[i].Name
	}
	return worker
}

// registrationOf checks a protocol workflow and turns it into a store
// registration with its policies.
func registrationOf(workflow *protocol.HostedWorkflow) (*store.WorkflowRegisterParams, error) {
	if workflow.Name == "" {
		return nil, invalidf("a workflow has no name")
	}
	if workflow.Version < 0 {
		return nil, invalidf("workflow %q: version %d is negative", workflow.Name, workflow.Version)
	}
	steps := make(map[string]bool, len(workflow.ExpectSteps))
	for _, step := range workflow.ExpectSteps {
		if step == "" || steps[step] {
			return nil, invalidf("workflow %q: expect_steps holds an empty or repeated name %q", workflow.Name, step)
		}
		steps[step] = true
	}
	if _, err := redact.NewRule(workflow.Redact, workflow.RedactPatterns); err != nil {
		return nil, invalidf("workflow %q: redaction: %v", workflow.Name, err)
	}
	policies := &klaxontype.WorkflowPolicies{
		RunTimeout:   time.Duration(workflow.RunTimeoutMS) * time.Millisecond,
		OutputSchema: workflow.OutputSchema, StepOutputSchemas: workflow.StepOutputSchemas,
		Redact: workflow.Redact, RedactPatterns: workflow.RedactPatterns,
		DefaultPriority: workflow.DefaultPriority,
	}
	if err := klaxontype.CheckPriority(workflow.DefaultPriority); err != nil {
		return nil, invalidf("workflow %q: default_priority: %v", workflow.Name, err)
	}
	if concurrency := workflow.Concurrency; concurrency != nil {
		if _, err := KeyAtPath(concurrency.Key); err != nil {
			return nil, invalidf("workflow %q: concurrency.key: %v", workflow.Name, err)
		}
		if err := klaxontype.CheckConcurrencyLimit(concurrency.Limit); err != nil {
			return nil, invalidf("workflow %q: concurrency.limit: %v", workflow.Name, err)
		}
		policies.Concurrency = &klaxontype.ConcurrencyPolicy{KeyPath: concurrency.Key, Limit: concurrency.Limit}
	}
	if retry := workflow.Retry; retry != nil {
		for class, attempts := range retry.Classes {
			if !class.Valid() || attempts < 1 {
				return nil, invalidf("workflow %q: retry.classes[%q] = %d: give a failure class and at least 1 attempt", workflow.Name, class, attempts)
			}
		}
		policies.Retry = klaxontype.RetryPolicy{
			MaxAttempts:    retry.MaxAttempts,
			InitialBackoff: time.Duration(retry.InitialBackoffMS) * time.Millisecond,
			MaxBackoff:     time.Duration(retry.MaxBackoffMS) * time.Millisecond,
			MaxRetryAfter:  time.Duration(retry.MaxRetryAfterMS) * time.Millisecond,
			Classes:        retry.Classes,
		}
	}
	policies.Retry = policies.Retry.WithDefaults()
	if budget := workflow.Budget; budget != nil && (budget.Tokens > 0 || budget.USD > 0) {
		policies.Budget = &klaxontype.Budget{Tokens: budget.Tokens, CostUSD: budget.USD}
	}
	return &store.WorkflowRegisterParams{
		Name: workflow.Name, Version: workflow.Version, ExpectedSteps: workflow.ExpectSteps,
		InputSchema: workflow.InputSchema, Policies: policies,
	}, nil
}

// Claim takes up to request.Limit runs of the request's workflows for the
// worker, waiting up to request.WaitMS for one: a long poll that an enqueue
// through any server of the database ends at once.
func (r *Remote) Claim(ctx context.Context, request *protocol.ClaimRequest) (*protocol.ClaimAnswer, error) {
	lease, ok := protocol.LeaseOf(request.LeaseMS)
	switch {
	case request.WorkerID == "":
		return nil, invalidf("worker_id is empty")
	case len(request.Workflows) == 0:
		return nil, invalidf("workflows is empty: name the workflows this worker hosts")
	case request.Limit < 1 || request.Limit > protocol.MaxClaimLimit:
		return nil, invalidf("limit %d: give 1 to %d", request.Limit, protocol.MaxClaimLimit)
	case !ok:
		return nil, invalidf("lease_ms %d: give %d to %d", request.LeaseMS, protocol.MinLease.Milliseconds(), protocol.MaxLease.Milliseconds())
	}
	wait := min(time.Duration(request.WaitMS)*time.Millisecond, protocol.MaxWait)
	for _, name := range request.Workflows {
		if _, err := r.definitions.get(ctx, name); err != nil {
			return nil, err
		}
	}
	deadline := time.Now().Add(wait)
	var unsubscribe func()
	var notified <-chan struct{}
	defer func() {
		if unsubscribe != nil {
			unsubscribe()
		}
	}()
	for {
		woken := r.wake.wait()
		claimed, err := r.config.Store.RunsClaim(ctx, &store.RunsClaimParams{
			Holder: request.WorkerID, Workflows: request.Workflows, Limit: request.Limit, LeaseDuration: lease,
		})
		if err != nil {
			return nil, err
		}
		claimed = admitClaimed(ctx, r.config.Store, request.WorkerID, claimed, r.definitions.cached, r.config.Logger)
		if len(claimed) > 0 {
			return r.claimAnswer(ctx, claimed)
		}
		if r.keyed(request.Workflows) {
			r.worker.admitWaiting(ctx)
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			return &protocol.ClaimAnswer{Runs: []protocol.ClaimedRun{}}, nil
		}
		if notifier, ok := r.config.Store.(store.RunNotifier); ok && unsubscribe == nil {
			notified, unsubscribe = notifier.SubscribeRuns()
		}
		timer := time.NewTimer(min(remaining, r.config.PollInterval))
		select {
		case <-woken:
		case <-notified:
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return &protocol.ClaimAnswer{Runs: []protocol.ClaimedRun{}}, nil
		}
		timer.Stop()
	}
}

// claimAnswer describes claimed runs to their worker: the mode each is to be
// worked in, its step log, and whether it may begin new steps at all.
func (r *Remote) claimAnswer(ctx context.Context, claimed []*store.ClaimedRun) (*protocol.ClaimAnswer, error) {
	answer := &protocol.ClaimAnswer{Runs: make([]protocol.ClaimedRun, 0, len(claimed))}
	for _, c := range claimed {
		run := c.Run
		definition, err := r.definitions.get(ctx, run.Workflow)
		if err != nil {
			// Claimed by name, so registered: the cache is just stale.
			r.definitions.forget()
			if definition, err = r.definitions.get(ctx, run.Workflow); err != nil {
				return nil, err
			}
		}
		claimedRun := protocol.ClaimedRun{
			RunID: run.ID, Workflow: run.Workflow, WorkflowVersion: run.WorkflowVersion,
			Attempt: run.Attempt, Epoch: run.Epoch, Mode: protocol.ModeRun, Reclaimed: c.Reclaimed,
			Input: run.Input, Steps: make([]protocol.LoggedStep, len(c.Steps)), StepGeneration: run.StepGeneration,
			RunTimeoutMS: definition.RunTimeout.Milliseconds(),
		}
		if run.Status == klaxontype.RunStatusCompensating || lostWorkers(c.Reclaimed, run, definition.Definition) {
			claimedRun.Mode = protocol.ModeReplay
		}
		for i, step := range c.Steps {
			claimedRun.Steps[i] = protocol.LoggedStep{
				Seq: step.Seq, Name: step.Name, Status: step.Status, Output: step.Output, IdempotencyKey: step.IdempotencyKey,
			}
		}
		budget := runBudget(run, definition.Definition)
		if !budget.IsZero() {
			claimedRun.Budget = &protocol.BudgetCaps{Tokens: budget.Tokens, USD: budget.CostUSD}
			if exceeded := budget.Check(run.Spend); exceeded != nil {
				claimedRun.Doom = &protocol.Doom{Class: klaxontype.ClassBudgetExceeded, Message: exceeded.Error()}
			}
		}
		answer.Runs = append(answer.Runs, claimedRun)
	}
	return answer, nil
}

// lostWorkers is true for a reclaimed run whose every attempt so far lost
// its worker: it is not started again.
func lostWorkers(reclaimed bool, run *klaxontype.Run, workflow *Definition) bool {
	return reclaimed && run.Attempt-run.AttemptOffset > workflow.Retry.AttemptsFor(klaxontype.ClassTransient)
}

// runBudget is the budget a run is held to: its own, or its workflow's.
func runBudget(run *klaxontype.Run, workflow *Definition) klaxontype.Budget {
	if run.Budget != nil {
		return *run.Budget
	}
	return workflow.Budget
}

// Heartbeat renews a worker's leases and names the runs it no longer holds.
func (r *Remote) Heartbeat(ctx context.Context, request *protocol.HeartbeatRequest) (*protocol.HeartbeatAnswer, error) {
	lease, ok := protocol.LeaseOf(request.LeaseMS)
	if request.WorkerID == "" {
		return nil, invalidf("worker_id is empty")
	}
	if !ok {
		return nil, invalidf("lease_ms %d: give %d to %d", request.LeaseMS, protocol.MinLease.Milliseconds(), protocol.MaxLease.Milliseconds())
	}
	// The registry is a record for people: failing to keep it must not cost
	// a worker its leases.
	if err := r.config.Store.WorkerSeen(ctx, &store.WorkerSeenParams{ID: request.WorkerID}); err != nil {
		r.worker.config.Logger.Warn("recording a worker's heartbeat in the registry failed", "worker", request.WorkerID, "error", err)
	}
	answer := &protocol.HeartbeatAnswer{Lost: []string{}}
	if len(request.Leases) == 0 {
		return answer, nil
	}
	leases := make([]store.Lease, len(request.Leases))
	for i, held := range request.Leases {
		leases[i] = store.Lease{RunID: held.RunID, Epoch: held.Epoch}
	}
	lost, err := r.config.Store.LeasesExtend(ctx, &store.LeasesExtendParams{Holder: request.WorkerID, Leases: leases, Duration: lease})
	if err != nil {
		return nil, err
	}
	if lost != nil {
		answer.Lost = lost
	}
	return answer, nil
}

// Release gives a held run back to the queue without counting its attempt
// as failed: the worker is stopping.
func (r *Remote) Release(ctx context.Context, runID string, request *protocol.ReleaseRequest) error {
	if request.WorkerID == "" {
		return invalidf("worker_id is empty")
	}
	err := r.config.Store.RunRelease(ctx, &store.RunReleaseParams{
		Lease: store.Lease{RunID: runID, Epoch: request.Epoch}, Holder: request.WorkerID,
	})
	if err == nil {
		r.Wake()
	}
	return err
}

// invalidf is a malformed request: klaxontype.ErrInvalid with words that
// name the problem.
func invalidf(format string, args ...any) error {
	return &invalidRequest{message: fmt.Sprintf(format, args...)}
}

type invalidRequest struct{ message string }

func (e *invalidRequest) Error() string        { return e.message }
func (e *invalidRequest) Is(target error) bool { return target == klaxontype.ErrInvalid }

// remoteDefinition is a registered workflow as the Remote applies it.
type remoteDefinition struct {
	*Definition
	outputSchema      []byte
	stepOutputSchemas map[string][]byte
}

// definitionCache holds the registered workflows, read from the store and
// kept for a short while: another server's registration shows within
// definitionTTL.
type definitionCache struct {
	store WorkflowLister

	mu     sync.Mutex
	byName map[string]*remoteDefinition
	loaded time.Time
}

// definitionTTL is how long registrations read from the store are trusted.
const definitionTTL = 2 * time.Second

func newDefinitionCache(st WorkflowLister) *definitionCache { return &definitionCache{store: st} }

func (c *definitionCache) forget() {
	c.mu.Lock()
	c.byName = nil
	c.mu.Unlock()
}

// get returns a registered workflow, or an UnknownWorkflowError. A name the
// cache does not hold is looked for in the store before it is called
// unknown: another server may have registered it a moment ago.
func (c *definitionCache) get(ctx context.Context, name string) (*remoteDefinition, error) {
	c.mu.Lock()
	if c.byName != nil && time.Since(c.loaded) < definitionTTL {
		definition := c.byName[name]
		c.mu.Unlock()
		if definition != nil {
			return definition, nil
		}
	} else {
		c.mu.Unlock()
	}
	infos, err := c.store.WorkflowList(ctx)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]*remoteDefinition, len(infos))
	for _, info := range infos {
		byName[info.Name] = definitionOf(info)
	}
	c.mu.Lock()
	c.byName, c.loaded = byName, time.Now()
	c.mu.Unlock()
	definition := byName[name]
	if definition == nil {
		return nil, &UnknownWorkflowError{Name: name}
	}
	return definition, nil
}

// definitionOf is a registered workflow's definition, without code.
func definitionOf(info *klaxontype.WorkflowInfo) *remoteDefinition {
	definition := &remoteDefinition{Definition: &Definition{
		Name: info.Name, Version: info.Version, ExpectedSteps: info.ExpectedSteps,
	}}
	if policies := info.Policies; policies != nil {
		definition.Retry = policies.Retry
		definition.RunTimeout = policies.RunTimeout
		if policies.Budget != nil {
			definition.Budget = *policies.Budget
		}
		if policies.Breaker != nil {
			definition.Breaker = *policies.Breaker
		}
		definition.SpendRateLimit = policies.SpendRateLimitUSDPerHour
		if concurrency := policies.Concurrency; concurrency != nil && concurrency.KeyPath != "" {
			// Checked when the workflow was registered.
			if key, err := KeyAtPath(concurrency.KeyPath); err == nil {
				definition.ConcurrencyKey, definition.ConcurrencyLimit = key, concurrency.Limit
			}
		}
		definition.outputSchema = policies.OutputSchema
		if len(policies.StepOutputSchemas) > 0 {
			definition.stepOutputSchemas = make(map[string][]byte, len(policies.StepOutputSchemas))
			for step, schema := range policies.StepOutputSchemas {
				definition.stepOutputSchemas[step] = schema
			}
		}
	}
	return definition
}

// UnknownWorkflowError names a workflow no worker registered.
type UnknownWorkflowError struct{ Name string }

func (e *UnknownWorkflowError) Error() string {
	return fmt.Sprintf("workflow %q is not registered: a worker registers it first", e.Name)
}

// Is makes it klaxontype.ErrNotFound too.
func (e *UnknownWorkflowError) Is(target error) bool { return target == klaxontype.ErrNotFound }

// broadcast wakes every waiter at once: each waits on the channel of the
// moment it began, which a signal closes.
type broadcast struct {
	mu sync.Mutex
	ch chan struct{}
}

func newBroadcast() *broadcast { return &broadcast{ch: make(chan struct{})} }

func (b *broadcast) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ch
}

func (b *broadcast) signal() {
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.ch)
	b.ch = make(chan struct{})
}
