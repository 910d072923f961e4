package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// Children is what the engine asks of the process to start and read child
// runs: the client, which knows the workflows and checks inputs.
type Children interface {
	// ChildStart enqueues a child run, or finds the one its idempotency key
	// names; an unknown workflow or an input that does not fit is refused
	// and nothing is written.
	ChildStart(ctx context.Context, params *store.RunEnqueueParams) (*klaxontype.Run, error)
	// RunGet reads a run.
	RunGet(ctx context.Context, id string) (*klaxontype.Run, error)
}

func (e *Execution) withChildren(children Children) *Execution {
	e.children = children
	return e
}

// ChildStart starts a child run of the run ctx belongs to, from inside the
// step that starts it: the child's enqueue idempotency key is derived from
// the step's, so a retried or taken-over parent finds the child its earlier
// attempt started instead of starting another.
func ChildStart(ctx context.Context, workflow string, input []byte) (*klaxontype.Run, error) {
	e := ExecutionFrom(ctx)
	info, ok := StepFrom(ctx)
	if e == nil || !ok {
		return nil, errors.New("klaxon: a child run is started by a step of a workflow run")
	}
	if e.children == nil {
		return nil, permanent(errors.New("this worker cannot start child runs (it has no client)"))
	}
	return e.children.ChildStart(ctx, &store.RunEnqueueParams{
		Workflow: workflow, Input: input, IdempotencyKey: store.ChildKeyPrefix + info.IdempotencyKey,
		ParentID: e.run.ID, ParentSeq: info.Seq, Actor: "run " + e.run.ID,
	})
}

// ChildAwait is one await of a child run: the name of the step, the child,
// and how long the parent waits for it.
type ChildAwait struct {
	Name       string
	ChildRunID string
	Timeout    time.Duration
	Code       StepCode
}

// AwaitChildren awaits child runs, each a wait step taking its sequence
// number in program order before any is looked at, so that a fan-in over
// many children goes waiting once on all of them. A completed child's output
// is its step's; a child that ended dead or cancelled fails its step with
// the child's class (a *klaxontype.ChildError), before the parent waits on
// any other; children still running make the run waiting, and the error
// returned ends the attempt. Outputs come in the order of the awaits.
func AwaitChildren(ctx context.Context, awaits []ChildAwait) ([][]byte, error) {
	steps := make([]*PendingStep, len(awaits))
	for i := range awaits {
		p, err := BeginStep(ctx, StepCall{Name: awaits[i].Name, Code: awaits[i].Code})
		if err != nil {
			return nil, err
		}
		p.wait = klaxontype.WaitChild
		steps[i] = p
	}
	outputs := make([][]byte, len(awaits))
	children := make([]*klaxontype.Run, len(awaits))
	for i, p := range steps {
		if p.Recorded() {
			continue
		}
		e := p.exec
		if e.children == nil {
			return nil, p.fail(permanent(errors.New("this worker cannot await child runs (it has no client)")), 0)
		}
		child, err := e.children.RunGet(context.WithoutCancel(ctx), awaits[i].ChildRunID)
		if err != nil {
			return nil, p.fail(fmt.Errorf("read child run %s: %w", awaits[i].ChildRunID, err), 0)
		}
		children[i] = child
		if child.Status == klaxontype.RunStatusDead || child.Status == klaxontype.RunStatusCancelled {
			wait, err := e.store.WaitGet(context.WithoutCancel(ctx), e.run.ID, p.seq)
			if err != nil {
				return nil, p.fail(fmt.Errorf("read the wait: %w", err), 0)
			}
			if wait == nil {
				// The wait is recorded first, claimable at once: a parent that
				// dies of its child is then found by the child's later
				// completion (a person resolved or replayed it), and resumed.
				now := time.Now()
				call := WaitCall{Name: awaits[i].Name, Kind: klaxontype.WaitChild, Timeout: awaits[i].Timeout, Code: awaits[i].Code, ChildRunID: child.ID}
				return nil, p.suspend(ctx, &call, now, call.deadline(now))
			}
			failure := &klaxontype.ChildError{Name: awaits[i].Name, RunID: child.ID, Workflow: child.Workflow, Status: child.Status}
			if child.Failure != nil {
				failure.Class, failure.Reason = child.Failure.Class, child.Failure.Reason
			}
			return nil, p.fail(failure, 0)
		}
	}
	// The awaits are ended side by side, so the checkpoints of children
	// that completed before the parent went waiting are group-committed
	// together rather than one commit each.
	errs := make([]error, len(steps))
	var wg sync.WaitGroup
	for i, p := range steps {
		if p.Recorded() {
			outputs[i], errs[i] = p.replay(ctx)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			outputs[i], errs[i] = p.awaitChild(ctx, &awaits[i], children[i])
		}()
	}
	wg.Wait()
	var waiting error
	for _, err := range errs {
		if err != nil && !errors.Is(err, errWaiting) {
			return nil, err
		}
		if err != nil && waiting == nil {
			waiting = err
		}
	}
	if waiting != nil {
		return nil, waiting
	}
	return outputs, nil
}

