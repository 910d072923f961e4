// Package store defines Store, the only road from Klaxon to storage, with the
// parameters of its methods. The SQLite and PostgreSQL stores implement it, and
// the conformance suite in store/storetest runs unchanged against each.
//
// It may import only the standard library and klaxontype: no database library's
// types cross this boundary, and stores translate their errors into the
// sentinels of klaxontype (no rows becomes ErrNotFound).
package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// Store is durable storage for runs, the step log, the event log and the
// attempt history, made of one role interface per job; each consumer asks for
// the narrowest role it uses. Methods are named noun first, then verb, and
// take (ctx, *Params) or (ctx, id). All methods are safe for concurrent use;
// a write returns only once it is durable, and a refused write changes
// nothing but the duplicate.suppressed event it records.
type Store interface {
	Engine
	Runs
	DeadLetters
	Outbox
	Breakers
	Alerts
	Reports
	Audit
	Retention

	// Close releases the store's resources after pending writes are durable.
	Close() error
}

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
}

// Runs reads the runs and their histories, and cancels a run: what the
// API, the CLI and the dashboard show of a run and the person's act on it.
type Runs interface {
	// WorkflowList returns every workflow ever registered, by name.
	WorkflowList(ctx context.Context) ([]*klaxontype.WorkflowInfo, error)
	// RunGet returns one run, or klaxontype.ErrNotFound.
	RunGet(ctx context.Context, id string) (*klaxontype.Run, error)
	// RunList returns runs matching every filter, newest first.
	RunList(ctx context.Context, params *RunListParams) ([]*klaxontype.Run, error)
	// RunCancel stops a pending, retrying or running run for good: it becomes
	// cancelled at once (terminal, finished, its failure of class cancelled
	// carrying the reason) with a run.cancelled event naming the actor and
	// carrying the run's completion record, built in the same transaction by
	// klaxontype.CompletionRecordOf from the step log, the attempt history and
	// the workflow's registered manifest. A running run loses its lease in
	// the same transaction, so its holder's next write (checkpoint,
	// completion, failure, release) is refused with klaxontype.ErrLeaseLost
	// and recorded as duplicate.suppressed, and its next heartbeat reports
	// the lease lost, which stops the execution; no claim takes a cancelled
	// run again. Compensations of completed steps are
	// not run. A completed, dead or cancelled run, and a compensating one
	// (which ends dead, in the dead-letter queue), is refused with
	// klaxontype.ErrRunNotCancellable naming its status, unchanged; an
	// unknown run gives klaxontype.ErrNotFound.
	RunCancel(ctx context.Context, params *RunCancelParams) (*klaxontype.Run, error)
	// StepList returns a run's step log by sequence.
	StepList(ctx context.Context, runID string) ([]*klaxontype.StepRecord, error)
	// EventList returns a run's event log, oldest first, terminal events
	// with the completion record they were written with.
	EventList(ctx context.Context, runID string) ([]*klaxontype.Event, error)
	// AttemptList returns a run's failed attempts, oldest first.
	AttemptList(ctx context.Context, runID string) ([]*klaxontype.Attempt, error)
}

// DeadLetters is the dead-letter queue and a person's actions on it.
type DeadLetters interface {
	// DLQList returns dead-letter entries matching every filter, newest first,
	// without their attempts and deliveries (DLQGet has them).
	DLQList(ctx context.Context, params *DLQListParams) ([]*klaxontype.DeadLetter, error)
	// DLQGet returns one entry with its run's attempts and its deliveries, or
	// klaxontype.ErrNotFound.
	DLQGet(ctx context.Context, id string) (*klaxontype.DeadLetter, error)
	// DLQReplay replays an open entry's run and marks the entry replayed, linked
	// to the replay, in one transaction: of two concurrent replays of one entry,
	// one succeeds and the other gets klaxontype.ErrEntryNotOpen.
	DLQReplay(ctx context.Context, params *DLQReplayParams) (*klaxontype.DeadLetter, error)
	// DLQResolve records a person's output for an open entry's failed step as
	// completed, makes the run pending so it continues from there, and marks the
	// entry resolved.
	DLQResolve(ctx context.Context, params *DLQResolveParams) (*klaxontype.DeadLetter, error)
	// DLQDiscard closes an open entry; the run stays dead.
	DLQDiscard(ctx context.Context, params *DLQDiscardParams) (*klaxontype.DeadLetter, error)
	// DLQPurge deletes the entries matching the filter and records who purged
	// which entries. It is the only way an entry is ever deleted.
	DLQPurge(ctx context.Context, params *DLQPurgeParams) (purged int, err error)
}

