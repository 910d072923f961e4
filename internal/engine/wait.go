package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// DefaultWaitTimeout is how long a wait for a signal or a decision lasts
// when the workflow sets no timeout: no wait hangs forever, unseen.
const DefaultWaitTimeout = 48 * time.Hour

// errWaiting ends an attempt whose workflow reached a durable wait: the run
// is given up, waiting, and no step begins after the wait.
var errWaiting = errors.New("the run waits; its worker gives it up until the wait is due or answered")

// WaitCall is one durable wait of a workflow, as the engine runs it.
type WaitCall struct {
	Name string
	Kind klaxontype.WaitKind
	// Timeout is how long a wait for a signal or a decision lasts, or a
	// sleep's duration, counted from when the run first reaches it.
	Timeout time.Duration
	// Until, when set, is a sleep's due time.
	Until time.Time
	// Request is what an approval asks.
	Request *klaxontype.ApprovalRequest
	// ChildRunID is the child run a wait for a child awaits.
	ChildRunID string
	// Code decodes the wait's result (null for a sleep, the signal's
	// payload, the decision) and gives its schema.
	Code StepCode
}

// deadline is when a wait first reached at now is due or times out.
func (c *WaitCall) deadline(now time.Time) time.Time {
	switch {
	case c.Kind == klaxontype.WaitSleep && !c.Until.IsZero():
		return c.Until
	case c.Kind == klaxontype.WaitSleep:
		return now.Add(c.Timeout)
	case c.Timeout > 0:
		return now.Add(c.Timeout)
	}
	return now.Add(DefaultWaitTimeout)
}

// Wait runs a durable wait of the run ctx belongs to, a step in the log like
// any other: a wait the log holds returns its result at once; a sleep that is
// due, or a wait reached for the first time, is recorded; a wait not yet due
// nor answered gives the run up, waiting, and returns an error that ends the
// attempt (the body must return it); a wait for a signal or a decision past
// its deadline fails with klaxontype.ErrWaitTimedOut, the same on every
// replay.
func Wait(ctx context.Context, call WaitCall) ([]byte, error) {
	p, err := BeginStep(ctx, StepCall{Name: call.Name, Code: call.Code})
	if err != nil {
		return nil, err
	}
	p.wait = call.Kind
	if p.Recorded() {
		return p.replay(ctx)
	}
	e := p.exec
	wait, err := e.store.WaitGet(context.WithoutCancel(ctx), e.run.ID, p.seq)
	if err != nil {
		return nil, p.fail(fmt.Errorf("read the wait: %w", err), 0)
	}
	if wait != nil && (wait.Name != call.Name || wait.Kind != call.Kind) {
		// The run began another wait here: the workflow changed under it.
		err := &klaxontype.StepError{Name: call.Name, Seq: p.seq,
			Err: &klaxontype.NondeterminismError{Seq: p.seq, Recorded: fmt.Sprintf("%s (a wait for a %s)", wait.Name, wait.Kind), Called: call.Name}}
		e.mu.Lock()
		e.doomLocked(err)
		e.mu.Unlock()
		return nil, err
	}
	now := time.Now()
	switch {
	case wait == nil:
		deadline := call.deadline(now)
		if call.Kind == klaxontype.WaitSleep && !deadline.After(now) {
			return p.finish(ctx, StepResult{Output: []byte("null"), Started: now, Finished: now}, true)
		}
		return nil, p.suspend(ctx, &call, now, deadline)
	case wait.State == klaxontype.WaitTimedOut:
		return nil, p.fail(&klaxontype.WaitTimeoutError{Kind: wait.Kind, Name: wait.Name, After: wait.Timeout()}, 0)
	case wait.State == klaxontype.WaitSatisfied:
		return nil, p.fail(permanent(fmt.Errorf("wait %q at step %d is recorded as satisfied, but the step log has no result for it", call.Name, p.seq)), 0)
	case wait.Deadline.After(now):
		// Woken before its time (a signal of another wait, a replay): the
		// deadline stands as first set.
		return nil, p.suspend(ctx, &call, wait.StartedAt, wait.Deadline)
	}
	return p.endWait(ctx, wait, now)
}

