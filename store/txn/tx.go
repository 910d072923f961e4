package txn

import (
	"context"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// Tx is one open transaction of a store: the primitive reads and writes that
// the rules are written over. Each method is one statement or two, with no
// rule of its own; a method that finds no row says so with its result, not
// with an error, unless it says otherwise.
type Tx interface {
	// DeadLetterLock reads an entry without its attempts and deliveries, and
	// keeps other transactions from changing it until this one ends; an
	// unknown entry gives klaxontype.ErrNotFound.
	DeadLetterLock(ctx context.Context, id string) (*klaxontype.DeadLetter, error)
	// DeadLetterGet reads an entry without its attempts and deliveries.
	DeadLetterGet(ctx context.Context, id string) (*klaxontype.DeadLetter, error)
	// DeadLetterClose moves an entry to its final state.
	DeadLetterClose(ctx context.Context, params *DeadLetterCloseParams) error
	// DeadLetterList reads the entries matching a filter, its limit included.
	DeadLetterList(ctx context.Context, filter *store.DLQListParams) ([]*klaxontype.DeadLetter, error)
	// DeadLettersDelete deletes entries and their notifications.
	DeadLettersDelete(ctx context.Context, ids []string) error
	// PurgeRecord records who purged which entries with which filter.
	PurgeRecord(ctx context.Context, params *PurgeRecordParams) error

	// RunLock reads a run and keeps every other writer of it, a lease
	// holder's checkpoint included, waiting until this transaction ends; an
	// unknown run gives klaxontype.ErrNotFound.
	RunLock(ctx context.Context, id string) (*klaxontype.Run, error)
	// RunCancel makes a run cancelled with a failure of class cancelled
	// carrying reason, dropping its lease, and returns it as it now is.
	RunCancel(ctx context.Context, id, reason string, at time.Time) (*klaxontype.Run, error)
	// RunReopen makes a dead run pending again, with a new input when input
	// is not nil, and a new key generation for the steps it runs again when
	// newGeneration is set; reopened is false when the run is not dead.
	RunReopen(ctx context.Context, params *RunReopenParams) (reopened bool, err error)
	// RunRestart creates a pending run of the same workflow as an earlier
	// one, linked to it, with its entities, and its input unless input is
	// set; created is false when the earlier run no longer exists.
	RunRestart(ctx context.Context, params *RunRestartParams) (created bool, err error)
	// RunsAvailable tells the workers of every process that runs of a
	// workflow may be claimed, once the transaction commits; a store whose
	// workers learn it otherwise does nothing.
	RunsAvailable(ctx context.Context, workflow string) error

	// StepList reads a run's step log by sequence.
	StepList(ctx context.Context, runID string) ([]*klaxontype.StepRecord, error)
	// StepCountCompensated counts a run's steps before a sequence number
	// whose compensation ran.
	StepCountCompensated(ctx context.Context, runID string, before int) (int, error)
	// StepsArchive moves a run's steps from a sequence number on to the
	// archive, recording who and when, and deletes them from the log.
	StepsArchive(ctx context.Context, runID string, from int, actor string, at time.Time) error
	// StepResolve records a step's output supplied by a person as
	// completed; inserted is false when the log has a step at that
	// sequence number already.
	StepResolve(ctx context.Context, params *StepResolveParams) (inserted bool, err error)

	// AttemptList reads a run's failed attempts, oldest first.
	AttemptList(ctx context.Context, runID string) ([]*klaxontype.Attempt, error)
	// WorkflowExpectedSteps reads a workflow's registered manifest; nil
	// when it has none or was never registered.
	WorkflowExpectedSteps(ctx context.Context, workflow string) ([]string, error)
	// EventInsert appends an event, with the completion record a terminal
	// event carries, as JSON (nil for none).
	EventInsert(ctx context.Context, event *klaxontype.Event, record []byte) error
	// AttemptInsert adds a failed attempt to a run's history, and its spend
	// to the run's totals.
	AttemptInsert(ctx context.Context, attempt *klaxontype.Attempt) error
	// AttemptAddSpend adds spend to a run's recorded failed attempt (the
	// last one of that number); found is false when the history has none.
	AttemptAddSpend(ctx context.Context, runID string, attempt int, spend klaxontype.Spend) (found bool, err error)
	// RunAddSpend adds spend to a run's totals.
	RunAddSpend(ctx context.Context, runID string, spend klaxontype.Spend) error

	// RunHeld reports whether holder holds a run at the lease's epoch, in
	// one of the statuses given.
	RunHeld(ctx context.Context, lease store.Lease, holder string, statuses ...klaxontype.RunStatus) (bool, error)
	// RunFailUpdate moves a run its holder holds to params.Next, with its
	// failure; held is false when the holder no longer holds it. workflow is
	// the run's workflow, or empty when the store would need another read
	// to know it and no worker of another process needs telling.
	RunFailUpdate(ctx context.Context, params *store.RunFailParams, at time.Time) (workflow string, held bool, err error)
	// DeadLetterInsert creates the open entry of a run that just died, and
	// its notification in the outbox.
	DeadLetterInsert(ctx context.Context, runID string, entry *store.DeadLetterParams, at time.Time) error
	// StepCompensate records a completed step's compensation outcome and
	// returns the step's name; empty when the step is not completed (its
	// compensation was recorded already).
	StepCompensate(ctx context.Context, params *store.StepCompensateParams, status klaxontype.StepStatus, at time.Time) (name string, err error)

	// AlertInsert inserts a firing alert unless an alert of the same rule,
	// workflow and class fires already, and returns it; nil when it
	// inserted nothing.
	AlertInsert(ctx context.Context, params *store.AlertFireParams, runIDs []string) (*klaxontype.Alert, error)
	// AlertGet reads an alert; nil when there is none.
	AlertGet(ctx context.Context, id string) (*klaxontype.Alert, error)
	// AlertGetFiring reads the firing alert of a rule, workflow and class;
	// nil when there is none.
	AlertGetFiring(ctx context.Context, rule, workflow string, class klaxontype.FailureClass) (*klaxontype.Alert, error)
	// AlertUpdate records a firing alert's measurement, and counts a
	// notification when Notify is set, if it has recorded exactly
	// ExpectNotifications notifications, and returns it; nil when it
	// changed nothing.
	AlertUpdate(ctx context.Context, params *store.AlertUpdateParams, runIDs []string) (*klaxontype.Alert, error)
	// AlertResolve resolves a firing alert and returns it; nil when it was
	// not firing.
	AlertResolve(ctx context.Context, params *store.AlertResolveParams) (*klaxontype.Alert, error)

	// BreakerOpen opens a closed breaker until a time, and returns it; when
	// it is open already it extends it and returns nil.
	BreakerOpen(ctx context.Context, params *store.BreakerTripParams, at time.Time) (*klaxontype.Breaker, error)
	// BreakerClose closes an open breaker; closed is false when it was not
	// open.
	BreakerClose(ctx context.Context, params *store.BreakerResetParams, at time.Time) (closed bool, err error)

	// WorkflowUpsert records a workflow a worker can execute, creating or
	// updating its entry.
	WorkflowUpsert(ctx context.Context, workflow *WorkflowRow) error

	// ScheduleWrite inserts a schedule, or with params.Replace updates an
	// existing one's definition; written is false when the name is taken
	// (without Replace).
	ScheduleWrite(ctx context.Context, params *store.ScheduleSaveParams, at time.Time) (written bool, err error)
	// SchedulePause pauses or resumes a schedule; found is false when there
	// is none of that name.
	SchedulePause(ctx context.Context, params *store.SchedulePauseParams, at time.Time) (found bool, err error)
	// ScheduleDelete deletes a schedule and its decisions; found is false
	// when there is none of that name.
	ScheduleDelete(ctx context.Context, name string) (found bool, err error)
	// ScheduleGet reads a schedule without its decisions.
	ScheduleGet(ctx context.Context, name string) (*klaxontype.Schedule, error)
	// ScheduleMoveTick moves a schedule's next tick from params.From to
	// params.NextTick, recording its last tick; moved is false when its
	// next tick is no longer params.From.
	ScheduleMoveTick(ctx context.Context, params *store.ScheduleAdvanceParams) (moved bool, err error)
	// ScheduleOutcomeInsert records the decision of a schedule's tick.
	ScheduleOutcomeInsert(ctx context.Context, name string, outcome *klaxontype.ScheduleOutcome, at time.Time) error
	// ScheduleOutcomesTrim deletes a schedule's decisions but its latest kept.
	ScheduleOutcomesTrim(ctx context.Context, name string, kept int) error

	// OutboxSettle records a delivery attempt's outcome on a notification
	// its holder holds, clearing its last error when clearError is set;
	// held is false when it does not.
	OutboxSettle(ctx context.Context, params *store.OutboxSettleParams, next time.Time, attempted, clearError bool, at time.Time) (held bool, err error)
	// OutboxInsert queues a notification to a channel.
	OutboxInsert(ctx context.Context, message *OutboxInsertParams) error
	// RunsDelete deletes the runs given that are still ended with no open
	// dead-letter entry, with their entity labels, and returns their IDs.
	RunsDelete(ctx context.Context, ids []string) (deleted []string, err error)
	// RunHistoryDelete deletes the steps, archived steps, events, attempts,
	// closed dead-letter entries and notifications of deleted runs.
	RunHistoryDelete(ctx context.Context, ids []string) error

	// AuditInsert appends an operator action to the audit log.
	AuditInsert(ctx context.Context, record *klaxontype.AuditRecord) error
	// KeysRetire marks every encryption key but newest retired and returns
	// the keys it marked.
	KeysRetire(ctx context.Context, newest string, at time.Time) ([]string, error)
	// KeysCountOlder counts the stored values sealed under a key other than
	// the one whose envelope header is newestPrefix.
	KeysCountOlder(ctx context.Context, newestPrefix []byte) (int, error)

	// WaitInsert records a wait a run began, open.
	WaitInsert(ctx context.Context, runID string, wait *store.WaitParams) error
	// WaitGet reads a run's wait at a sequence number; nil when none.
	WaitGet(ctx context.Context, runID string, seq int) (*klaxontype.Wait, error)
	// WaitOpen reads a run's open wait of a name; nil when none.
	WaitOpen(ctx context.Context, runID, name string) (*klaxontype.Wait, error)
	// WaitClose ends an open wait as satisfied or timed out, by whom.
	WaitClose(ctx context.Context, runID string, seq int, state klaxontype.WaitState, by string, at time.Time) error
	// WaitsReopen forgets a replayed run's waits that must begin afresh:
	// those that timed out, and every one from sequence number from on.
	WaitsReopen(ctx context.Context, runID string, from int) error
	// SignalInsert records a signal, kept or consumed as it says, and
	// returns its ID.
	SignalInsert(ctx context.Context, signal *klaxontype.Signal) (int64, error)
	// SignalByKey reads a run's signal sent with an idempotency key; nil
	// when none.
	SignalByKey(ctx context.Context, runID, key string) (*klaxontype.Signal, error)
	// SignalKept reads a run's signal of a name not yet consumed; nil when
	// none.
	SignalKept(ctx context.Context, runID, name string) (*klaxontype.Signal, error)
	// SignalConsume marks a kept signal consumed by the wait at seq.
	SignalConsume(ctx context.Context, id int64, seq int, at time.Time) error
	// RunSuspend makes a run its holder holds running waiting, without a
	// lease, claimable at until; held is false when the holder no longer
	// holds it. workflow is the run's.
	RunSuspend(ctx context.Context, lease store.Lease, holder string, until, at time.Time) (workflow string, held bool, err error)
	// RunWake makes a waiting run claimable at once.
	RunWake(ctx context.Context, runID string, at time.Time) error
	// RunCompleteHeld marks a run its holder holds running completed with
	// its output; held is false when the holder no longer holds it.
	RunCompleteHeld(ctx context.Context, params *store.RunCompleteParams, at time.Time) (held bool, err error)
	// WaitOfChild reads the open wait for a child run; nil when no run
	// awaits it.
	WaitOfChild(ctx context.Context, childID string) (*klaxontype.Wait, error)
	// WaitsOpenCount counts a run's open waits of a kind.
	WaitsOpenCount(ctx context.Context, runID string, kind klaxontype.WaitKind) (int, error)
	// ChildrenOpen lists the IDs of a run's children that have not ended,
	// in the order they were started.
	ChildrenOpen(ctx context.Context, parentID string) ([]string, error)
	// RunsOpenOfEntity lists the IDs of the runs labelled with an entity
	// that have not ended, oldest first.
	RunsOpenOfEntity(ctx context.Context, key, value string) ([]string, error)

	// RateLimitLock reads a rate limit's row and keeps every other
	// acquisition of it waiting until this transaction ends; nil when the
	// limit is not declared.
	RateLimitLock(ctx context.Context, key string) (*RateLimitRow, error)
	// RateLimitRows reads every rate limit's row, by key.
	RateLimitRows(ctx context.Context) ([]*RateLimitRow, error)
	// RateLimitUpsert declares a limit, or changes an existing one's
	// definition keeping its arrival times.
	RateLimitUpsert(ctx context.Context, limit *klaxontype.RateLimit) error
	// RateLimitAdvance records a limit's arrival times.
	RateLimitAdvance(ctx context.Context, key string, requestTAT, tokenTAT int64) error

	// ConcurrencyLock keeps every other judgement of a concurrency key
	// waiting until this transaction ends.
	ConcurrencyLock(ctx context.Context, key string) error
	// ConcurrencyCount counts the slots of a key held by runs that have not
	// ended, and reads the limit its oldest waiting run was judged with;
	// waitingLimit is 0 when no run waits.
	ConcurrencyCount(ctx context.Context, key string) (held, waitingLimit int, err error)
	// RunJudge records the key and limit a run its holder holds running is
	// judged under, and its slot: held, or waiting, when the run goes back
	// to pending with no lease and its attempt given back, available at
	// klaxontype.ParkedUntil. held is false when the holder no longer
	// holds the run. workflow is the run's.
	RunJudge(ctx context.Context, params *RunJudgeParams) (workflow string, held bool, err error)
	// RunsAdmitWaiting gives a slot of a key to up to n of its oldest
	// waiting runs, available at once, and returns them.
	RunsAdmitWaiting(ctx context.Context, key string, n int, at time.Time) ([]AdmittedRun, error)
	// ConcurrencyWaitingKeys lists the keys that have runs waiting for a
	// slot, in order.
	ConcurrencyWaitingKeys(ctx context.Context) ([]string, error)

	// OutboxGiveUp gives up the pending notifications of a channel that no
	// deliverer holds, keeping lastError, and counts them.
	OutboxGiveUp(ctx context.Context, channel, lastError string, at time.Time) (int, error)
}

// RunJudgeParams records a claimed run's concurrency key and slot.
type RunJudgeParams struct {
	Lease  store.Lease
	Holder string
	Key    string
	Limit  int
	Slot   klaxontype.ConcurrencySlot
	At     time.Time
}

// AdmittedRun is a run given a slot of its key.
type AdmittedRun struct {
	ID       string
	Workflow string
}

// DeadLetterCloseParams moves an entry to its final state.
type DeadLetterCloseParams struct {
	ID     string
	State  klaxontype.DeadLetterState
	Actor  string
	At     time.Time
	Reason string
	// Mode and ReplayRunID are set for a replayed entry.
	Mode        klaxontype.ReplayMode
	ReplayRunID string
}

// PurgeRecordParams records a purge.
type PurgeRecordParams struct {
	Actor string
	At    time.Time
	// Filter is the purge's filter as JSON, IDs the purged entries' IDs.
	Filter []byte
	IDs    []string
}

// RunReopenParams makes a dead run pending again.
type RunReopenParams struct {
	ID string
	// Input replaces the run's input when not nil.
	Input []byte
	// NewGeneration starts a new idempotency-key generation for the steps
	// the run executes again.
	NewGeneration bool
	// Budget, when not nil, replaces the run's budget.
	Budget *klaxontype.Budget
	At     time.Time
}

// RunRestartParams creates a run from an earlier one.
type RunRestartParams struct {
	NewID  string
	FromID string
	// Input replaces the earlier run's input when not nil.
	Input []byte
	// Budget, when not nil, replaces the earlier run's budget.
	Budget *klaxontype.Budget
	At     time.Time
}

// StepResolveParams records a person's output for a step.
type StepResolveParams struct {
	RunID          string
	Seq            int
	Name           string
	IdempotencyKey string
	Output         []byte
	Actor          string
	At             time.Time
}

// OutboxInsertParams queues a notification of an alert, a breaker or an
// approval request.
type OutboxInsertParams struct {
	Channel string
	// AlertID is set for an alert's notification.
	AlertID string
	// Kind and EntryID are set for an approval request's notification: its
	// kind, and the run it is of.
	Kind    klaxontype.NotificationKind
	EntryID string
	// Payload is the notification as JSON.
	Payload []byte
	At      time.Time
}

// WorkflowRow is a workflow's entry, its JSON encoded once for every store.
type WorkflowRow struct {
	Name    string
	Version int
	// ExpectedSteps is the manifest as a JSON array, never null.
	ExpectedSteps []byte
	// InputSchema and Policies are JSON, nil for none.
	InputSchema []byte
	Policies    []byte
	At          time.Time
}

// BudgetArgs are the statement arguments of a new budget's caps: each field
// given, NULL for one not given (or no budget), which the statement's
// coalesce reads as "keep what the run has".
func BudgetArgs(b *klaxontype.Budget) (tokens, cost any) {
	if b == nil {
		return nil, nil
	}
	if b.Tokens > 0 {
		tokens = b.Tokens
	}
	if b.CostUSD > 0 {
		cost = b.CostUSD
	}
	return tokens, cost
}
