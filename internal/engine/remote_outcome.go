package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/protocol"
	"github.com/klaxonhq/klaxon/store"
)

// Outcome settles an attempt a remote worker reports the end of, by the same
// rules as an in-process attempt: the run is rebuilt from the store (its step
// log, the steps the attempt replayed or checkpointed, the step failures it
// met), and the attempt is completed, retried, compensated or
// dead-lettered as a Worker would. The answer says what comes next; when it
// is "compensate", the worker runs the compensations listed, records each,
// and reports the result "compensated".
func (r *Remote) Outcome(ctx context.Context, runID string, request *protocol.OutcomeRequest) (*protocol.OutcomeAnswer, error) {
	if err := checkOutcome(request); err != nil {
		return nil, err
	}
	stored, err := r.config.Store.RunGet(ctx, runID)
	if err != nil {
		return nil, err
	}
	definition, err := r.definitions.get(ctx, stored.Workflow)
	if err != nil {
		return nil, err
	}
	if request.Result == protocol.ResultCompleted && definition.outputSchema != nil && r.config.CheckSchema != nil {
		if err := r.config.CheckSchema(definition.outputSchema, request.Output); err != nil {
			return nil, &outputError{what: "the run's output", err: err}
		}
	}
	steps, err := r.config.Store.StepList(ctx, runID)
	if err != nil {
		return nil, err
	}
	// The run as the reporting attempt holds it: a stale epoch is refused by
	// the store's write, and recorded as a suppressed duplicate.
	run := *stored
	run.Epoch, run.Attempt = request.Epoch, request.Attempt
	exec := r.execution(&run, steps, definition, request.WorkerID)
	if err := r.replayReport(exec, definition, request); err != nil {
		return nil, err
	}
	a := &attempt{
		worker: r.worker, holder: request.WorkerID, run: &run, workflow: definition.Definition, exec: exec,
		ctx: context.WithoutCancel(ctx), started: time.Now().Add(-time.Duration(request.DurationMS) * time.Millisecond),
		remote: true,
	}
	switch {
	case request.Result == protocol.ResultCompensated:
		if stored.Status != klaxontype.RunStatusCompensating {
			return nil, fmt.Errorf("run %s is %s, not compensating: %w", runID, stored.Status, klaxontype.ErrLeaseLost)
		}
		a.finishCompensation(stored.Failure, nil)
	case request.Mode == protocol.ModeReplay:
		lost := lostWorkers(request.Reclaimed, &run, definition.Definition)
		if stored.Status != klaxontype.RunStatusCompensating && !lost {
			return nil, invalidf("run %s is %s and its workers were not lost: work it in mode run", runID, stored.Status)
		}
		a.settleReplayed(lost)
	case request.Result == protocol.ResultCompleted:
		a.settle(request.Output, nil)
	case request.Result == protocol.ResultFailed:
		err := reportedError(request.Error)
		timedOut, readErr := r.timedOutWait(ctx, runID, request.Error)
		if readErr != nil {
			return nil, readErr
		}
		if timedOut != nil {
			err = timedOut
		}
		a.settle(nil, err)
	default:
		return nil, invalidf("result %q in mode %q: a body run in mode run ends completed or failed", request.Result, request.Mode)
	}
	return r.outcomeAnswer(a)
}

// replayReport puts into the execution what the worker's attempt did: the
// steps it replayed or checkpointed, the compensations they registered, and
// its failed step executions with what they spent.
func (r *Remote) replayReport(exec *Execution, definition *remoteDefinition, request *protocol.OutcomeRequest) error {
	done := make(map[int]bool, len(request.StepsDone))
	for _, seq := range request.StepsDone {
		record := exec.log[seq]
		if record == nil {
			return invalidf("steps_done names step %d, which is not in the step log: checkpoint a step before reporting it done", seq)
		}
		if done[seq] {
			return invalidf("steps_done names step %d twice", seq)
		}
		done[seq] = true
		exec.executed[record.Name] = true
		exec.done = append(exec.done, doneStep{seq: seq, name: record.Name})
	}
	for _, seq := range request.Compensable {
		if !done[seq] {
			return invalidf("compensable names step %d, which is not in steps_done", seq)
		}
		record := exec.log[seq]
		exec.compensations = append(exec.compensations, compensation{seq: seq, name: record.Name, key: record.IdempotencyKey})
	}
	return r.reportFailures(exec, definition, request.StepFailures)
}

