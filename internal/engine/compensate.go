package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// pendingCompensations counts registered compensations whose step has not been
// compensated yet.
func (e *Execution) pendingCompensations() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	pending := 0
	for _, c := range e.compensations {
		if e.needsCompensation(c.seq) {
			pending++
		}
	}
	return pending
}

// needsCompensation is false for a step whose compensation an earlier
// attempt already recorded: each compensation runs at most once.
func (e *Execution) needsCompensation(seq int) bool {
	record := e.log[seq]
	return record == nil || record.Status == klaxontype.StepStatusCompleted
}

// compensateAndDeadLetter runs the pending compensations in reverse order of
// their steps, records each, and dead-letters the run. A failed compensation
// does not stop the others; it makes the run's class compensation_failed.
func (a *attempt) compensateAndDeadLetter(failure *klaxontype.RunFailure, record *klaxontype.Attempt) {
	if failure == nil {
		failure = &klaxontype.RunFailure{Class: klaxontype.ClassPermanent, Reason: "the run failed for good (reason not recorded)"}
	}
	a.exec.mu.Lock()
	pending := make([]compensation, 0, len(a.exec.compensations))
	for _, c := range a.exec.compensations {
		if a.exec.needsCompensation(c.seq) {
			pending = append(pending, c)
		}
	}
	a.exec.mu.Unlock()

	if a.remote {
		// The worker holds the compensations' code: it runs them, records
		// each, and reports when it is done (finishCompensation).
		a.ended.class, a.ended.reason = failure.Class, failure.Reason
		for i := len(pending) - 1; i >= 0; i-- {
			a.ended.compensate = append(a.ended.compensate, pending[i])
		}
		if len(pending) == 0 {
			a.finishCompensation(failure, record)
		}
		return
	}
	// Compensations run even if the run's own deadline has passed; only a lost
	// lease or a shutdown stops them.
	ctx := a.ctx
	// Compensations an earlier attempt recorded as failed count too.
	failed := a.exec.failedCompensations()
	for i := len(pending) - 1; i >= 0; i-- {
		c := pending[i]
		if cause := context.Cause(ctx); cause != nil {
			if errors.Is(cause, errShutdown) {
				a.release()
			} else {
				a.report(klaxontype.AttemptLeaseLost, "", cause)
			}
			return
		}
		err := runCompensation(ctx, a.exec, c)
		if cause := context.Cause(ctx); err != nil && cause != nil {
			// Cut short by a shutdown or a lost lease: not the compensation's
			// failure. Nothing is recorded; it runs again, with the same key.
			if errors.Is(cause, errShutdown) {
				a.release()
			} else {
				a.report(klaxontype.AttemptLeaseLost, "", cause)
			}
			return
		}
		message := ""
		if err != nil {
			message = err.Error()
			failed = append(failed, fmt.Sprintf("step %d %q: %v", c.seq, c.name, err))
		}
		storeErr := a.worker.config.Store.StepCompensate(context.WithoutCancel(ctx), &store.StepCompensateParams{
			Lease: a.lease(), Holder: a.holder, Seq: c.seq, Error: message, At: time.Now(),
		})
		if errors.Is(storeErr, klaxontype.ErrStepExists) {
			continue // recorded by an earlier attempt
		}
		if a.storeFailed("record a compensation", storeErr) {
			return
		}
	}
	a.deadLetter(compensationFailure(failure, failed), record)
}

// finishCompensation dead-letters a run whose compensations a remote worker
// ran and recorded: the step log says which failed.
func (a *attempt) finishCompensation(failure *klaxontype.RunFailure, record *klaxontype.Attempt) {
	if failure == nil {
		failure = &klaxontype.RunFailure{Class: klaxontype.ClassPermanent, Reason: "the run failed for good (reason not recorded)"}
	}
	a.deadLetter(compensationFailure(failure, a.exec.failedCompensations()), record)
}

// compensationFailure is the run's failure once its compensations ran: the
// failure that started them, or compensation_failed naming those that
// failed.
func compensationFailure(failure *klaxontype.RunFailure, failed []string) *klaxontype.RunFailure {
	if len(failed) == 0 {
		return failure
	}
	return &klaxontype.RunFailure{
		Class:   klaxontype.ClassCompensationFailed,
		Reason:  fmt.Sprintf("%s (after %s: %s)", strings.Join(failed, "; "), failure.Class, failure.Reason),
		Step:    failure.Step,
		StepSeq: failure.StepSeq,
	}
}

// failedCompensations names the compensations the step log records as
// failed, by sequence; the log is read-only after the claim, so no lock is
// needed.
func (e *Execution) failedCompensations() []string {
	seqs := make([]int, 0, len(e.log))
	for seq := range e.log {
		seqs = append(seqs, seq)
	}
	sort.Ints(seqs)
	var failed []string
	for _, seq := range seqs {
		if record := e.log[seq]; record.Status == klaxontype.StepStatusCompensationFailed {
			failed = append(failed, fmt.Sprintf("step %d %q: %s", record.Seq, record.Name, record.CompensationError))
		}
	}
	return failed
}

// runCompensation calls a step's compensation, guarded, with a key of its own
// in the step it is handed.
func runCompensation(ctx context.Context, e *Execution, c compensation) error {
	ctx = context.WithValue(ctx, activeStepKey{}, &activeStep{
		exec: e, seq: c.seq, name: c.name, key: c.key + "/compensate", compensating: true,
	})
	return guarded(func() error { return c.code.Compensate(ctx) })
}
