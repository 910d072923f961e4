package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/protocol"
	"github.com/klaxonhq/klaxon/store"
)

// childStartOutput is a child's start step's output in the parent's step
// log, the same for a Go parent (klaxon.StartChild) and a remote one: the
// durable link to the child.
type childStartOutput struct {
	RunID    string `json:"run_id"`
	Workflow string `json:"workflow"`
}

// ChildStart starts a child run from a remote worker's step at seq, by the
// rules of a Go parent's klaxon.StartChild: the child's enqueue idempotency
// key is derived from the step's, so a retried or taken-over parent finds the
// child an earlier attempt started; the start step's output, the child's run
// ID, is checkpointed under the parent's epoch. A step the log holds already
// is answered from it, starting nothing. An unknown workflow or an input that
// does not fit its schema is answered "failed" (class permanent), and
// nothing is written: the worker fails the step with it.
func (r *Remote) ChildStart(ctx context.Context, runID string, seq int, request *protocol.ChildStartRequest) (*protocol.ChildStartAnswer, error) {
	if err := checkAttempt(seq, request.WorkerID, request.Epoch, request.Attempt); err != nil {
		return nil, err
	}
	switch {
	case request.Name == "":
		return nil, invalidf("name is empty: name the step that starts the child")
	case request.ChildWorkflow == "":
		return nil, invalidf("child_workflow is empty: name the workflow the child runs")
	case len(request.Input) > 0 && !json.Valid(request.Input):
		return nil, invalidf("input is not JSON")
	}
	if r.config.Children == nil {
		return nil, errors.New("this server cannot start child runs (its engine has no client)")
	}
	exec, _, stored, err := r.parentExecution(ctx, runID, request.Workflow, request.WorkerID, request.Epoch, request.Attempt)
	if err != nil {
		return nil, err
	}
	if stored.Epoch != request.Epoch || stored.Status != klaxontype.RunStatusRunning {
		return nil, fmt.Errorf("child %q at step %d: the run is %s under epoch %d: %w", request.Name, seq, stored.Status, stored.Epoch, klaxontype.ErrLeaseLost)
	}
	exec.lastSeq = seq - 1
	stepCtx := withExecution(ctx, exec)
	pending, err := BeginStep(stepCtx, StepCall{Name: request.Name, Code: &remoteStepCode{}})
	if err != nil {
		return nil, remoteStepErr(err)
	}
	answer := &protocol.ChildStartAnswer{Seq: seq, Name: request.Name}
	if pending.Recorded() {
		return startedAnswer(answer, pending.record.Output, true)
	}
	input := request.Input
	if len(input) == 0 {
		input = []byte("null")
	}
	child, err := r.config.Children.ChildStart(ctx, &store.RunEnqueueParams{
		Workflow: request.ChildWorkflow, Input: input, IdempotencyKey: store.ChildKeyPrefix + pending.key,
		ParentID: runID, ParentSeq: seq, Actor: "run " + runID,
	})
	var classified klaxontype.Classified
	switch {
	case errors.As(err, &classified) && classified.FailureClass() == klaxontype.ClassPermanent:
		answer.State, answer.Class, answer.Message = protocol.ChildRefused, klaxontype.ClassPermanent, err.Error()
		return answer, nil
	case err != nil:
		return nil, err
	}
	output, err := json.Marshal(childStartOutput{RunID: child.ID, Workflow: child.Workflow})
	if err != nil {
		return nil, err
	}
	now := time.Now()
	_, err = pending.Finish(stepCtx, StepResult{Output: output, Started: now, Finished: now})
	switch {
	case errors.Is(err, klaxontype.ErrStepExists):
		// The same start, repeated after a network error, won the race.
		recorded, readErr := r.recordedStep(ctx, runID, seq, &protocol.CheckpointRequest{Name: request.Name, Epoch: request.Epoch})
		if readErr != nil {
			return nil, readErr
		}
		answer.Duplicate = recorded.Duplicate
		return startedAnswer(answer, output, true)
	case exec.lostLease():
		return nil, fmt.Errorf("child %q at step %d: the run is no longer this attempt's: %w", request.Name, seq, klaxontype.ErrLeaseLost)
	case err != nil:
		return nil, err
	}
	return startedAnswer(answer, output, false)
}

