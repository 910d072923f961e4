package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// abandonGrace is how long a workflow body whose context ended gets to
// return before its attempt is given up on.
const abandonGrace = 100 * time.Millisecond

// attempt is one execution of a claimed run by this worker.
type attempt struct {
	worker *Worker
	// holder is the worker the run's lease is held by: this process's, or
	// a remote worker's.
	holder   string
	claimed  *store.ClaimedRun
	run      *klaxontype.Run
	workflow *Definition
	exec     *Execution
	ctx      context.Context // cancelled on lease loss or shutdown
	started  time.Time
	// failed is this attempt's failure once it fails for good, for the
	// completion record: it may be written before the run goes dead (when
	// compensations run first) or with it.
	failed *klaxontype.Attempt
	// endSpan ends the attempt's span, when the worker has a tracer.
	endSpan func(*klaxontype.AttemptOutcome)
	// channel, when set, is the dead-letter channel of the run's failure,
	// instead of its class's route.
	channel string
	// remote is set when the workflow's code runs in another process, which
	// runs the compensations itself: the attempt then stops where it would
	// run them, and ended says which to run.
	remote bool
	// ended is how the attempt ended, for a remote worker's answer.
	ended attemptEnd
}

// attemptEnd is how an attempt ended: its result and class, and what the
// engine decided.
type attemptEnd struct {
	result       klaxontype.AttemptResult
	class        klaxontype.FailureClass
	reason       string
	retryAt      time.Time
	deadLetterID string
	// waitUntil is when a run that went waiting is claimable again.
	waitUntil time.Time
	err       error
	// compensate lists the compensations a remote worker must run, in the
	// order to run them.
	compensate []compensation
}

// work executes one claimed run and records how the attempt ended.
func (w *Worker) work(runCtx context.Context, claimed *store.ClaimedRun) {
	lease := store.Lease{RunID: claimed.Run.ID, Epoch: claimed.Run.Epoch}
	defer w.slotDone(lease)
	ctx, cancel := context.WithCancelCause(runCtx)
	defer cancel(nil)
	w.leases.attach(lease, cancel)

	run := claimed.Run
	workflow := w.config.Workflows[run.Workflow]
	a := &attempt{
		worker: w, holder: w.config.ID, claimed: claimed, run: run, workflow: workflow, ctx: ctx, started: time.Now(),
		exec: newExecution(run, claimed.Steps, workflow, w.config.ID, w.config.Store, w.config.OnStep, w.config.OnSpend).withChildren(w.config.Children),
	}
	a.exec.classifier = w.config.Classifier
	a.exec.logger = w.config.Logger
	if tracer := w.config.Tracer; tracer != nil {
		a.exec.tracer = tracer
		callHook(w.config.Logger, "Tracer", func() { a.ctx, a.endSpan = tracer.StartAttempt(ctx, run) })
		defer a.endTrace(&klaxontype.AttemptOutcome{
			RunID: run.ID, Workflow: run.Workflow, Attempt: run.Attempt, Result: klaxontype.AttemptAbandoned,
			Err: errors.New("the attempt ended without recording its outcome"),
		})
	}
	if lost := lostWorkers(claimed.Reclaimed, run, workflow); run.Status == klaxontype.RunStatusCompensating || lost {
		// Only the compensations are left, or nothing: replay the log to
		// find them.
		a.exec.replayOnly = true
		a.invoke()
		a.settleReplayed(lost)
		return
	}
	output, err := a.invoke()
	a.settle(output, err)
}

// settleReplayed ends an attempt that only replayed the step log: of a run
// compensating when its worker was lost, or of one whose every attempt lost
// its worker.
func (a *attempt) settleReplayed(lostWorkers bool) {
	run := a.run
	switch {
	case run.Status == klaxontype.RunStatusCompensating && lostWorkers:
		// Compensating keeps killing its worker: stop, and leave the rest of
		// the undo to a person.
		reason := fmt.Sprintf("compensating lost its worker on %d attempts; %d compensations not run", run.Attempt-1-run.AttemptOffset, a.exec.pendingCompensations())
		if run.Failure != nil {
			reason += fmt.Sprintf(" (after %s: %s)", run.Failure.Class, run.Failure.Reason)
		}
		failure := &klaxontype.RunFailure{Class: klaxontype.ClassCompensationFailed, Reason: reason}
		if run.Failure != nil {
			failure.Step, failure.StepSeq = run.Failure.Step, run.Failure.StepSeq
		}
		a.deadLetter(failure, nil)
	case run.Status == klaxontype.RunStatusCompensating:
		// A worker died while undoing this run: finish undoing.
		a.compensateAndDeadLetter(run.Failure, nil)
	default:
		// Every attempt so far lost its worker; do not start another.
		a.failForGood(&klaxontype.RunFailure{
			Class:  klaxontype.ClassTransient,
			Reason: fmt.Sprintf("the run's worker was lost on %d attempts: each attempt's lease expired", run.Attempt-1-run.AttemptOffset),
		}, nil)
	}
}

