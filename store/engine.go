package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// Engine is what the workers of every process write while they execute
// runs: registrations, claims and leases, checkpoints and outcomes. Every
// write of a lease holder carries its epoch and is refused with
// klaxontype.ErrLeaseLost, and recorded as duplicate.suppressed, when the
// epoch is no longer current.
type Engine interface {
	// WorkflowRegister records that a worker can execute a workflow, creating or
	// updating its entry.
	WorkflowRegister(ctx context.Context, params *WorkflowRegisterParams) error
	// RunEnqueue creates a pending run and its run.enqueued event. When a run of
	// the same workflow already has the idempotency key, it returns that run and
	// created is false, and nothing is written.
	RunEnqueue(ctx context.Context, params *RunEnqueueParams) (run *klaxontype.Run, created bool, err error)
	// RunsClaim takes up to Limit runs under a new lease for Holder: runs whose
	// lease expired first (recording the lost attempt and a lease.reclaimed
	// event), then pending and retrying runs that are available, oldest first.
	// Each claim increments the run's epoch and attempt. The runs come with their
	// step logs.
	RunsClaim(ctx context.Context, params *RunsClaimParams) ([]*ClaimedRun, error)
	// RunsAdmit judges runs its holder just claimed, of workflows with a
	// concurrency key, against their keys' limits, oldest waiting first: a
	// run takes a slot of its key when one is free and no older run of the
	// key waits for one; otherwise it waits in pending, out of every claim,
	// with its attempt given back and a run.parked event, until a slot
	// frees. It returns the IDs of the runs that took a slot, which the
	// holder may execute; a run its holder no longer holds is in neither.
	RunsAdmit(ctx context.Context, params *RunsAdmitParams) (admitted []string, err error)
	// ConcurrencyAdmit gives the slots of keys that runs have freed by
	// ending to the oldest runs waiting for them, each available at once
	// with a run.admitted event, and counts them.
	ConcurrencyAdmit(ctx context.Context, params *ConcurrencyAdmitParams) (admitted int, err error)
	// LeasesExtend renews the leases of a holder and returns the IDs of the runs
	// whose lease it no longer holds.
	LeasesExtend(ctx context.Context, params *LeasesExtendParams) (lost []string, err error)
	// RunRelease gives a held run back without counting the attempt as failed: a
	// running run becomes pending, a compensating run stays compensating, and
	// either can be claimed at once.
	RunRelease(ctx context.Context, params *RunReleaseParams) error
	// RunComplete marks a held run completed with its output, and stores the
	// completion record, if given, on its run.completed event.
	RunComplete(ctx context.Context, params *RunCompleteParams) error
	// RunFail records a failed attempt of a held run and moves it to Next:
	// retrying (after RetryAt), compensating (keeping the lease), or dead,
	// with the completion record, if given, on its run.dead event.
	RunFail(ctx context.Context, params *RunFailParams) error
	// StepCheckpoint records a completed step and its step.completed event. A
	// stale epoch gives klaxontype.ErrLeaseLost, a step already in the log gives
	// klaxontype.ErrStepExists; both are recorded as duplicate.suppressed.
	StepCheckpoint(ctx context.Context, params *StepCheckpointParams) error
	// StepCompensate records the outcome of a completed step's compensation.
	StepCompensate(ctx context.Context, params *StepCompensateParams) error
	// StepFailuresRecord records the step failures of an attempt that the
	// workflow body handled, a step.failed event each, so that no failed
	// step execution goes unrecorded; the attempt's own failure is recorded
	// by RunFail. A stale epoch gives klaxontype.ErrLeaseLost and writes
	// nothing.
	StepFailuresRecord(ctx context.Context, params *StepFailuresRecordParams) error
	// SpendRecordLate records spend a step's function reported after the
	// engine stopped waiting for it: a spend.late event, and, unless the
	// attempt's outcome already carries it, the spend on the run's totals
	// and on the attempt's record when the history has one (where the
	// breaker's tally counts it). It is real money, so it is recorded
	// whoever holds the run now.
	SpendRecordLate(ctx context.Context, params *SpendRecordLateParams) error
	// RunWait gives a held running run up to the waits its attempt reached:
	// it records each new wait (a wait recorded already keeps its deadline),
	// asks for a person's decision on a new approval request (an
	// approval.requested event and a notification to the channel
	// "approvals"), lets a signal kept for the run satisfy a wait of its
	// name, and makes the run waiting, with no lease, claimable again at the
	// earliest deadline or at once when a kept signal satisfied a wait. A
	// stale epoch gives klaxontype.ErrLeaseLost and writes nothing else.
	RunWait(ctx context.Context, params *RunWaitParams) (*RunWaiting, error)
	// WaitGet reads a run's wait at a sequence number; nil when the run
	// began none there.
	WaitGet(ctx context.Context, runID string, seq int) (*klaxontype.Wait, error)
	// WaitEnd ends an open wait of a held run: a sleep that is due, whose
	// step it records, or a wait that timed out, with a wait.timed_out
	// event. A stale epoch gives klaxontype.ErrLeaseLost.
	WaitEnd(ctx context.Context, params *WaitEndParams) error
}

