package txn

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// ApprovalsChannel is the notification channel of approval requests.
const ApprovalsChannel = "approvals"

// RunWait gives a held run up to the waits its attempt reached, in the
// holder's group-committed transaction: new waits are recorded, a new
// approval request is notified, a signal kept for the run satisfies a wait
// of its name, and the run goes waiting without a lease until the earliest
// deadline, or is claimable at once when a kept signal satisfied a wait.
func (r Rules) RunWait(ctx context.Context, params *store.RunWaitParams) (*store.RunWaiting, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	var refused error
	var waiting *store.RunWaiting
	err := r.batch(ctx, func(ctx context.Context, tx Tx) error {
		refused = nil
		t := r.now()
		held, err := tx.RunHeld(ctx, params.Lease, params.Holder, klaxontype.RunStatusRunning)
		if err != nil {
			return err
		}
		first := store.WaitParams{Name: "rate limit"}
		if len(params.Waits) > 0 {
			first = params.Waits[0]
		}
		if !held {
			refused, err = suppress(ctx, tx, params.Lease, params.Holder, t, "wait", first.Name, first.Seq, klaxontype.ErrLeaseLost)
			return err
		}
		until := params.Until
		for i := range params.Waits {
			w := &params.Waits[i]
			deadline, err := r.beginWait(ctx, tx, params, w, t)
			if err != nil {
				return err
			}
			if until.IsZero() || deadline.Before(until) {
				until = deadline
			}
		}
		if !params.Spend.IsZero() {
			if err := tx.RunAddSpend(ctx, params.RunID, params.Spend); err != nil {
				return err
			}
		}
		workflow, held, err := tx.RunSuspend(ctx, params.Lease, params.Holder, until, t)
		if err != nil {
			return err
		}
		if !held {
			return fmt.Errorf("run %s changed holder inside its own transaction", params.RunID)
		}
		if !until.After(t) {
			if err := tx.RunsAvailable(ctx, workflow); err != nil {
				return err
			}
		}
		waiting = &store.RunWaiting{Until: until}
		return tx.EventInsert(ctx, &klaxontype.Event{
			RunID: params.RunID, Type: klaxontype.EventRunWaiting, Actor: params.Holder, At: t,
			Step: first.Name, StepSeq: first.Seq,
			Message: waitingMessage(params.Waits, until, t),
		}, nil)
	})
	if err != nil {
		return nil, err
	}
	return waiting, refused
}

// beginWait records one wait of a run going waiting, and returns when the
// run must be claimable for it: its deadline, or now when a kept signal
// satisfied it.
func (r Rules) beginWait(ctx context.Context, tx Tx, params *store.RunWaitParams, w *store.WaitParams, t time.Time) (time.Time, error) {
	recorded, err := tx.WaitGet(ctx, params.RunID, w.Seq)
	if err != nil {
		return time.Time{}, err
	}
	if recorded == nil {
		if w.StartedAt.IsZero() {
			w.StartedAt = t
		}
		if err := tx.WaitInsert(ctx, params.RunID, w); err != nil {
			return time.Time{}, err
		}
		if w.Kind == klaxontype.WaitApproval {
			if err := requestApproval(ctx, tx, params.RunID, params.Workflow, w, t); err != nil {
				return time.Time{}, err
			}
		}
	} else {
		// Met again after a wake-up: the deadline stands as first set.
		w.Deadline = recorded.Deadline
		if recorded.State != klaxontype.WaitOpen {
			return t, nil
		}
	}
	if w.Kind == klaxontype.WaitChild {
		// A child that ended before its parent went waiting told nobody:
		// the parent is claimable at once, and reads the child's end.
		child, err := tx.RunLock(ctx, w.ChildRunID)
		if err != nil {
			return time.Time{}, fmt.Errorf("the child run %s awaited at step %d: %w", w.ChildRunID, w.Seq, err)
		}
		if child.Status.Terminal() {
			return t, nil
		}
		return w.Deadline, nil
	}
	if w.Kind != klaxontype.WaitSignal {
		return w.Deadline, nil
	}
	kept, err := tx.SignalKept(ctx, params.RunID, w.Name)
	if err != nil || kept == nil {
		return w.Deadline, err
	}
	if err := consume(ctx, tx, kept, w.Seq, w.IdempotencyKey, t); err != nil {
		return time.Time{}, err
	}
	return t, nil
}

