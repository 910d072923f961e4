package klaxontype

import "time"

// EventType names an entry of the event log, the audit trail of a run.
type EventType string

const (
	// EventRunEnqueued: the run was created.
	EventRunEnqueued EventType = "run.enqueued"
	// EventRunClaimed: a worker took the run under a new lease.
	EventRunClaimed EventType = "run.claimed"
	// EventLeaseReclaimed: a worker took over a run whose holder stopped
	// heartbeating and let its lease expire.
	EventLeaseReclaimed EventType = "lease.reclaimed"
	// EventLeaseReleased: a worker stopping gracefully gave the run back.
	EventLeaseReleased EventType = "lease.released"
	// EventStepCompleted: a step's output was checkpointed.
	EventStepCompleted EventType = "step.completed"
	// EventStepFailed: an attempt failed in a step (or in the workflow body),
	// or a step failed and the workflow body handled its error.
	EventStepFailed EventType = "step.failed"
	// EventRetryScheduled: the failed attempt will be retried after a backoff.
	EventRetryScheduled EventType = "retry.scheduled"
	// EventRunCompensating: the run failed for good and is undoing its steps.
	EventRunCompensating EventType = "run.compensating"
	// EventCompensationCompleted: one step's compensation ran.
	EventCompensationCompleted EventType = "compensation.completed"
	// EventCompensationFailed: one step's compensation returned an error.
	EventCompensationFailed EventType = "compensation.failed"
	// EventRunCompleted: the run completed with every expected step.
	EventRunCompleted EventType = "run.completed"
	// EventRunDead: the run ended in the dead-letter queue.
	EventRunDead EventType = "run.dead"
	// EventRunCancelled: a person cancelled the run; the event's actor is who,
	// its message the status it was cancelled in and why.
	EventRunCancelled EventType = "run.cancelled"
	// EventDLQReplayed: a person replayed the dead run.
	EventDLQReplayed EventType = "dlq.replayed"
	// EventDLQResolved: a person supplied the failed step's output.
	EventDLQResolved EventType = "dlq.resolved"
	// EventDLQDiscarded: a person closed the dead-letter entry without action.
	EventDLQDiscarded EventType = "dlq.discarded"
	// EventBreakerTripped: this run's failure or spend opened its workflow's
	// breaker.
	EventBreakerTripped EventType = "breaker.tripped"
	// EventSpendLate: a step's function reported spend after the engine
	// stopped waiting for it (its timeout, or the run's); the spend is
	// counted on the run and the attempt all the same.
	EventSpendLate EventType = "spend.late"
	// EventRunWaiting: the run's worker reached a wait (a timer, a signal,
	// an approval) and gave the run up until it is due or answered.
	EventRunWaiting EventType = "run.waiting"
	// EventSignalReceived: a signal was sent to the run, and either
	// satisfied its open wait of that name or is kept for its next one.
	EventSignalReceived EventType = "signal.received"
	// EventApprovalRequested: the run asked a person for a decision; the
	// request is in the approvals inbox and notified on its channel.
	EventApprovalRequested EventType = "approval.requested"
	// EventApprovalDecided: a person approved or rejected the run's request.
	EventApprovalDecided EventType = "approval.decided"
	// EventWaitTimedOut: a wait for a signal or an approval passed its
	// deadline unanswered.
	EventWaitTimedOut EventType = "wait.timed_out"
	// EventRunParked: a worker claimed the run, but every slot of its
	// concurrency key was held (or older runs of the key waited already):
	// the run waits in pending, unclaimable, until one frees.
	EventRunParked EventType = "run.parked"
	// EventRunAdmitted: a slot of the run's concurrency key freed and the
	// run, the oldest waiting for one, took it: it may be claimed again.
	EventRunAdmitted EventType = "run.admitted"
	// EventRateLimitBlocked: a provider refused a call the run's step made
	// under a rate limit (a 429), and the limit grants nothing to any worker
	// until the provider's Retry-After.
	EventRateLimitBlocked EventType = "rate_limit.blocked"
	// EventDuplicateSuppressed: a write from a holder whose lease was taken over,
	// or of a step already in the log, was rejected.
	EventDuplicateSuppressed EventType = "duplicate.suppressed"
)

// EventTypes lists every event type, in the order of a run's life.
func EventTypes() []EventType {
	return []EventType{
		EventRunEnqueued, EventRunClaimed, EventLeaseReclaimed, EventLeaseReleased,
		EventStepCompleted, EventStepFailed, EventRetryScheduled, EventRunCompensating,
		EventCompensationCompleted, EventCompensationFailed, EventRunCompleted, EventRunDead,
		EventRunCancelled, EventDLQReplayed, EventDLQResolved, EventDLQDiscarded,
		EventBreakerTripped, EventSpendLate, EventRunWaiting, EventSignalReceived,
		EventApprovalRequested, EventApprovalDecided, EventWaitTimedOut, EventRunParked, EventRunAdmitted,
		EventRateLimitBlocked, EventDuplicateSuppressed,
	}
}

// Valid reports whether t is one of EventTypes.
func (t EventType) Valid() bool {
	for _, known := range EventTypes() {
		if t == known {
			return true
		}
	}
	return false
}

// Event is one append-only entry of a run's event log.
type Event struct {
	// ID orders the events of a store.
	ID    int64     `json:"id"`
	RunID string    `json:"run_id"`
	Type  EventType `json:"type"`
	// Actor is who caused the event: a worker ID, "client", later a token name.
	Actor string    `json:"actor"`
	At    time.Time `json:"at"`
	// Step and StepSeq name the step the event is about, when there is one.
	Step    string `json:"step,omitempty"`
	StepSeq int    `json:"step_seq,omitempty"`
	// Message is a line a person can read.
	Message string `json:"message,omitempty"`
	// Record is what the run came to, on its terminal event (run.completed,
	// run.dead, run.cancelled) when one was written: by the engine as a run
	// completes or dies, by the store as it cancels one; nil on every other
	// event.
	Record *CompletionRecord `json:"record,omitempty"`
}