// invoke runs the workflow function, guarded and bounded by the run timeout.
func (a *attempt) invoke() (output []byte, err error) {
	ctx, cancel := withTimeout(withExecution(a.ctx, a.exec), a.workflow.RunTimeout, "run")
	defer cancel()
	a.exec.runCtx = ctx
	// A body that ignores its context is abandoned at the deadline, after a
	// grace to return, as a step is: a hung run must not hold its lease
	// forever.
	output, err = bounded(ctx, abandonGrace, workflowBody{a.workflow, a.run.Input})
	if ctx.Err() != nil && errors.Is(context.Cause(ctx), context.DeadlineExceeded) && !errors.Is(err, context.DeadlineExceeded) {
		// The body finished, but only after its deadline: treat it as the
		// timeout it was rather than a success that ignored the limit, or a
		// failure it swallowed the timeout into.
		err = context.Cause(ctx)
	}
	return output, err
}

// workflowBody is a run's workflow function applied to its input.
type workflowBody struct {
	workflow *Definition
	input    []byte
}

// Execute runs the workflow function.
func (b workflowBody) Execute(ctx context.Context) ([]byte, error) {
	return b.workflow.Execute(ctx, b.input)
}

// settle records the outcome of a normal attempt.
func (a *attempt) settle(output []byte, err error) {
	switch cause := context.Cause(a.ctx); {
	case a.exec.lostLease() || errors.Is(cause, klaxontype.ErrLeaseLost):
		a.report(klaxontype.AttemptLeaseLost, "", err)
		return
	case errors.Is(cause, errShutdown):
		a.release()
		return
	}
	if waits := a.exec.waiting(); waits != nil {
		// The workflow reached a durable wait: give the run up until it is
		// due or answered, with the step failures it handled before.
		a.recordHandledFailures(a.exec.handledFailures(nil))
		a.wait(waits)
		return
	}
	if doomed := a.exec.doomedBy(); doomed != nil {
		// The body swallowed what doomed the run; the run ends with it.
		err = doomed
	}
	handled := a.exec.handledFailures(err)
	a.recordHandledFailures(handled)
	if err == nil {
		if missing := a.exec.missingSteps(); len(missing) > 0 {
			a.failForGood(&klaxontype.RunFailure{
				Class: klaxontype.ClassPartialCompletion,
				Reason: fmt.Sprintf("workflow returned after %d of %d expected steps; missing: %s",
					len(a.workflow.ExpectedSteps)-len(missing), len(a.workflow.ExpectedSteps), strings.Join(missing, ", ")) +
					handledReason(handled),
			}, nil)
			return
		}
		a.complete(output)
		return
	}
	a.fail(err)
}

// recordHandledFailures records the step failures the body handled, so that
// every failed step execution is in the event log; a write that fails is
// logged, and the attempt's outcome is written regardless.
func (a *attempt) recordHandledFailures(handled []store.StepFailure) {
	if len(handled) == 0 {
		return
	}
	err := a.worker.config.Store.StepFailuresRecord(context.WithoutCancel(a.ctx), &store.StepFailuresRecordParams{
		Lease: a.lease(), Holder: a.holder, Attempt: a.run.Attempt, Failures: handled,
	})
	if err != nil && !errors.Is(err, klaxontype.ErrLeaseLost) {
		a.worker.config.Logger.Error("recording the step failures the workflow handled failed",
			"worker", a.holder, "run", a.run.ID, "error", err)
	}
}

// handledReason names the step failures the body handled before the run
// ended partial_completion, the likely cause of the missing steps.
func handledReason(handled []store.StepFailure) string {
	if len(handled) == 0 {
		return ""
	}
	named := make([]string, len(handled))
	for i, f := range handled {
		named[i] = fmt.Sprintf("step %d %q (%s): %s", f.Seq, f.Name, f.Class, f.Message)
	}
	return "; step failures the workflow handled: " + strings.Join(named, "; ")
}