// requestApproval asks for a person's decision: an approval.requested event
// and a notification to the approvals channel.
func requestApproval(ctx context.Context, tx Tx, runID, workflow string, w *store.WaitParams, t time.Time) error {
	title := ""
	if w.Request != nil {
		title = w.Request.Title
	}
	if err := tx.EventInsert(ctx, &klaxontype.Event{
		RunID: runID, Type: klaxontype.EventApprovalRequested, Actor: "engine", At: t, Step: w.Name, StepSeq: w.Seq,
		Message: fmt.Sprintf("approval %q requested: %s; answer by %s", w.Name, title, w.Deadline.UTC().Format(time.RFC3339)),
	}, nil); err != nil {
		return err
	}
	payload, err := json.Marshal(klaxontype.ApprovalNotification{
		RunID: runID, Workflow: workflow, Name: w.Name, Seq: w.Seq, Request: w.Request, RequestedAt: t, Deadline: w.Deadline,
	})
	if err != nil {
		return err
	}
	return tx.OutboxInsert(ctx, &OutboxInsertParams{
		Channel: ApprovalsChannel, Kind: klaxontype.NotificationApproval, EntryID: runID, Payload: payload, At: t,
	})
}

// consume lets a signal satisfy the wait at seq: the payload becomes the
// wait's step, by the signal's sender.
func consume(ctx context.Context, tx Tx, signal *klaxontype.Signal, seq int, key string, t time.Time) error {
	if err := tx.SignalConsume(ctx, signal.ID, seq, t); err != nil {
		return err
	}
	return satisfy(ctx, tx, signal.RunID, seq, signal.Name, key, signal.Payload, signal.Actor, t)
}

// satisfy ends an open wait with its result: the wait's step, recorded as
// completed with the output, and the wait satisfied by actor.
func satisfy(ctx context.Context, tx Tx, runID string, seq int, name, key string, output []byte, actor string, t time.Time) error {
	inserted, err := tx.StepResolve(ctx, &StepResolveParams{
		RunID: runID, Seq: seq, Name: name, IdempotencyKey: key, Output: output, Actor: actor, At: t,
	})
	if err != nil {
		return err
	}
	if !inserted {
		return fmt.Errorf("run %s has a step at %d already: its wait %q cannot be satisfied: %w", runID, seq, name, klaxontype.ErrSignalRefused)
	}
	if err := tx.WaitClose(ctx, runID, seq, klaxontype.WaitSatisfied, actor, t); err != nil {
		return err
	}
	return tx.EventInsert(ctx, &klaxontype.Event{
		RunID: runID, Type: klaxontype.EventStepCompleted, Actor: actor, At: t, Step: name, StepSeq: seq,
		Message: "wait satisfied",
	}, nil)
}

func waitingMessage(waits []store.WaitParams, until, t time.Time) string {
	if len(waits) == 0 {
		return fmt.Sprintf("waits for rate-limit capacity, due at %s", until.UTC().Format(time.RFC3339Nano))
	}
	w := waits[0]
	what := fmt.Sprintf("%s %q", w.Kind, w.Name)
	if len(waits) > 1 {
		what += fmt.Sprintf(" and %d more", len(waits)-1)
	}
	if !until.After(t) {
		return "waits on " + what + ": answered already, claimable at once"
	}
	verb := "times out"
	if w.Kind == klaxontype.WaitSleep {
		verb = "due"
	}
	return fmt.Sprintf("waits on %s; %s at %s", what, verb, until.UTC().Format(time.RFC3339Nano))
}

// WaitEnd ends an open wait of a held run: a due sleep, whose step it
// records, or a wait for a signal or a decision past its deadline.
func (r Rules) WaitEnd(ctx context.Context, params *store.WaitEndParams) error {
	var refused error
	err := r.batch(ctx, func(ctx context.Context, tx Tx) error {
		refused = nil
		t := r.now()
		held, err := tx.RunHeld(ctx, params.Lease, params.Holder, klaxontype.RunStatusRunning)
		if err != nil {
			return err
		}
		if !held {
			refused, err = suppress(ctx, tx, params.Lease, params.Holder, t, "end of wait", params.Name, params.Seq, klaxontype.ErrLeaseLost)
			return err
		}
		wait, err := tx.WaitGet(ctx, params.RunID, params.Seq)
		if err != nil {
			return err
		}
		if wait == nil || wait.State != klaxontype.WaitOpen {
			return nil // ended already: nothing to do twice
		}
		if params.State == klaxontype.WaitSatisfied {
			return satisfy(ctx, tx, params.RunID, params.Seq, params.Name, params.IdempotencyKey, params.Output, "timer", t)
		}
		if err := tx.WaitClose(ctx, params.RunID, params.Seq, klaxontype.WaitTimedOut, "deadline", t); err != nil {
			return err
		}
		timeout := &klaxontype.WaitTimeoutError{Kind: wait.Kind, Name: wait.Name, After: wait.Timeout()}
		return tx.EventInsert(ctx, &klaxontype.Event{
			RunID: params.RunID, Type: klaxontype.EventWaitTimedOut, Actor: params.Holder, At: t,
			Step: wait.Name, StepSeq: wait.Seq, Message: timeout.Error(),
		}, nil)
	})
	if err != nil {
		return err
	}
	return refused
}

