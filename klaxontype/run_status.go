package klaxontype

// RunStatus is where a run is in its life. The database mirrors the list with a
// CHECK constraint, so a new status needs a migration.
type RunStatus string

const (
	// RunStatusPending is a run waiting to be claimed by a worker. A run enters it
	// when it is enqueued or when a worker stopping gracefully releases it, and
	// leaves it when a worker claims it.
	RunStatusPending RunStatus = "pending"
	// RunStatusRunning is a run held by a worker under a lease. It leaves it when
	// the worker completes it, schedules a retry, starts compensating, dead-letters
	// it or releases it, when its lease expires and another worker reclaims it,
	// or when a person cancels it.
	RunStatusRunning RunStatus = "running"
	// RunStatusRetrying is a run whose attempt failed with a retryable class and
	// that waits for its backoff to pass; it is claimed again once it has.
	RunStatusRetrying RunStatus = "retrying"
	// RunStatusWaiting is a run whose workflow waits durably: on a timer
	// (Sleep), a signal (WaitForSignal) or a person's decision
	// (AwaitApproval). It holds no worker and no lease. It enters it when its
	// worker, reaching the wait, gives it up, and is claimed again, without
	// counting an attempt, once its available time has passed: the earliest
	// deadline of its open waits, or the moment a signal or a decision
	// satisfied one. A person may cancel it.
	RunStatusWaiting RunStatus = "waiting"
	// RunStatusCompleted is a run whose workflow returned without error after
	// executing every step of its manifest. Terminal.
	RunStatusCompleted RunStatus = "completed"
	// RunStatusCompensating is a run that failed for good and whose completed
	// steps' compensations are being run in reverse order, under a lease like a
	// running run. It leaves it for dead.
	RunStatusCompensating RunStatus = "compensating"
	// RunStatusDead is a run that cannot be retried: it sits in the dead-letter
	// queue with its failure class, reason and attempt history. Terminal.
	RunStatusDead RunStatus = "dead"
	// RunStatusCancelled is a run a person cancelled while it was pending,
	// retrying, waiting or running. It is never claimed again; the holder of a running
	// run lost its lease with the cancel, so none of its writes are recorded.
	// Its failure has class cancelled and says who cancelled it and why.
	// Terminal.
	RunStatusCancelled RunStatus = "cancelled"
)

// RunStatuses lists every run status in the order of a run's life.
func RunStatuses() []RunStatus {
	return []RunStatus{
		RunStatusPending, RunStatusRunning, RunStatusRetrying, RunStatusWaiting, RunStatusCompleted,
		RunStatusCompensating, RunStatusDead, RunStatusCancelled,
	}
}

// Terminal reports whether a run in this status will never change again on its
// own.
func (s RunStatus) Terminal() bool {
	return s == RunStatusCompleted || s == RunStatusDead || s == RunStatusCancelled
}

// Valid reports whether s is one of RunStatuses.
func (s RunStatus) Valid() bool {
	for _, known := range RunStatuses() {
		if s == known {
			return true
		}
	}
	return false
}