// RunNotifier is implemented by stores that can tell workers of every process
// when runs become available (PostgreSQL's LISTEN/NOTIFY). Workers of a store
// without it find new runs by polling, or by a wake-up from their own client.
type RunNotifier interface {
	// SubscribeRuns returns a channel that receives a value whenever runs may
	// have become available, and a function that ends the subscription.
	SubscribeRuns() (notified <-chan struct{}, unsubscribe func())
}

// WorkflowRegisterParams describes a workflow a worker can execute.
type WorkflowRegisterParams struct {
	Name          string
	Version       int
	ExpectedSteps []string
	// InputSchema is the JSON Schema of the workflow's input type; empty
	// records none.
	InputSchema json.RawMessage
	// Policies are the workflow's policies; nil records none.
	Policies *klaxontype.WorkflowPolicies
}

// RunEnqueueParams describes a run to create.
type RunEnqueueParams struct {
	// ID is the new run's ULID, chosen by the caller.
	ID              string
	Workflow        string
	WorkflowVersion int
	// Input is the run's input as JSON.
	Input []byte
	// IdempotencyKey, when set, deduplicates enqueues of the workflow.
	IdempotencyKey string
	Entities       map[string]string
	// AvailableAt delays the first claim; zero means now.
	AvailableAt time.Time
	// Budget caps the run's spend, overriding the workflow's.
	Budget *klaxontype.Budget
	// Priority orders the run's claims among the others, within
	// klaxontype.MinPriority..MaxPriority: the caller has applied the
	// workflow's default already.
	Priority int
	// Actor is recorded on the run.enqueued event.
	Actor string
	// Audit records the enqueue in the audit log (run.enqueue, by Actor) in
	// the enqueue's transaction: set for an operator's enqueue (the HTTP API,
	// the klaxon command), not for a program's own.
	Audit bool
	// ParentID, when set, makes the run a child of that run, started by
	// its step at ParentSeq: the link is recorded in the enqueue's
	// transaction. A child's enqueue carries an idempotency key derived from
	// the parent's step (ChildKeyPrefix), so a retried step finds its child.
	ParentID  string
	ParentSeq int
}

// ChildKeyPrefix begins the enqueue idempotency key of every child run (the
// rest is the idempotency key of the parent's step that started it): the
// engine knows by it that a run it completes is a child, whose end its
// parent may await, and a tracer which run and step started it
// (klaxontype.ChildOriginOf).
const ChildKeyPrefix = klaxontype.ChildKeyPrefix

// AuditRecord is the audit record of an audited enqueue at a time: of the
// run it created, or of the run its idempotency key found (created false).
// The input is never recorded: it may hold a customer's data.
func (p *RunEnqueueParams) AuditRecord(at time.Time, runID string, created bool) *klaxontype.AuditRecord {
	params := map[string]any{"workflow": p.Workflow}
	if p.IdempotencyKey != "" {
		params["idempotency_key"] = p.IdempotencyKey
	}
	if len(p.Entities) > 0 {
		params["entities"] = p.Entities
	}
	encoded, _ := json.Marshal(params)
	result := "created the run"
	if !created {
		result = "deduplicated: the idempotency key found this run, nothing was created"
	}
	return &klaxontype.AuditRecord{At: at, Actor: p.Actor, Action: klaxontype.AuditRunEnqueue, Target: runID, Params: encoded, Result: result}
}