// startedAnswer is the answer of a child start whose step output is output.
func startedAnswer(answer *protocol.ChildStartAnswer, output []byte, duplicate bool) (*protocol.ChildStartAnswer, error) {
	var started childStartOutput
	if err := json.Unmarshal(output, &started); err != nil || started.RunID == "" {
		return nil, fmt.Errorf("step %d %q holds %s, not a child run's start: %w (%w)", answer.Seq, answer.Name, output,
			&klaxontype.NondeterminismError{Seq: answer.Seq, Recorded: answer.Name + " (a step, not a child's start)", Called: answer.Name}, klaxontype.ErrNondeterminism)
	}
	answer.State, answer.RunID, answer.ChildWorkflow, answer.Output, answer.Duplicate = protocol.ChildStarted, started.RunID, started.Workflow, output, duplicate
	return answer, nil
}

// ChildAwait awaits child runs a remote worker's workflow started, by the
// very rules of a Go parent's klaxon.AwaitChildren: each await is a wait step
// of kind child, at consecutive sequence numbers from seq; completed
// children's outputs are recorded as their steps; a child that ended dead or
// cancelled fails its step with the child's class; children still running
// give the run up, waiting once on all of them, woken when the last ends or
// one fails; an await past its deadline times out.
func (r *Remote) ChildAwait(ctx context.Context, runID string, seq int, request *protocol.ChildAwaitRequest) (*protocol.ChildAwaitAnswer, error) {
	if err := checkAttempt(seq+max(len(request.Awaits)-1, 0), request.WorkerID, request.Epoch, request.Attempt); err != nil {
		return nil, err
	}
	if len(request.Awaits) == 0 {
		return nil, invalidf("awaits is empty: name the children to await")
	}
	awaits := make([]ChildAwait, len(request.Awaits))
	for i, await := range request.Awaits {
		switch {
		case await.Name == "" || await.ChildRunID == "":
			return nil, invalidf("await %d: name and child_run_id are required", i+1)
		case await.TimeoutMS < 0 || time.Duration(await.TimeoutMS) > MaxRemoteWait/time.Millisecond:
			return nil, invalidf("await %d: timeout_ms %d: give 0 to %d (ten years)", i+1, await.TimeoutMS, MaxRemoteWait.Milliseconds())
		}
		awaits[i] = ChildAwait{Name: await.Name, ChildRunID: await.ChildRunID, Timeout: time.Duration(await.TimeoutMS) * time.Millisecond, Code: &remoteStepCode{}}
	}
	if r.config.Children == nil {
		return nil, errors.New("this server cannot await child runs (its engine has no client)")
	}
	exec, definition, stored, err := r.parentExecution(ctx, runID, request.Workflow, request.WorkerID, request.Epoch, request.Attempt)
	if err != nil {
		return nil, err
	}
	if err := awaitsOwnChildren(exec, request.Awaits); err != nil {
		return nil, err
	}
	if err := r.reportFailures(exec, definition, request.StepFailures); err != nil {
		return nil, err
	}
	if doomed := exec.doomedBy(); doomed != nil {
		return nil, invalidf("step_failures doom the run (%v): report its outcome instead of awaiting", doomed)
	}
	exec.lastSeq = seq - 1
	outputs, err := AwaitChildren(withExecution(ctx, exec), awaits)
	var childFailed *klaxontype.ChildError
	var timedOut *klaxontype.WaitTimeoutError
	var stepErr *klaxontype.StepError
	errors.As(err, &stepErr)
	switch {
	case err == nil && (stored.Epoch != request.Epoch || stored.Status != klaxontype.RunStatusRunning):
		return nil, fmt.Errorf("await of children at step %d: the run is %s under epoch %d: %w", seq, stored.Status, stored.Epoch, klaxontype.ErrLeaseLost)
	case err == nil:
		answer := &protocol.ChildAwaitAnswer{State: protocol.WaitSatisfied, Outputs: make([]json.RawMessage, len(outputs))}
		for i, output := range outputs {
			answer.Outputs[i] = output
		}
		return answer, nil
	case exec.waiting() != nil:
		until, _, err := r.giveUp(ctx, exec, request.WorkerID, err)
		if err != nil {
			return nil, err
		}
		return &protocol.ChildAwaitAnswer{State: protocol.WaitWaiting, Until: until}, nil
	case exec.lostLease():
		return nil, fmt.Errorf("await of children at step %d: the run is no longer this attempt's: %w", seq, klaxontype.ErrLeaseLost)
	case errors.As(err, &childFailed) && stepErr != nil:
		return &protocol.ChildAwaitAnswer{
			State: protocol.ChildAwaitFailed, Seq: stepErr.Seq, Name: stepErr.Name, Class: childFailed.FailureClass(), Message: childFailed.Error(),
			Child: &protocol.ChildFailure{RunID: childFailed.RunID, Workflow: childFailed.Workflow, Status: childFailed.Status, Class: childFailed.Class, Reason: childFailed.Reason},
		}, nil
	case errors.As(err, &timedOut) && stepErr != nil:
		return &protocol.ChildAwaitAnswer{State: protocol.WaitTimedOut, Seq: stepErr.Seq, Name: stepErr.Name, Class: timedOut.FailureClass(), Message: timedOut.Error()}, nil
	case errors.Is(err, klaxontype.ErrNotFound):
		return nil, invalidf("await of children at step %d: %v: await only the children the run's steps started", seq, err)
	}
	return nil, remoteStepErr(err)
}