// SignalSend sends a signal to a run, and records it in the audit log.
func (r Rules) SignalSend(ctx context.Context, params *store.SignalSendParams) (*store.SignalSent, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	var sent *store.SignalSent
	err := r.transact(ctx, func(ctx context.Context, tx Tx) error {
		run, err := tx.RunLock(ctx, params.RunID)
		if isNotFound(err) {
			return fmt.Errorf("run %s: %w", params.RunID, klaxontype.ErrNotFound)
		}
		if err != nil {
			return err
		}
		sent, err = sendSignal(ctx, tx, run, params, r.now())
		return err
	})
	if err != nil {
		return nil, err
	}
	return sent, nil
}

// SignalSendByEntity sends a signal to the runs of an entity waiting on it,
// or to its one open run.
func (r Rules) SignalSendByEntity(ctx context.Context, params *store.SignalSendByEntityParams) ([]*store.SignalSent, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	var sent []*store.SignalSent
	err := r.transact(ctx, func(ctx context.Context, tx Tx) error {
		sent = nil
		entity := params.EntityKey + "=" + params.EntityValue
		ids, err := tx.RunsOpenOfEntity(ctx, params.EntityKey, params.EntityValue)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return fmt.Errorf("no open run has entity %s: %w", entity, klaxontype.ErrNotFound)
		}
		var targets []*klaxontype.Run
		var open []*klaxontype.Run
		for _, id := range ids {
			run, err := tx.RunLock(ctx, id)
			if err != nil {
				return err
			}
			open = append(open, run)
			wait, err := tx.WaitOpen(ctx, id, params.Name)
			if err != nil {
				return err
			}
			if wait != nil && wait.Kind == klaxontype.WaitSignal {
				targets = append(targets, run)
			}
		}
		if len(targets) == 0 {
			if len(open) > 1 {
				return fmt.Errorf("%d open runs have entity %s and none waits on signal %q: send it to one by run ID: %w",
					len(open), entity, params.Name, klaxontype.ErrSignalRefused)
			}
			targets = open
		}
		t := r.now()
		for _, run := range targets {
			one, err := sendSignal(ctx, tx, run, &store.SignalSendParams{
				RunID: run.ID, Name: params.Name, Payload: params.Payload, Actor: params.Actor, IdempotencyKey: params.IdempotencyKey,
			}, t)
			if err != nil {
				return err
			}
			sent = append(sent, one)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return sent, nil
}

// sendSignal is a signal's rule, over a run the transaction locked.
func sendSignal(ctx context.Context, tx Tx, run *klaxontype.Run, params *store.SignalSendParams, t time.Time) (*store.SignalSent, error) {
	if params.IdempotencyKey != "" {
		earlier, err := tx.SignalByKey(ctx, run.ID, params.IdempotencyKey)
		if err != nil {
			return nil, err
		}
		if earlier != nil {
			return &store.SignalSent{Signal: earlier, Consumed: earlier.ConsumedSeq > 0, Duplicate: true}, nil
		}
	}
	refuse := func(format string, args ...any) error {
		return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), klaxontype.ErrSignalRefused)
	}
	if run.Status.Terminal() || run.Status == klaxontype.RunStatusCompensating {
		return nil, refuse("run %s is %s: it will wait for no signal", run.ID, run.Status)
	}
	signal := &klaxontype.Signal{
		RunID: run.ID, Name: params.Name, Payload: params.Payload, Actor: params.Actor,
		IdempotencyKey: params.IdempotencyKey, SentAt: t,
	}
	wait, err := tx.WaitOpen(ctx, run.ID, params.Name)
	if err != nil {
		return nil, err
	}
	if wait != nil && wait.Kind == klaxontype.WaitSignal && run.Status != klaxontype.RunStatusWaiting {
		// The run is running: its worker meets the wait again (and takes
		// the kept signal) or is timing it out; either way the signal must
		// not end the wait under it.
		wait = nil
	}
	switch {
	case wait != nil && wait.Kind == klaxontype.WaitApproval:
		return nil, refuse("run %s waits on %q for a person's approval: approve or reject it instead", run.ID, params.Name)
	case wait != nil && wait.Kind == klaxontype.WaitChild:
		return nil, refuse("run %s awaits child run %s at %q: the child's end, not a signal, ends it", run.ID, wait.ChildRunID, params.Name)
	case wait != nil && wait.Kind == klaxontype.WaitSleep:
		return nil, refuse("run %s sleeps at %q: a timer, not a signal, ends it", run.ID, params.Name)
	case wait == nil:
		kept, err := tx.SignalKept(ctx, run.ID, params.Name)
		if err != nil {
			return nil, err
		}
		if kept != nil {
			return nil, refuse("run %s keeps a signal %q already (sent by %s at %s) for its next wait of that name; a run keeps one signal of a name at a time",
				run.ID, params.Name, kept.Actor, kept.SentAt.UTC().Format(time.RFC3339))
		}
		expected, err := tx.WorkflowExpectedSteps(ctx, run.Workflow)
		if err != nil {
			return nil, err
		}
		if len(expected) > 0 && !slices.Contains(expected, params.Name) {
			return nil, refuse("workflow %s has no wait named %q: its manifest lists %v", run.Workflow, params.Name, expected)
		}
	}
	if signal.ID, err = tx.SignalInsert(ctx, signal); err != nil {
		return nil, err
	}
	sent := &store.SignalSent{Signal: signal}
	message := fmt.Sprintf("signal %q from %s kept for the run's next wait of that name", params.Name, params.Actor)
	if wait != nil {
		if err := consume(ctx, tx, signal, wait.Seq, wait.StepKey, t); err != nil {
			return nil, err
		}
		signal.ConsumedSeq, signal.ConsumedAt, sent.Consumed = wait.Seq, t, true
		message = fmt.Sprintf("signal %q from %s satisfied the wait at step %d", params.Name, params.Actor, wait.Seq)
		if err := wake(ctx, tx, run, t); err != nil {
			return nil, err
		}
	}
	if err := tx.EventInsert(ctx, &klaxontype.Event{
		RunID: run.ID, Type: klaxontype.EventSignalReceived, Actor: params.Actor, At: t, Step: params.Name, StepSeq: signal.ConsumedSeq,
		Message: message,
	}, nil); err != nil {
		return nil, err
	}
	return sent, audit(ctx, tx, t, params.Actor, klaxontype.AuditSignalSend, run.ID, map[string]any{
		"name": params.Name, "workflow": run.Workflow, "idempotency_key": params.IdempotencyKey,
	}, message)
}

