package klaxontype

import "time"

// StepOutcome tells an observer (metrics, the demo's summary) about one step
// call of a running workflow.
type StepOutcome struct {
	RunID    string
	Workflow string
	Seq      int
	Name     string
	// Replayed is true when the output came from the step log and the step's
	// function did not run.
	Replayed bool
	// Err is the step's error; nil when it completed.
	Err error
	// Class is the failure class of Err, as the worker's classifier decides
	// it; empty when the step did not fail.
	Class FailureClass
	// Duration is how long the step's function ran.
	Duration time.Duration
	// CheckpointLatency is how long the step waited for its checkpoint to be
	// durable.
	CheckpointLatency time.Duration
	// Spend is what the step's model calls cost.
	Spend Spend
	// Wait is the kind of the durable wait the step is (a sleep, a signal,
	// an approval); empty for a step that runs a function.
	Wait WaitKind
	// Waiting is true when the wait gave the run up: it is neither due nor
	// answered yet. Only a tracer is told of such a step call.
	Waiting bool
	// RateLimits are the keys of the rate limits the step drew on, and
	// RateLimitWait how long it waited for their capacity before it ran
	// (or, for a step whose run gave up its worker, how long until the
	// capacity is due).
	RateLimits    []string
	RateLimitWait time.Duration
}

// AttemptResult is how one attempt of a run ended, from the worker's view.
type AttemptResult string

const (
	// AttemptCompleted: the run completed.
	AttemptCompleted AttemptResult = "completed"
	// AttemptRetrying: the attempt failed and a retry is scheduled.
	AttemptRetrying AttemptResult = "retrying"
	// AttemptDead: the run failed for good and is in the dead-letter queue.
	AttemptDead AttemptResult = "dead"
	// AttemptReleased: the worker stopped and gave the run back.
	AttemptReleased AttemptResult = "released"
	// AttemptWaiting: the workflow reached a durable wait and the worker gave
	// the run up until the wait is due or answered; the attempt goes on when
	// the run is claimed again.
	AttemptWaiting AttemptResult = "waiting"
	// AttemptLeaseLost: another worker took the run over, or a person
	// cancelled it; this attempt's writes were refused.
	AttemptLeaseLost AttemptResult = "lease_lost"
	// AttemptAbandoned: the attempt could not record its outcome (the store
	// failed); its lease will expire and another attempt will follow.
	AttemptAbandoned AttemptResult = "abandoned"
)

// AttemptOutcome tells an observer how an attempt of a run ended.
type AttemptOutcome struct {
	RunID    string
	Workflow string
	Attempt  int
	Result   AttemptResult
	// Class is the failure class of a failed attempt.
	Class FailureClass
	// Err is the attempt's error, if it failed.
	Err      error
	Duration time.Duration
	// Retries counts the run's retries so far, including the one this attempt
	// scheduled: for a completed or dead run, how many it took.
	Retries int
	// Spend is what the run has spent so far, every attempt's model calls
	// including this one's: for a completed or dead run, its total.
	Spend Spend
}

// SpendOutcome tells an observer about one model call's spend, as the step's
// function reported it with klaxon.RecordSpend, when it is reported: before
// the step is checkpointed, so a call paid for in a step that then fails is
// seen too.
type SpendOutcome struct {
	RunID    string
	Workflow string
	Seq      int
	Step     string
	Spend    Spend
}