// reportFailures puts into the execution the failed step executions a worker
// reports, with what they spent: with an outcome, or with a wait that gives
// the run up.
func (r *Remote) reportFailures(exec *Execution, definition *remoteDefinition, failures []protocol.StepFailureReport) error {
	exec.outputSchemas = make(map[int]func() []byte, len(failures))
	for _, failed := range failures {
		if err := checkError(&failed.Error); err != nil {
			return err
		}
		if err := checkModelCalls(failed.ModelCalls); err != nil {
			return err
		}
		err := reportedError(&failed.Error)
		classified := exec.classify(err)
		exec.failures = append(exec.failures, storeStepFailure(failed, classified.Class, classified.By, err))
		exec.loose = exec.loose.Add(r.price(exec.run, failed.Seq, failed.Name, failed.ModelCalls))
		if schema := definition.stepOutputSchemas[failed.Name]; schema != nil {
			exec.outputSchemas[failed.Seq] = func() []byte { return schema }
		}
		if class := classified.Class; class == klaxontype.ClassNondeterminism || class == klaxontype.ClassBudgetExceeded {
			// What dooms a run ends it, whatever the body did with it.
			var stepErr *klaxontype.StepError
			if !errors.As(err, &stepErr) {
				err = &klaxontype.StepError{Name: failed.Name, Seq: failed.Seq, Err: err}
			}
			exec.doomLocked(err)
		}
	}
	return nil
}

// outcomeAnswer is what the attempt came to, for the worker.
func (r *Remote) outcomeAnswer(a *attempt) (*protocol.OutcomeAnswer, error) {
	ended := a.ended
	answer := &protocol.OutcomeAnswer{Class: ended.class, Reason: ended.reason, Compensate: []protocol.CompensationToRun{}}
	if len(ended.compensate) > 0 {
		answer.Next = protocol.NextCompensate
		for _, c := range ended.compensate {
			answer.Compensate = append(answer.Compensate, protocol.CompensationToRun{Seq: c.seq, Name: c.name, IdempotencyKey: c.key + "/compensate"})
		}
		return answer, nil
	}
	switch ended.result {
	case klaxontype.AttemptCompleted:
		answer.Next, answer.Reason = protocol.NextCompleted, ""
	case klaxontype.AttemptRetrying:
		answer.Next, answer.RetryAt = protocol.NextRetrying, ended.retryAt.UTC()
		r.Wake()
	case klaxontype.AttemptDead:
		answer.Next, answer.DeadLetterID = protocol.NextDead, ended.deadLetterID
	case klaxontype.AttemptReleased:
		answer.Next = protocol.NextReleased
	case klaxontype.AttemptLeaseLost:
		return nil, fmt.Errorf("the run is no longer this attempt's: %w", klaxontype.ErrLeaseLost)
	default:
		if ended.err != nil {
			return nil, fmt.Errorf("recording the attempt's outcome failed: %w", ended.err)
		}
		return nil, errors.New("the attempt ended without an outcome")
	}
	return answer, nil
}