// RunsClaimParams asks for runs to work.
type RunsClaimParams struct {
	// Holder identifies the claiming worker.
	Holder string
	// Workflows restricts the claim to workflows the worker can execute.
	Workflows []string
	// Limit is the most runs to claim.
	Limit int
	// LeaseDuration is how long the lease lasts without a heartbeat.
	LeaseDuration time.Duration
}

// ClaimedRun is a run a worker now holds, with its step log so the workflow can
// be replayed.
type ClaimedRun struct {
	Run   *klaxontype.Run
	Steps []*klaxontype.StepRecord
	// Reclaimed is true when the previous holder's lease expired.
	Reclaimed bool
}

// Lease names a held run and the epoch it is held at.
type Lease struct {
	RunID string
	Epoch int64
}

// LeasesExtendParams renews leases.
type LeasesExtendParams struct {
	Holder   string
	Leases   []Lease
	Duration time.Duration
}

// RunReleaseParams gives a held run back.
type RunReleaseParams struct {
	Lease
	Holder string
}

// RunCompleteParams completes a held run.
type RunCompleteParams struct {
	Lease
	Holder string
	// Output is the workflow's result as JSON.
	Output []byte
	// Spend is what model calls outside completed steps cost in the attempt.
	Spend klaxontype.Spend
	// Record, when set, is stored on the run.completed event.
	Record *klaxontype.CompletionRecord
	// Child is set for a child run (its idempotency key begins with
	// ChildKeyPrefix): its completion satisfies its parent's wait for it,
	// in the same transaction.
	Child bool
}

// RunFailParams records a failed attempt and what comes next.
type RunFailParams struct {
	Lease
	Holder string
	// Attempt is the failed attempt to add to the history; nil when the failure
	// was already recorded (a compensating run going dead).
	Attempt *klaxontype.Attempt
	// Next is retrying, compensating or dead.
	Next klaxontype.RunStatus
	// RetryAt is when a retrying run becomes available again.
	RetryAt time.Time
	// Failure is the run's terminal failure, for compensating and dead.
	Failure *klaxontype.RunFailure
	// DeadLetter describes the dead-letter entry created with a dead run: its
	// ID, channel, and the failed step's output schema.
	DeadLetter *DeadLetterParams
	// Record, when set, is stored on the run.dead event; only a run going
	// dead may carry one.
	Record *klaxontype.CompletionRecord
}

// StepFailuresRecordParams records step failures the workflow body handled.
type StepFailuresRecordParams struct {
	Lease
	Holder string
	// Attempt is the run's attempt the steps failed in.
	Attempt  int
	Failures []StepFailure
}

// SpendRecordLateParams records spend reported after a step's deadline.
type SpendRecordLateParams struct {
	RunID string
	// Holder is the worker the step ran on.
	Holder  string
	Attempt int
	Seq     int
	Step    string
	Spend   klaxontype.Spend
	// Counted is set when the attempt's outcome, not yet written when the
	// spend arrived, carries it: only the event is written.
	Counted bool
}

// StepFailure is one failed execution of a step.
type StepFailure struct {
	Seq          int
	Name         string
	Class        klaxontype.FailureClass
	ClassifiedBy string
	Message      string
}

// DeadLetterParams is what the engine decides about a new dead-letter entry;
// the rest of it is copied from the run.
type DeadLetterParams struct {
	ID           string
	Channel      string
	OutputSchema []byte
}

// StepCheckpointParams records a completed step.
type StepCheckpointParams struct {
	Lease
	Holder         string
	Seq            int
	Name           string
	Attempt        int
	IdempotencyKey string
	Output         []byte
	StartedAt      time.Time
	FinishedAt     time.Time
	// Spend is what the step's model calls cost; added to the run's totals in
	// the same transaction, so it is counted exactly once.
	Spend klaxontype.Spend
	// RateLimitWait is how long the step waited for rate-limit capacity
	// before it ran, kept in its record.
	RateLimitWait time.Duration
}

// StepCompensateParams records a compensation's outcome.
type StepCompensateParams struct {
	Lease
	Holder string
	Seq    int
	// Error is the compensation's error; empty when it succeeded.
	Error string
	At    time.Time
}