// awaitsOwnChildren refuses an await of a run that no step of the parent
// started: a worker awaits only the children its run's start steps link to.
func awaitsOwnChildren(exec *Execution, awaits []protocol.ChildAwait) error {
	started := make(map[string]bool)
	for _, record := range exec.log {
		if !bytes.Contains(record.Output, []byte(`"run_id"`)) {
			continue
		}
		var link childStartOutput
		if json.Unmarshal(record.Output, &link) == nil && link.RunID != "" {
			started[link.RunID] = true
		}
	}
	for i, await := range awaits {
		if !started[await.ChildRunID] {
			return invalidf("await %d (%q): no step of run %s started child run %s: await only the children the run's steps started", i+1, await.Name, exec.run.ID, await.ChildRunID)
		}
	}
	return nil
}

// checkAttempt refuses a remote attempt's request at a step that does not
// say which step, worker and attempt it is.
func checkAttempt(seq int, workerID string, epoch int64, attempt int) error {
	switch {
	case seq < 1 || seq > protocol.MaxSeq:
		return invalidf("step sequence %d: give 1 to %d", seq, protocol.MaxSeq)
	case workerID == "":
		return invalidf("worker_id is empty")
	case epoch < 1 || attempt < 1:
		return invalidf("epoch %d, attempt %d: send the claim's epoch and attempt", epoch, attempt)
	}
	return nil
}

// parentExecution rebuilds a remote worker's attempt of a parent run, with
// its step log, as far as a child's start or await needs it.
func (r *Remote) parentExecution(ctx context.Context, runID, workflow, holder string, epoch int64, attempt int) (*Execution, *remoteDefinition, *klaxontype.Run, error) {
	definition, err := r.definitions.get(ctx, workflow)
	if err != nil {
		return nil, nil, nil, err
	}
	stored, err := r.config.Store.RunGet(ctx, runID)
	if err != nil {
		return nil, nil, nil, err
	}
	if stored.Workflow != definition.Name {
		return nil, nil, nil, invalidf("run %s is a run of workflow %q, not %q: send the claim's workflow", runID, stored.Workflow, workflow)
	}
	steps, err := r.config.Store.StepList(ctx, runID)
	if err != nil {
		return nil, nil, nil, err
	}
	run := *stored
	run.Epoch, run.Attempt = epoch, attempt
	return r.execution(&run, steps, definition, holder).withChildren(r.config.Children), definition, stored, nil
}

// remoteStepErr gives a step's nondeterminism the protocol's problem type.
func remoteStepErr(err error) error {
	var nondeterminism *klaxontype.NondeterminismError
	if errors.As(err, &nondeterminism) {
		return fmt.Errorf("%w (%w)", nondeterminism, klaxontype.ErrNondeterminism)
	}
	return err
}

// childFailure is the error of a child's await the worker reports as the
// body's failure, when the child ended dead or cancelled: the server, not
// the worker, names the child's class and reason, as a Go parent's step
// does.
func (r *Remote) childFailure(ctx context.Context, wait *klaxontype.Wait) (error, error) {
	child, err := r.config.Store.RunGet(ctx, wait.ChildRunID)
	if err != nil || (child.Status != klaxontype.RunStatusDead && child.Status != klaxontype.RunStatusCancelled) {
		return nil, err
	}
	failure := &klaxontype.ChildError{Name: wait.Name, RunID: child.ID, Workflow: child.Workflow, Status: child.Status}
	if child.Failure != nil {
		failure.Class, failure.Reason = child.Failure.Class, child.Failure.Reason
	}
	return &klaxontype.StepError{Name: wait.Name, Seq: wait.Seq, Err: failure}, nil
}