// checkOutcome refuses a malformed outcome before anything is read.
func checkOutcome(request *protocol.OutcomeRequest) error {
	switch {
	case request.WorkerID == "":
		return invalidf("worker_id is empty")
	case request.Epoch < 1 || request.Attempt < 1:
		return invalidf("epoch %d, attempt %d: send the claim's epoch and attempt", request.Epoch, request.Attempt)
	case request.Mode != protocol.ModeRun && request.Mode != protocol.ModeReplay:
		return invalidf("mode %q: send the claim's mode, run or replay", request.Mode)
	case request.DurationMS < 0:
		return invalidf("duration_ms %d is negative", request.DurationMS)
	}
	switch request.Result {
	case protocol.ResultCompleted:
		if len(request.Output) == 0 || !json.Valid(request.Output) {
			return invalidf("result completed needs an output that is JSON (null for none)")
		}
	case protocol.ResultFailed:
		if request.Error == nil {
			return invalidf("result failed needs an error")
		}
		return checkError(request.Error)
	case protocol.ResultReplayed, protocol.ResultCompensated:
	default:
		return invalidf("result %q: give completed, failed, replayed or compensated", request.Result)
	}
	return nil
}

// checkError refuses an error report the engine could not classify.
func checkError(e *protocol.ReportedError) error {
	switch e.Kind {
	case protocol.KindFailure:
		if !e.Class.Valid() {
			return invalidf("error of kind failure with class %q: give one of the failure classes", e.Class)
		}
	case protocol.KindTimeout, protocol.KindPanic, protocol.KindError:
	default:
		return invalidf("error kind %q: give failure, timeout, panic or error", e.Kind)
	}
	if e.Seq < 0 || (e.Seq > 0) != (e.Step != "") {
		return invalidf("error names step %q at sequence %d: give both or neither", e.Step, e.Seq)
	}
	return nil
}

// reportedError is a worker's error report as the Go error the classifier
// and the attempt record read: a step's error when it names a step, a panic
// for a programming error, a deadline for a timeout, a self-classified error
// for a failure, and a plain error otherwise, which the classifier judges.
func reportedError(e *protocol.ReportedError) error {
	message := e.Message
	if message == "" {
		message = "the worker reported an error without a message"
		if e.Type != "" {
			message = e.Type + " without a message"
		}
	}
	var err error
	switch e.Kind {
	case protocol.KindPanic:
		err = &klaxontype.PanicError{Value: message, Stack: e.Traceback}
	case protocol.KindTimeout:
		err = &remoteError{message: message, traceback: e.Traceback, timeout: true}
	case protocol.KindFailure:
		err = &remoteError{message: message, traceback: e.Traceback, class: e.Class,
			retryAfter: time.Duration(e.RetryAfterMS) * time.Millisecond}
	default:
		err = &remoteError{message: message, traceback: e.Traceback}
	}
	if e.Step != "" {
		err = &klaxontype.StepError{Name: e.Step, Seq: e.Seq, Err: err}
	}
	return err
}

// remoteError is an error a remote worker reported.
type remoteError struct {
	message    string
	traceback  string
	class      klaxontype.FailureClass
	retryAfter time.Duration
	timeout    bool
}

func (e *remoteError) Error() string     { return e.message }
func (e *remoteError) Traceback() string { return e.traceback }

// Unwrap makes a timeout a deadline, which the classifier makes a timeout.
func (e *remoteError) Unwrap() error {
	if e.timeout {
		return context.DeadlineExceeded
	}
	return nil
}

// FailureClass is the class the worker's code gave the error, if any.
func (e *remoteError) FailureClass() klaxontype.FailureClass { return e.class }

// RetryAfter is the wait a rate limit asked for.
func (e *remoteError) RetryAfter() time.Duration { return e.retryAfter }

// storeStepFailure is a reported step failure as the store records it.
func storeStepFailure(failed protocol.StepFailureReport, class klaxontype.FailureClass, by string, err error) store.StepFailure {
	var stepErr *klaxontype.StepError
	if errors.As(err, &stepErr) {
		err = stepErr.Err
	}
	return store.StepFailure{Seq: failed.Seq, Name: failed.Name, Class: class, ClassifiedBy: by, Message: err.Error()}
}