// Outbox holds the notifications to deliver, for the dispatchers that
// deliver them and the person who gives a dead channel up.
type Outbox interface {
	// OutboxClaim takes due notifications of the given channels for a while,
	// with their entries, so that one dispatcher delivers each at a time.
	OutboxClaim(ctx context.Context, params *OutboxClaimParams) ([]*OutboxMessage, error)
	// OutboxSettle records the outcome of a delivery attempt; a delivered
	// notification has no last error.
	OutboxSettle(ctx context.Context, params *OutboxSettleParams) error
	// OutboxSummarize summarizes the notifications not yet delivered nor given
	// up, by channel and kind, ordered by channel then kind.
	OutboxSummarize(ctx context.Context) ([]*OutboxChannel, error)
	// OutboxGiveUp gives up the pending notifications of a channel that no
	// deliverer holds at the moment, recording the actor and the reason as
	// their last error, and returns how many.
	OutboxGiveUp(ctx context.Context, params *OutboxGiveUpParams) (int, error)
}

// Breakers are the per-workflow retry-storm breakers, shared by every worker
// of the store.
type Breakers interface {
	// BreakerTrip opens a workflow's breaker until a time, recording a
	// breaker.tripped event on the run that tripped it. Tripping an open
	// breaker extends it; opened reports whether it was closed before.
	BreakerTrip(ctx context.Context, params *BreakerTripParams) (opened bool, err error)
	// BreakerReset closes an open breaker; klaxontype.ErrNotFound when it is
	// not open.
	BreakerReset(ctx context.Context, params *BreakerResetParams) error
	// BreakerList returns every breaker that ever tripped, by workflow, with
	// Open true for those still open.
	BreakerList(ctx context.Context) ([]*klaxontype.Breaker, error)
	// BreakerTally counts a workflow's attempts that ended, and sums its
	// spend, since the times given, across every worker of the store: what
	// the workflow's breaker judges. Only what happened after the breaker
	// last opened counts, so that a breaker that was reset is not tripped
	// again by the history that tripped it.
	BreakerTally(ctx context.Context, params *BreakerTallyParams) (*BreakerTally, error)
}

// Alerts are the alerts that the alert rules fire and resolve, each with
// its notifications.
type Alerts interface {
	// AlertFire records a new firing alert of a rule and key, with its
	// firing notification in the outbox, in one transaction. When an alert of
	// the same rule, workflow and class is already firing it writes nothing
	// and returns that alert with fired false, so of two evaluators one fires.
	AlertFire(ctx context.Context, params *AlertFireParams) (alert *klaxontype.Alert, fired bool, err error)
	// AlertUpdate records a firing alert's latest measurement and, when
	// Notify is set, a repeat notification in the outbox, only if the alert
	// has recorded exactly ExpectNotifications notifications; otherwise
	// (another evaluator got there first, or the alert resolved) it writes
	// nothing and updated is false.
	AlertUpdate(ctx context.Context, params *AlertUpdateParams) (alert *klaxontype.Alert, updated bool, err error)
	// AlertResolve resolves a firing alert with its resolved notification in
	// the outbox; an alert already resolved is left alone and resolved is
	// false. An unknown alert gives klaxontype.ErrNotFound.
	AlertResolve(ctx context.Context, params *AlertResolveParams) (alert *klaxontype.Alert, resolved bool, err error)
	// AlertList returns alerts, newest first: the firing ones and those
	// resolved at or after ResolvedSince, as the filter says.
	AlertList(ctx context.Context, params *AlertListParams) ([]*klaxontype.Alert, error)
}

