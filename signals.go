package klaxon

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// SignalOption configures a signal sent.
type SignalOption func(*signalOptions)

type signalOptions struct {
	key string
}

// SignalKey gives a signal an idempotency key: sending it again with the
// same key (a webhook retried) answers with the first signal and records
// nothing.
func SignalKey(key string) SignalOption {
	return func(o *signalOptions) { o.key = key }
}

// SignalResult is what became of a signal sent to a run.
type SignalResult struct {
	Signal *klaxontype.Signal `json:"signal"`
	// Consumed is true when the run's wait of that name took the signal at
	// once; false when it is kept for the run's next wait of that name.
	Consumed bool `json:"consumed"`
	// Duplicate is true when the signal's key named one sent before.
	Duplicate bool `json:"duplicate"`
}

// Signal sends a signal named name, with a JSON payload, to a run. When the
// run waits on it (WaitForSignal), the payload is checked against the
// wait's type, satisfies the wait, and the run is claimable again at once;
// otherwise the run keeps the signal for its next wait of that name (one
// signal of a name at a time). Each signal is taken by one wait. It is
// refused, and nothing recorded, with an error matching
// klaxontype.ErrSignalRefused when the run ended, waits on that name for a
// timer or an approval, keeps a signal of that name already, or belongs to a
// workflow whose manifest has no step of that name; with klaxontype.ErrInvalid
// when the payload does not fit the waiting type; klaxontype.ErrNotFound for
// an unknown run. The signal is in the run's event log and the audit log,
// with actor ("client" when empty).
func (c *Client) Signal(ctx context.Context, runID, name string, payload []byte, actor string, opts ...SignalOption) (*SignalResult, error) {
	options := signalOptionsOf(opts)
	if err := c.checkSignalPayload(ctx, runID, name, payload); err != nil {
		return nil, err
	}
	sent, err := c.store.SignalSend(ctx, &store.SignalSendParams{
		RunID: runID, Name: name, Payload: payload, Actor: actorOr(actor), IdempotencyKey: options.key,
	})
	if err != nil {
		return nil, err
	}
	if sent.Consumed && !sent.Duplicate {
		c.wakeWorker()
	}
	return signalResult(sent), nil
}

// SignalEntity sends a signal to the runs labelled with an entity
// (order_id=42): every one of them waiting on a signal of that name, or else
// the one open run of the entity, which keeps it. A webhook from outside
// rarely knows a run's ID. No open run of the entity gives
// klaxontype.ErrNotFound; several open runs, none waiting, give
// klaxontype.ErrSignalRefused; nothing is recorded then.
func (c *Client) SignalEntity(ctx context.Context, key, value, name string, payload []byte, actor string, opts ...SignalOption) ([]*SignalResult, error) {
	options := signalOptionsOf(opts)
	sent, err := c.store.SignalSendByEntity(ctx, &store.SignalSendByEntityParams{
		EntityKey: key, EntityValue: value, Name: name, Payload: payload, Actor: actorOr(actor), IdempotencyKey: options.key,
	})
	if err != nil {
		return nil, err
	}
	results := make([]*SignalResult, len(sent))
	for i, one := range sent {
		results[i] = signalResult(one)
		if one.Consumed && !one.Duplicate {
			c.wakeWorker()
		}
	}
	return results, nil
}

func signalOptionsOf(opts []SignalOption) signalOptions {
	var options signalOptions
	for _, opt := range opts {
		opt(&options)
	}
	return options
}

func signalResult(sent *store.SignalSent) *SignalResult {
	return &SignalResult{Signal: sent.Signal, Consumed: sent.Consumed, Duplicate: sent.Duplicate}
}

// checkSignalPayload checks a payload against the JSON Schema of the run's
// open wait of that name, when it has one: a payload that cannot be the
// waiting type is refused before anything is recorded. A signal kept for a
// wait not yet begun is checked when the wait takes it.
func (c *Client) checkSignalPayload(ctx context.Context, runID, name string, payload []byte) error {
	if !json.Valid(payload) {
		return fmt.Errorf("the payload of signal %q is not valid JSON: %w", name, klaxontype.ErrInvalid)
	}
	waits, err := c.store.WaitList(ctx, &store.WaitListParams{RunID: runID, Kind: klaxontype.WaitSignal, Open: true})
	if err != nil {
		return err
	}
	for _, wait := range waits {
		if wait.Name != name || len(wait.Schema) == 0 {
			continue
		}
		if problems := schemaProblems(wait.Schema, payload); len(problems) > 0 {
			return &signalMismatch{name: name, problems: problems}
		}
	}
	return nil
}

// signalMismatch is a payload that does not fit its wait's type.
type signalMismatch struct {
	name     string
	problems []string
}

func (e *signalMismatch) Error() string {
	return fmt.Sprintf("the payload of signal %q does not fit the type its wait expects: %s", e.name, strings.Join(e.problems, "; "))
}

func (e *signalMismatch) Is(target error) bool { return target == klaxontype.ErrInvalid }

// Decision is a person's answer to a run's approval request.
type Decision struct {
	Approved bool
	// Comment says why; the dashboard asks for one.
	Comment string
	// Data is the request's data as edited by the approver, as JSON; nil
	// keeps it as asked.
	Data json.RawMessage
}

// DecideApproval approves or rejects a run's open approval request named
// name, as actor. The decision is the result of the run's AwaitApproval,
// the run is claimable again at once, and the run's event log and the audit
// log record who decided, when, and why. A run with no open request of
// that name gives klaxontype.ErrNotFound; an actor the request does not
// name among its approvers gives klaxontype.ErrNotApprover.
func (c *Client) DecideApproval(ctx context.Context, runID, name string, decision Decision, actor string) (*ApprovalDecision, error) {
	decided, err := c.store.ApprovalDecide(ctx, &store.ApprovalDecideParams{
		RunID: runID, Name: name, Approved: decision.Approved, Comment: decision.Comment, Data: decision.Data, Actor: actorOr(actor),
	})
	if err != nil {
		return nil, err
	}
	c.wakeWorker()
	return decided, nil
}

// Approvals lists the approval requests waiting for a decision, oldest
// first, with their runs' workflows and entities; at most limit (zero means
// 100).
func (c *Client) Approvals(ctx context.Context, limit int) ([]*klaxontype.Wait, error) {
	return c.store.WaitList(ctx, &store.WaitListParams{Kind: klaxontype.WaitApproval, Open: true, Limit: limit})
}

// Waits lists a run's durable waits, oldest first: what it waits for (or
// waited for), until when, and how each ended.
func (c *Client) Waits(ctx context.Context, runID string) ([]*klaxontype.Wait, error) {
	return c.store.WaitList(ctx, &store.WaitListParams{RunID: runID, Limit: 1000})
}

// Signals lists the signals sent to a run, oldest first, kept or consumed.
func (c *Client) Signals(ctx context.Context, runID string) ([]*klaxontype.Signal, error) {
	return c.store.SignalList(ctx, runID)
}