func (a *attempt) complete(output []byte) {
	err := a.worker.config.Store.RunComplete(context.WithoutCancel(a.ctx), &store.RunCompleteParams{
		Lease: a.lease(), Holder: a.holder, Output: output, Spend: a.exec.looseSpend(),
		Record: a.completionRecord(klaxontype.RunStatusCompleted, nil),
		Child:  strings.HasPrefix(a.run.IdempotencyKey, store.ChildKeyPrefix),
	})
	if a.storeFailed("complete", err) {
		return
	}
	a.report(klaxontype.AttemptCompleted, "", nil)
}

// fail classifies a failed attempt and retries it or fails the run for good.
func (a *attempt) fail(err error) {
	if doomed := a.exec.doomedBy(); doomed != nil {
		err = doomed
	}
	classified := a.worker.config.Classifier.Classify(err)
	record := &klaxontype.Attempt{
		RunID: a.run.ID, Attempt: a.run.Attempt, At: time.Now().UTC(), Worker: a.holder,
		Class: classified.Class, Message: err.Error(), ClassifiedBy: classified.By,
		Duration: time.Since(a.started), Spend: a.exec.looseSpend(),
	}
	var stepErr *klaxontype.StepError
	if errors.As(err, &stepErr) {
		record.Step, record.StepSeq = stepErr.Name, stepErr.Seq
	}
	var panicked *klaxontype.PanicError
	var traced interface{ Traceback() string }
	switch {
	case errors.As(err, &panicked):
		record.Stack = panicked.Stack
	case errors.As(err, &traced):
		// A remote worker's exception, with its traceback.
		record.Stack = traced.Traceback()
	}
	attempts, allowed := a.run.Attempt-a.run.AttemptOffset, a.workflow.Retry.AttemptsFor(classified.Class)
	if errors.Is(err, klaxontype.ErrWaitTimedOut) {
		// Waiting again would not make anyone answer: a person decides.
		allowed, a.channel = 1, ChannelReview
	}
	if attempts < allowed {
		delay := a.workflow.Retry.Backoff(attempts)
		var retryAfter klaxontype.RetryAfterError
		if errors.As(err, &retryAfter) {
			asked := retryAfter.RetryAfter()
			wait, capped := a.workflow.Retry.CapRetryAfter(asked)
			if capped {
				record.Message += fmt.Sprintf(" (Retry-After of %s capped at %s by the retry policy)", asked, wait)
			}
			delay = max(delay, wait)
		}
		retryAt := time.Now().Add(delay)
		storeErr := a.worker.config.Store.RunFail(context.WithoutCancel(a.ctx), &store.RunFailParams{
			Lease: a.lease(), Holder: a.holder, Attempt: record,
			Next: klaxontype.RunStatusRetrying, RetryAt: retryAt,
		})
		if a.storeFailed("schedule a retry", storeErr) {
			return
		}
		a.worker.wakeAt(retryAt)
		a.ended.retryAt = retryAt
		a.report(klaxontype.AttemptRetrying, classified.Class, err)
		return
	}
	reason := record.Message
	if allowed > 1 {
		reason = fmt.Sprintf("gave up after %d attempts: %s", attempts, record.Message)
	}
	a.failForGood(&klaxontype.RunFailure{
		Class: classified.Class, Reason: reason, Step: record.Step, StepSeq: record.StepSeq,
	}, record)
}

// failForGood undoes the completed steps, if any registered a compensation,
// and dead-letters the run.
func (a *attempt) failForGood(failure *klaxontype.RunFailure, record *klaxontype.Attempt) {
	if record == nil {
		record = &klaxontype.Attempt{
			RunID: a.run.ID, Attempt: a.run.Attempt, At: time.Now().UTC(), Worker: a.holder,
			Step: failure.Step, StepSeq: failure.StepSeq, Class: failure.Class, Message: failure.Reason,
			ClassifiedBy: "engine", Duration: time.Since(a.started), Spend: a.exec.looseSpend(),
		}
	}
	a.failed = record
	if a.exec.pendingCompensations() > 0 {
		err := a.worker.config.Store.RunFail(context.WithoutCancel(a.ctx), &store.RunFailParams{
			Lease: a.lease(), Holder: a.holder, Attempt: record,
			Next: klaxontype.RunStatusCompensating, Failure: failure,
		})
		if a.storeFailed("start compensating", err) {
			return
		}
		a.compensateAndDeadLetter(failure, nil)
		return
	}
	a.deadLetter(failure, record)
}