// Reports are the counts and series that metrics, alert rules and the
// dashboard read. The store aggregates; it does not hand rows to Go.
type Reports interface {
	// RunCountByStatus counts runs by status, optionally of one workflow.
	RunCountByStatus(ctx context.Context, params *RunCountByStatusParams) (map[klaxontype.RunStatus]int, error)
	// EventCountSuppressed counts the duplicate.suppressed events by workflow:
	// writes of stale lease holders that the store refused, from every
	// process.
	EventCountSuppressed(ctx context.Context) (map[string]int, error)
	// DLQCount counts the dead-letter entries by workflow, class and state, in
	// that order: how many ever went dead of each class (every state summed,
	// until a purge deletes some), and how many still wait for a person.
	DLQCount(ctx context.Context) ([]*DLQCount, error)
	// DLQCountByClassAndChannel counts the entries matching the filters of
	// DLQList (its cursor and limit aside) by failure class and channel, in
	// that order: how the queue a person filters is made up.
	DLQCountByClassAndChannel(ctx context.Context, params *DLQListParams) ([]*DLQGroup, error)
	// DLQCountCreated counts the dead-letter entries created in [Since,
	// Until) by workflow and class, whatever their state now.
	DLQCountCreated(ctx context.Context, params *DLQCountCreatedParams) ([]*DLQCount, error)
	// OutboxCountPending counts the notifications not yet delivered nor given
	// up: the outbox's backlog.
	OutboxCountPending(ctx context.Context) (int, error)
	// SpendListBuckets sums, per time bucket, the spend, retries and count of a
	// workflow's runs that reached a terminal status in [Since, Until): the
	// cost and token trend of the workflow.
	SpendListBuckets(ctx context.Context, params *SpendSeriesParams) ([]*klaxontype.SpendBucket, error)
	// StatsListBuckets counts, per bucket of Step from Since, the runs enqueued,
	// the runs that ended by terminal status with their spend and retries,
	// and the dead-letter entries created by class, of one workflow or of
	// all. Every bucket is returned, empty ones with zeros, with its per-run
	// figures set; the store aggregates, it does not hand rows to Go.
	StatsListBuckets(ctx context.Context, params *StatsSeriesParams) ([]*klaxontype.StatsBucket, error)
	// RunListDurationPercentiles returns, per workflow, a percentile of the
	// enqueue-to-end durations of the runs that completed or went dead in
	// [Since, Until): the workflow's usual duration.
	RunListDurationPercentiles(ctx context.Context, params *RunDurationPercentileParams) ([]*RunDurationPercentile, error)
	// RunCountOverdue counts a workflow's unfinished runs that have waited or
	// worked past a cutoff, with the IDs of the oldest.
	RunCountOverdue(ctx context.Context, params *RunCountOverdueParams) (*RunOverdue, error)
	// RunGetActivity says when a worker last showed itself on a workflow's runs:
	// a claim or heartbeat of a held run, or a run that completed or went
	// dead.
	RunGetActivity(ctx context.Context, params *RunActivityParams) (*RunActivity, error)
}

// RunNotifier is implemented by stores that can tell workers of every process
// when runs become available (PostgreSQL's LISTEN/NOTIFY). Workers of a store
// without it find new runs by polling, or by a wake-up from their own client.
type RunNotifier interface {
	// SubscribeRuns returns a channel that receives a value whenever runs may
	// have become available, and a function that ends the subscription.
	SubscribeRuns() (notified <-chan struct{}, unsubscribe func())
}

// BreakerTripParams opens a breaker.
type BreakerTripParams struct {
	Workflow string
	Reason   string
	Until    time.Time
	Actor    string
	// RunID is the run whose attempt tripped the breaker.
	RunID string
	// Channels are notified, through the outbox, when the breaker opens.
	Channels []string
}

// BreakerResetParams closes a breaker.
type BreakerResetParams struct {
	Workflow string
	Actor    string
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
	// Actor is recorded on the run.enqueued event.
	Actor string
}

