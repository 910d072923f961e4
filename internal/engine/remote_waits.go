package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/protocol"
)

// MaxRemoteWait bounds a remote wait's timeout or sleep: a duration in
// milliseconds past it is a worker's mistake (and would overflow).
const MaxRemoteWait = 10 * 366 * 24 * time.Hour

// Wait runs a durable wait a remote worker's workflow reached at seq, by the
// very rules of an in-process wait (Wait): the step log answers a wait it
// holds; a due sleep is recorded; a wait for a signal or a decision past its
// deadline times out, the same on every replay; any other wait gives the run
// up, waiting without a lease, through the same store write as a Go
// worker's attempt, with the step failures the attempt met before it. The
// answer says which: "satisfied" with the result, "timed_out" with the
// failure the worker raises to the workflow, or "waiting", after which the
// worker stops the workflow and reports nothing more for the run.
func (r *Remote) Wait(ctx context.Context, runID string, seq int, request *protocol.WaitRequest) (*protocol.WaitAnswer, error) {
	call, err := remoteWaitCall(seq, request)
	if err != nil {
		return nil, err
	}
	definition, err := r.definitions.get(ctx, request.Workflow)
	if err != nil {
		return nil, err
	}
	stored, err := r.config.Store.RunGet(ctx, runID)
	if err != nil {
		return nil, err
	}
	if stored.Workflow != definition.Name {
		return nil, invalidf("run %s is a run of workflow %q, not %q: send the claim's workflow", runID, stored.Workflow, request.Workflow)
	}
	steps, err := r.config.Store.StepList(ctx, runID)
	if err != nil {
		return nil, err
	}
	run := *stored
	run.Epoch, run.Attempt = request.Epoch, request.Attempt
	exec := r.execution(&run, steps, definition, request.WorkerID)
	if err := r.reportFailures(exec, definition, request.StepFailures); err != nil {
		return nil, err
	}
	if doomed := exec.doomedBy(); doomed != nil {
		// A worker begins no step, nor wait, once its run is doomed.
		return nil, invalidf("step_failures doom the run (%v): report its outcome instead of waiting", doomed)
	}
	exec.lastSeq = seq - 1
	output, err := Wait(withExecution(ctx, exec), *call)
	answer := &protocol.WaitAnswer{Seq: seq, Name: request.Name}
	var timedOut *klaxontype.WaitTimeoutError
	var nondeterminism *klaxontype.NondeterminismError
	switch {
	case err == nil && (stored.Epoch != request.Epoch || stored.Status != klaxontype.RunStatusRunning):
		// Read from the log, not written: still, an attempt that no longer
		// holds the run goes no further.
		return nil, fmt.Errorf("wait %q at step %d: the run is %s under epoch %d: %w", request.Name, seq, stored.Status, stored.Epoch, klaxontype.ErrLeaseLost)
	case err == nil:
		answer.State, answer.Output = protocol.WaitSatisfied, output
		return answer, nil
	case exec.waiting() != nil:
		until, deadline, err := r.giveUp(ctx, exec, request.WorkerID, err)
		if err != nil {
			return nil, fmt.Errorf("wait %q: %w", request.Name, err)
		}
		answer.State, answer.Until, answer.Deadline = protocol.WaitWaiting, until, deadline
		return answer, nil
	case exec.lostLease():
		return nil, fmt.Errorf("wait %q at step %d: the run is no longer this attempt's: %w", request.Name, seq, klaxontype.ErrLeaseLost)
	case errors.As(err, &nondeterminism):
		return nil, fmt.Errorf("%w (%w)", nondeterminism, klaxontype.ErrNondeterminism)
	case errors.As(err, &timedOut):
		answer.State, answer.Class, answer.Message = protocol.WaitTimedOut, timedOut.FailureClass(), timedOut.Error()
		return answer, nil
	}
	return nil, err
}

