package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// Waits are the durable waits of runs as people meet them: signals sent to
// a run, by ID or by entity, decisions on approval requests, and the lists
// of open waits (the approvals inbox, a run's page). The writes of the
// workers that begin and end waits are in Engine.
type Waits interface {
	// SignalSend sends a signal to a run. When the run waits on a signal of
	// that name, the signal satisfies the wait at once: its payload becomes
	// the wait's output in the step log, and the run is claimable again.
	// Otherwise it is kept, and consumed by the run's next wait of that
	// name. A send with the idempotency key of a signal sent before answers
	// with that signal and changes nothing. It is refused with
	// klaxontype.ErrSignalRefused, and nothing recorded, when the run ended,
	// waits on that name for a timer or an approval, keeps a signal of that
	// name already, or belongs to a workflow whose manifest has no step of
	// that name; an unknown run gives klaxontype.ErrNotFound.
	SignalSend(ctx context.Context, params *SignalSendParams) (*SignalSent, error)
	// SignalSendByEntity sends a signal to the runs labelled with an entity:
	// every run of that entity waiting on a signal of that name, or else the
	// one open run of that entity, which keeps it. No open run of the entity
	// gives klaxontype.ErrNotFound; several open runs and none waiting give
	// klaxontype.ErrSignalRefused; nothing is recorded then.
	SignalSendByEntity(ctx context.Context, params *SignalSendByEntityParams) ([]*SignalSent, error)
	// ApprovalDecide records a person's decision on a run's open approval
	// request of a name: the decision becomes the wait's output in the step
	// log, the run is claimable again, and the audit log records it. No open
	// request of that name gives klaxontype.ErrNotFound; an actor the request
	// does not name among its approvers gives klaxontype.ErrNotApprover.
	ApprovalDecide(ctx context.Context, params *ApprovalDecideParams) (*klaxontype.ApprovalDecision, error)
	// WaitList lists waits, oldest first.
	WaitList(ctx context.Context, params *WaitListParams) ([]*klaxontype.Wait, error)
	// SignalList lists the signals sent to a run, oldest first.
	SignalList(ctx context.Context, runID string) ([]*klaxontype.Signal, error)
}

// SignalSendParams sends a signal to a run.
type SignalSendParams struct {
	RunID string
	Name  string
	// Payload is the signal as JSON.
	Payload []byte
	// Actor is who sends it.
	Actor string
	// IdempotencyKey, when set, makes a repeated send answer with the first.
	IdempotencyKey string
}

// SignalSendByEntityParams sends a signal to the runs of an entity.
type SignalSendByEntityParams struct {
	EntityKey, EntityValue string
	Name                   string
	Payload                []byte
	Actor                  string
	IdempotencyKey         string
}

// SignalSent is what became of a signal.
type SignalSent struct {
	Signal *klaxontype.Signal
	// Consumed is true when a wait of the run took it at once; false when
	// it is kept for the run's next wait of that name.
	Consumed bool
	// Duplicate is true when the idempotency key named a signal sent
	// before: nothing new was recorded.
	Duplicate bool
}

// ApprovalDecideParams records a decision on an approval request.
type ApprovalDecideParams struct {
	RunID    string
	Name     string
	Approved bool
	Comment  string
	// Data is the request's data as the approver edited it; nil keeps it.
	Data  json.RawMessage
	Actor string
}

// WaitListParams filters WaitList. Zero fields do not filter.
type WaitListParams struct {
	RunID string
	Kind  klaxontype.WaitKind
	// Open keeps the waits of waiting runs that are still open.
	Open bool
	// Limit caps the list; zero means 100.
	Limit int
}

// RunWaitParams gives a held run up to its waits.
type RunWaitParams struct {
	Lease
	Holder   string
	Workflow string
	// Waits are the waits the attempt reached, new or met again; a wait
	// already recorded keeps its deadline.
	Waits []WaitParams
	// Spend is what the attempt's failed steps spent, added to the run.
	Spend klaxontype.Spend
	// Until, when set, is when a step's rate-limit capacity is due: the run
	// is claimable again by then at the latest, with or without Waits.
	Until time.Time
}