// endWait ends an open wait past its deadline: a sleep is satisfied and its
// step recorded, a wait for a signal or a decision times out.
func (p *PendingStep) endWait(ctx context.Context, wait *klaxontype.Wait, now time.Time) ([]byte, error) {
	e := p.exec
	params := &store.WaitEndParams{
		Lease: store.Lease{RunID: e.run.ID, Epoch: e.run.Epoch}, Holder: e.holder,
		Seq: p.seq, Name: p.call.Name, IdempotencyKey: p.key, State: klaxontype.WaitTimedOut,
	}
	if wait.Kind == klaxontype.WaitSleep {
		params.State, params.Output = klaxontype.WaitSatisfied, []byte("null")
	}
	if err := e.store.WaitEnd(context.WithoutCancel(ctx), params); err != nil {
		if errors.Is(err, klaxontype.ErrLeaseLost) {
			e.mu.Lock()
			e.leaseLost = true
			e.mu.Unlock()
		}
		return nil, p.fail(fmt.Errorf("end the wait: %w", err), 0)
	}
	if params.State == klaxontype.WaitTimedOut {
		return nil, p.fail(&klaxontype.WaitTimeoutError{Kind: wait.Kind, Name: wait.Name, After: wait.Timeout()}, 0)
	}
	p.record = &klaxontype.StepRecord{
		RunID: e.run.ID, Seq: p.seq, Name: p.call.Name, Status: klaxontype.StepStatusCompleted,
		IdempotencyKey: p.key, Output: params.Output, StartedAt: wait.StartedAt, FinishedAt: now,
	}
	return p.replay(ctx)
}

// suspend notes the wait the attempt reached and dooms the attempt with it:
// the run goes waiting when the body returns.
func (p *PendingStep) suspend(ctx context.Context, call *WaitCall, started, deadline time.Time) error {
	e := p.exec
	wait := store.WaitParams{
		Seq: p.seq, Name: call.Name, Kind: call.Kind, IdempotencyKey: p.key, StartedAt: started, Deadline: deadline, Request: call.Request,
		ChildRunID: call.ChildRunID,
	}
	if call.Kind == klaxontype.WaitSignal {
		wait.Schema = p.call.Code.OutputSchema()
	}
	err := &klaxontype.StepError{Name: call.Name, Seq: p.seq, Err: errWaiting}
	e.mu.Lock()
	e.waits = append(e.waits, wait)
	e.doomLocked(err)
	e.mu.Unlock()
	if e.tracer != nil {
		// Only the trace is told: the wait neither ran nor failed.
		p.trace(ctx)
		if end := p.endSpan; end != nil {
			callHook(e.logger, "Tracer", func() {
				end(&klaxontype.StepOutcome{RunID: e.run.ID, Workflow: e.run.Workflow, Seq: p.seq, Name: call.Name, Wait: call.Kind, Waiting: true})
			})
		}
	}
	return err
}

// waiting lists the waits the attempt reached when it was doomed by them;
// nil when something else doomed it.
func (e *Execution) waiting() []store.WaitParams {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !errors.Is(e.doomed, errWaiting) {
		return nil
	}
	if e.waits == nil && !e.capacityDue.IsZero() {
		return []store.WaitParams{} // waiting for rate-limit capacity only
	}
	return e.waits
}

// wait gives the run up to the waits the attempt reached.
func (a *attempt) wait(waits []store.WaitParams) {
	waiting, err := a.worker.config.Store.RunWait(context.WithoutCancel(a.ctx), &store.RunWaitParams{
		Lease: a.lease(), Holder: a.holder, Workflow: a.run.Workflow, Waits: waits, Spend: a.exec.looseSpend(),
		Until: a.exec.capacityUntil(),
	})
	if a.storeFailed("wait", err) {
		return
	}
	a.worker.wakeAt(waiting.Until)
	a.ended.waitUntil = waiting.Until
	a.report(klaxontype.AttemptWaiting, "", nil)
}