// giveUp settles the attempt as a Go worker's attempt is settled when its
// workflow reaches a wait (a sleep, a signal, an approval, children): the
// handled step failures recorded, the run waiting until the wait is due or
// answered. It returns when the run is claimable again, and the deadline of
// the first wait.
func (r *Remote) giveUp(ctx context.Context, exec *Execution, holder string, waitErr error) (until, deadline time.Time, err error) {
	a := &attempt{
		worker: r.worker, holder: holder, run: exec.run, workflow: exec.workflow, exec: exec,
		ctx: context.WithoutCancel(ctx), started: time.Now(), remote: true,
	}
	a.settle(nil, waitErr)
	switch a.ended.result {
	case klaxontype.AttemptWaiting:
	case klaxontype.AttemptLeaseLost:
		return time.Time{}, time.Time{}, fmt.Errorf("the run is no longer this attempt's: %w", klaxontype.ErrLeaseLost)
	default:
		if a.ended.err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("giving the run up to its wait failed: %w", a.ended.err)
		}
		return time.Time{}, time.Time{}, fmt.Errorf("the wait ended the attempt as %s", a.ended.result)
	}
	if waits := exec.waiting(); len(waits) > 0 {
		deadline = waits[0].Deadline.UTC()
	}
	// A kept signal, or a child that ended already, may have answered the
	// wait at once: wake the claims of every worker then, not at their next
	// poll.
	if delay := time.Until(a.ended.waitUntil); delay < r.config.PollInterval {
		time.AfterFunc(max(delay, 0), r.Wake)
	}
	return a.ended.waitUntil.UTC(), deadline, nil
}

// remoteWaitCall checks a remote wait and turns it into the engine's call.
func remoteWaitCall(seq int, request *protocol.WaitRequest) (*WaitCall, error) {
	if err := checkAttempt(seq, request.WorkerID, request.Epoch, request.Attempt); err != nil {
		return nil, err
	}
	switch {
	case request.Name == "":
		return nil, invalidf("name is empty: name the wait")
	case !request.Kind.Valid() || request.Kind == klaxontype.WaitChild:
		// Children are awaited through ChildAwait, which knows the child.
		return nil, invalidf("kind %q: give sleep, signal or approval (await a child run with POST runs/{id}/awaits/{seq})", request.Kind)
	case request.TimeoutMS < 0:
		return nil, invalidf("timeout_ms %d is negative", request.TimeoutMS)
	case time.Duration(request.TimeoutMS) > MaxRemoteWait/time.Millisecond:
		return nil, invalidf("timeout_ms %d is more than %d (ten years)", request.TimeoutMS, MaxRemoteWait.Milliseconds())
	case !request.Until.IsZero() && request.Kind != klaxontype.WaitSleep:
		return nil, invalidf("until is a sleep's due time: a wait for a %s takes timeout_ms", request.Kind)
	case !request.Until.IsZero() && request.TimeoutMS != 0:
		return nil, invalidf("give timeout_ms or until, not both")
	case request.Request != nil && request.Kind != klaxontype.WaitApproval:
		return nil, invalidf("request is what an approval asks: a wait of kind %s takes none", request.Kind)
	}
	return &WaitCall{
		Name: request.Name, Kind: request.Kind, Timeout: time.Duration(request.TimeoutMS) * time.Millisecond,
		Until: request.Until, Request: request.Request, Code: &remoteStepCode{},
	}, nil
}

// timedOutWait is the error of a wait the worker reports as the body's
// failure, when the store holds that wait as timed out: the server, not the
// worker, knows that a person did not answer, and such a failure is not
// retried and goes to the review channel, as a Go workflow's is. The await
// of a child that ended dead or cancelled is judged likewise (childFailure).
func (r *Remote) timedOutWait(ctx context.Context, runID string, reported *protocol.ReportedError) (error, error) {
	if reported == nil || reported.Seq < 1 {
		return nil, nil
	}
	wait, err := r.config.Store.WaitGet(ctx, runID, reported.Seq)
	if err != nil || wait == nil || wait.Name != reported.Step {
		return nil, err
	}
	if wait.Kind == klaxontype.WaitChild && wait.State != klaxontype.WaitTimedOut {
		return r.childFailure(ctx, wait)
	}
	if wait.State != klaxontype.WaitTimedOut {
		return nil, nil
	}
	return &klaxontype.StepError{Name: wait.Name, Seq: wait.Seq,
		Err: &klaxontype.WaitTimeoutError{Kind: wait.Kind, Name: wait.Name, After: wait.Timeout()}}, nil
}