// RunListParams filters RunList. Zero fields do not filter.
type RunListParams struct {
	Statuses []klaxontype.RunStatus
	Workflow string
	// Entities keeps runs carrying every one of these labels.
	Entities map[string]string
	// CreatedAfter and CreatedBefore bound when the run was enqueued: from
	// CreatedAfter inclusive to CreatedBefore exclusive, as for DLQ entries.
	CreatedAfter  time.Time
	CreatedBefore time.Time
	// BeforeID returns runs older than this run ID (cursor pagination).
	BeforeID string
	// Limit caps the number of runs; zero means 100.
	Limit int
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

// RunCancelParams cancels a run.
type RunCancelParams struct {
	ID string
	// Reason is why, recorded on the run's failure and its run.cancelled
	// event; it may be empty.
	Reason string
	// Actor is who cancels, recorded on the run.cancelled event.
	Actor string
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

// DLQListParams filters DLQList and DLQPurge. Zero fields do not filter.
type DLQListParams struct {
	Classes  []klaxontype.FailureClass
	States   []klaxontype.DeadLetterState
	Workflow string
	Channel  string
	// Entities keeps entries whose run carries every one of these labels.
	Entities map[string]string
	// CreatedAfter and CreatedBefore bound when the entry was created.
	CreatedAfter  time.Time
	CreatedBefore time.Time
	// BeforeID returns entries older than this entry ID (cursor pagination).
	BeforeID string
	// RunID keeps the entries of one run: a run replayed and dead again has
	// one per death.
	RunID string
	// Limit caps the number of entries; zero means 100.
	Limit int
}

// DLQCount is the number of dead-letter entries of one workflow, class and
// state.
type DLQCount struct {
	Workflow string
	Class    klaxontype.FailureClass
	State    klaxontype.DeadLetterState
	Count    int
}

// DLQGroup is the number of dead-letter entries of one failure class routed
// to one channel.
type DLQGroup struct {
	Class   klaxontype.FailureClass
	Channel string
	Count   int
}

// DLQReplayParams replays a dead run.
type DLQReplayParams struct {
	EntryID string
	Mode    klaxontype.ReplayMode
	// Step names the first step to run again, for from-step.
	Step string
	// Input replaces the run's input when set.
	Input []byte
	// NewRunID is the ID of the run a restart creates.
	NewRunID string
	Actor    string
}

// DLQResolveParams completes an entry's failed step by hand.
type DLQResolveParams struct {
	EntryID string
	// Step must name the entry's failed step.
	Step string
	// Output is the step's output as JSON.
	Output []byte
	// IdempotencyKey is the key recorded on the step.
	IdempotencyKey string
	Actor          string
}

// DLQDiscardParams closes an entry without action.
type DLQDiscardParams struct {
	EntryID string
	Reason  string
	Actor   string
}

// DLQPurgeParams deletes entries.
type DLQPurgeParams struct {
	Filter DLQListParams
	Actor  string
}

// OutboxClaimParams asks for notifications to deliver.
type OutboxClaimParams struct {
	Holder   string
	Channels []string
	Limit    int
	// Lease is how long the claimed notifications are reserved to Holder.
	Lease time.Duration
}

// OutboxGiveUpParams gives up a channel's pending notifications.
type OutboxGiveUpParams struct {
	Channel string
	Reason  string
	Actor   string
}

// OutboxSettleParams records a delivery attempt.
type OutboxSettleParams struct {
	ID     int64
	Holder string
	// State is delivered, pending (retry at NextAttemptAt) or given_up.
	State         klaxontype.DeliveryState
	NextAttemptAt time.Time
	Error         string
	// NotAttempted gives a claimed notification back without counting an
	// attempt, for a dispatcher that stops before calling the handler.
	NotAttempted bool
}

// SpendSeriesParams selects a workflow's spend trend.
type SpendSeriesParams struct {
	Workflow string
	Since    time.Time
	Until    time.Time
	// Bucket is the width of a bucket, at least a second.
	Bucket time.Duration
}

// RunCountByStatusParams selects the runs RunCountByStatus counts.
type RunCountByStatusParams struct {
	// Workflow counts the runs of one workflow; empty counts every run.
	Workflow string
}