func (a *attempt) deadLetter(failure *klaxontype.RunFailure, record *klaxontype.Attempt) {
	entry := &store.DeadLetterParams{ID: a.worker.config.NewID(), Channel: a.worker.route(failure.Class)}
	if a.channel != "" {
		entry.Channel = a.channel
	}
	if failure.Step != "" {
		entry.OutputSchema = a.exec.outputSchema(failure.StepSeq)
	}
	err := a.worker.config.Store.RunFail(context.WithoutCancel(a.ctx), &store.RunFailParams{
		Lease: a.lease(), Holder: a.holder, Attempt: record,
		Next: klaxontype.RunStatusDead, Failure: failure, DeadLetter: entry,
		Record: a.completionRecord(klaxontype.RunStatusDead, failure),
	})
	if a.storeFailed("dead-letter", err) {
		return
	}
	a.ended.deadLetterID = entry.ID
	if onDeadLetter := a.worker.config.OnDeadLetter; onDeadLetter != nil {
		callHook(a.worker.config.Logger, "OnDeadLetter", func() { onDeadLetter(entry.ID, entry.Channel) })
	}
	a.report(klaxontype.AttemptDead, failure.Class, errors.New(failure.Reason))
}

// release gives the run back to the queue because the worker is stopping.
func (a *attempt) release() {
	err := a.worker.config.Store.RunRelease(context.WithoutCancel(a.ctx), &store.RunReleaseParams{
		Lease: a.lease(), Holder: a.holder,
	})
	if a.storeFailed("release", err) {
		return
	}
	a.report(klaxontype.AttemptReleased, "", nil)
}

// storeFailed reports a write that did not land. A refused write means another
// worker holds the run; any other error leaves the run to its lease's expiry.
func (a *attempt) storeFailed(what string, err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, klaxontype.ErrLeaseLost) {
		a.report(klaxontype.AttemptLeaseLost, "", err)
		return true
	}
	a.worker.config.Logger.Error("recording the attempt's outcome failed; its lease will expire and the run will be retried",
		"worker", a.holder, "run", a.run.ID, "action", what, "error", err)
	a.report(klaxontype.AttemptAbandoned, "", err)
	return true
}

func (a *attempt) lease() store.Lease { return store.Lease{RunID: a.run.ID, Epoch: a.run.Epoch} }

func (a *attempt) report(result klaxontype.AttemptResult, class klaxontype.FailureClass, err error) {
	a.ended.result, a.ended.class, a.ended.err = result, class, err
	if err != nil {
		a.ended.reason = err.Error()
	}
	a.watchBreaker(result)
	if result == klaxontype.AttemptCompleted || result == klaxontype.AttemptDead {
		if admitNext(a.ctx, a.worker.config.Store, a.run, a.worker.config.Logger) {
			a.worker.Wake()
		}
	}
	logger := a.worker.config.Logger
	logger.Debug("attempt ended", "run", a.run.ID, "workflow", a.run.Workflow, "attempt", a.run.Attempt, "result", result, "class", class, "error", err)
	if a.worker.config.OnAttempt != nil || a.endSpan != nil {
		retries := a.run.Retries
		if result == klaxontype.AttemptRetrying {
			retries++
		}
		outcome := &klaxontype.AttemptOutcome{
			RunID: a.run.ID, Workflow: a.run.Workflow, Attempt: a.run.Attempt, Result: result,
			Class: class, Err: err, Duration: time.Since(a.started),
			Retries: retries, Spend: a.run.Spend.Add(a.exec.attemptSpend()),
		}
		if onAttempt := a.worker.config.OnAttempt; onAttempt != nil {
			callHook(logger, "OnAttempt", func() { onAttempt(outcome) })
		}
		a.endTrace(outcome)
	}
}

// endTrace ends the attempt's span, once: report ends it with the attempt's
// outcome, and work ends a span that report never reached.
func (a *attempt) endTrace(outcome *klaxontype.AttemptOutcome) {
	if a.endSpan != nil {
		end := a.endSpan
		a.endSpan = nil
		callHook(a.worker.config.Logger, "Tracer", func() { end(outcome) })
	}
}

// route is the dead-letter channel of a class.
func (w *Worker) route(class klaxontype.FailureClass) string {
	if channel := w.config.Routes[class]; channel != "" {
		return channel
	}
	return DefaultRoute(class)
}