// WaitParams is one wait an attempt reached.
type WaitParams struct {
	Seq            int
	Name           string
	Kind           klaxontype.WaitKind
	IdempotencyKey string
	// StartedAt is when the attempt reached the wait, and Deadline when it
	// is due or times out, measured from then.
	StartedAt time.Time
	Deadline  time.Time
	Schema    []byte
	Request   *klaxontype.ApprovalRequest
	// ChildRunID is the run a wait for a child awaits.
	ChildRunID string
}

// RunWaiting is how a run went waiting.
type RunWaiting struct {
	// Until is when the run is claimable again: the earliest deadline, or
	// now when a kept signal satisfied one of its waits.
	Until time.Time
}

// WaitEndParams ends a held run's wait: a sleep that is due, or a wait for
// a signal or a decision that timed out.
type WaitEndParams struct {
	Lease
	Holder string
	Seq    int
	// State is satisfied (a due sleep, whose step is recorded with Output)
	// or timed_out.
	State          klaxontype.WaitState
	Name           string
	IdempotencyKey string
	Output         []byte
}

// Validate reports a signal that cannot be sent, before any store is asked.
func (p *SignalSendParams) Validate() error {
	return checkSignal(p.RunID, "the run ID", p.Name, p.Payload, p.Actor, p.IdempotencyKey)
}

// Validate reports a signal that cannot be sent, before any store is asked.
func (p *SignalSendByEntityParams) Validate() error {
	if p.EntityKey == "" || p.EntityValue == "" {
		return fmt.Errorf("a signal by entity needs the entity as KEY=VALUE: %w", klaxontype.ErrInvalid)
	}
	return checkSignal(p.EntityKey+"="+p.EntityValue, "the entity", p.Name, p.Payload, p.Actor, p.IdempotencyKey)
}

func checkSignal(target, targetWhat, name string, payload []byte, actor, key string) error {
	if target == "" || name == "" {
		return fmt.Errorf("a signal needs a run and a name: %w", klaxontype.ErrInvalid)
	}
	if err := checkTexts(targetWhat, target, "the signal name", name, "the actor", actor, "the idempotency key", key); err != nil {
		return err
	}
	if !json.Valid(payload) {
		return fmt.Errorf("the payload of signal %q is not valid JSON: %w", name, klaxontype.ErrInvalid)
	}
	return nil
}

// Validate reports a decision that cannot be recorded.
func (p *ApprovalDecideParams) Validate() error {
	if p.RunID == "" || p.Name == "" {
		return fmt.Errorf("a decision needs a run and the approval's name: %w", klaxontype.ErrInvalid)
	}
	if p.Actor == "" {
		return fmt.Errorf("a decision needs the name of who decides: %w", klaxontype.ErrInvalid)
	}
	if err := checkTexts("the run ID", p.RunID, "the approval name", p.Name, "the comment", p.Comment, "the actor", p.Actor); err != nil {
		return err
	}
	if p.Data != nil && !json.Valid(p.Data) {
		return fmt.Errorf("the edited data of approval %q is not valid JSON: %w", p.Name, klaxontype.ErrInvalid)
	}
	return nil
}

// Validate reports waits that cannot be recorded.
func (p *RunWaitParams) Validate() error {
	if len(p.Waits) == 0 && p.Until.IsZero() {
		return errors.New("a run goes waiting on at least one wait, or until a time")
	}
	for _, w := range p.Waits {
		if !w.Kind.Valid() || w.Name == "" || w.Deadline.IsZero() {
			return fmt.Errorf("wait %d of run %s needs a name, a kind and a deadline", w.Seq, p.RunID)
		}
		if (w.Kind == klaxontype.WaitChild) != (w.ChildRunID != "") {
			return fmt.Errorf("wait %d of run %s: a wait for a child, and only it, names the child run", w.Seq, p.RunID)
		}
	}
	return nil
}