// wake makes a waiting run claimable at once, and tells the workers.
func wake(ctx context.Context, tx Tx, run *klaxontype.Run, t time.Time) error {
	if err := tx.RunWake(ctx, run.ID, t); err != nil {
		return err
	}
	return tx.RunsAvailable(ctx, run.Workflow)
}

// ApprovalDecide records a person's decision on a run's open approval
// request, and records it in the audit log.
func (r Rules) ApprovalDecide(ctx context.Context, params *store.ApprovalDecideParams) (*klaxontype.ApprovalDecision, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	var decision *klaxontype.ApprovalDecision
	err := r.transact(ctx, func(ctx context.Context, tx Tx) error {
		run, err := tx.RunLock(ctx, params.RunID)
		if isNotFound(err) {
			return fmt.Errorf("run %s: %w", params.RunID, klaxontype.ErrNotFound)
		}
		if err != nil {
			return err
		}
		wait, err := tx.WaitOpen(ctx, run.ID, params.Name)
		if err != nil {
			return err
		}
		if wait == nil || wait.Kind != klaxontype.WaitApproval || run.Status != klaxontype.RunStatusWaiting {
			return fmt.Errorf("run %s (%s) has no open approval request named %q: %w", run.ID, run.Status, params.Name, klaxontype.ErrNotFound)
		}
		if !wait.Request.MayDecide(params.Actor) {
			return fmt.Errorf("approval %q of run %s may be decided by %v only, not by %s: %w",
				params.Name, run.ID, wait.Request.Approvers, params.Actor, klaxontype.ErrNotApprover)
		}
		t := r.now()
		decision = &klaxontype.ApprovalDecision{
			Approved: params.Approved, By: params.Actor, At: t, Comment: params.Comment, Data: params.Data,
		}
		output, err := json.Marshal(decision)
		if err != nil {
			return err
		}
		if err := satisfy(ctx, tx, run.ID, wait.Seq, wait.Name, wait.StepKey, output, params.Actor, t); err != nil {
			return err
		}
		if err := wake(ctx, tx, run, t); err != nil {
			return err
		}
		message := fmt.Sprintf("approval %q %s by %s", params.Name, decision.Decision(), params.Actor)
		if params.Comment != "" {
			message += ": " + params.Comment
		}
		if err := tx.EventInsert(ctx, &klaxontype.Event{
			RunID: run.ID, Type: klaxontype.EventApprovalDecided, Actor: params.Actor, At: t, Step: wait.Name, StepSeq: wait.Seq,
			Message: message,
		}, nil); err != nil {
			return err
		}
		return audit(ctx, tx, t, params.Actor, klaxontype.AuditApprovalDecide, run.ID, map[string]any{
			"name": params.Name, "decision": decision.Decision(), "comment": params.Comment, "edited_data": params.Data != nil,
		}, message)
	})
	if err != nil {
		return nil, err
	}
	return decision, nil
}