// awaitChild ends the wait of a child that completed, or suspends the run
// on a child still open, or times the wait out past its deadline.
func (p *PendingStep) awaitChild(ctx context.Context, await *ChildAwait, child *klaxontype.Run) ([]byte, error) {
	e := p.exec
	wait, err := e.store.WaitGet(context.WithoutCancel(ctx), e.run.ID, p.seq)
	if err != nil {
		return nil, p.fail(fmt.Errorf("read the wait: %w", err), 0)
	}
	if wait != nil && (wait.Kind != klaxontype.WaitChild || wait.ChildRunID != await.ChildRunID) {
		err := &klaxontype.StepError{Name: await.Name, Seq: p.seq,
			Err: &klaxontype.NondeterminismError{Seq: p.seq, Recorded: fmt.Sprintf("%s (a wait for a %s %s)", wait.Name, wait.Kind, wait.ChildRunID), Called: await.Name}}
		e.mu.Lock()
		e.doomLocked(err)
		e.mu.Unlock()
		return nil, err
	}
	now := time.Now()
	call := WaitCall{Name: await.Name, Kind: klaxontype.WaitChild, Timeout: await.Timeout, Code: await.Code, ChildRunID: await.ChildRunID}
	switch {
	case child.Status == klaxontype.RunStatusCompleted && wait == nil:
		return p.finish(ctx, StepResult{Output: child.Output, Started: now, Finished: now}, true)
	case child.Status == klaxontype.RunStatusCompleted:
		return p.endChildWait(ctx, wait, child.Output, now)
	case wait == nil:
		return nil, p.suspend(ctx, &call, now, call.deadline(now))
	case wait.State == klaxontype.WaitTimedOut:
		return nil, p.fail(&klaxontype.WaitTimeoutError{Kind: wait.Kind, Name: wait.Name, After: wait.Timeout()}, 0)
	case wait.Deadline.After(now):
		return nil, p.suspend(ctx, &call, wait.StartedAt, wait.Deadline)
	}
	return p.endWait(ctx, wait, now)
}

// endChildWait records a completed child's output as the step of its open
// wait.
func (p *PendingStep) endChildWait(ctx context.Context, wait *klaxontype.Wait, output []byte, now time.Time) ([]byte, error) {
	e := p.exec
	params := &store.WaitEndParams{
		Lease: store.Lease{RunID: e.run.ID, Epoch: e.run.Epoch}, Holder: e.holder,
		Seq: p.seq, Name: p.call.Name, IdempotencyKey: p.key, State: klaxontype.WaitSatisfied, Output: output,
	}
	if err := e.store.WaitEnd(context.WithoutCancel(ctx), params); err != nil {
		if errors.Is(err, klaxontype.ErrLeaseLost) {
			e.mu.Lock()
			e.leaseLost = true
			e.mu.Unlock()
		}
		return nil, p.fail(fmt.Errorf("end the wait: %w", err), 0)
	}
	p.record = &klaxontype.StepRecord{
		RunID: e.run.ID, Seq: p.seq, Name: p.call.Name, Status: klaxontype.StepStatusCompleted,
		IdempotencyKey: p.key, Output: output, StartedAt: wait.StartedAt, FinishedAt: now,
	}
	return p.replay(ctx)
}
