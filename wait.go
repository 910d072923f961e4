package klaxon

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/internal/engine"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// DefaultWaitTimeout is how long WaitForSignal and AwaitApproval wait when
// no timeout is given: every wait has a deadline, so none hangs unseen.
const DefaultWaitTimeout = engine.DefaultWaitTimeout

// ErrWaitTimedOut is the error, matched with errors.Is, of a wait for a
// signal or an approval that passed its deadline unanswered. A workflow that
// catches it takes another branch; one that returns it dead-letters, class
// timeout, to the review channel, without retries.
var ErrWaitTimedOut = klaxontype.ErrWaitTimedOut

// Sleep waits durably for d: the run gives up its worker and is waiting
// until d has passed since it first reached the sleep, then goes on, on
// whichever worker claims it. The sleep is a step named name in the step log
// (and may be in the manifest); a replay never sleeps it again, and a
// restart of every process in between changes nothing.
//
// When the run must wait, Sleep returns an error that ends the attempt: the
// workflow must return it (as it returns any step's error), and no step
// begins after it.
func Sleep(ctx context.Context, name string, d time.Duration) error {
	_, err := engine.Wait(ctx, engine.WaitCall{Name: name, Kind: klaxontype.WaitSleep, Timeout: d, Code: &waitCode[json.RawMessage]{}})
	return err
}

// SleepUntil is Sleep until a time.
func SleepUntil(ctx context.Context, name string, t time.Time) error {
	_, err := engine.Wait(ctx, engine.WaitCall{Name: name, Kind: klaxontype.WaitSleep, Until: t, Code: &waitCode[json.RawMessage]{}})
	return err
}

// WaitOption configures a wait.
type WaitOption func(*waitOptions)

type waitOptions struct {
	timeout time.Duration
}

// SignalTimeout bounds how long WaitForSignal waits, from when the run first
// reaches the wait; default DefaultWaitTimeout.
func SignalTimeout(d time.Duration) WaitOption {
	return func(o *waitOptions) { o.timeout = d }
}

// WaitForSignal waits durably for a signal named name and returns its
// payload as a T, checked against T's JSON Schema. The run holds no worker
// while it waits. A signal sent before the wait begins is kept and taken by
// it; each signal is taken by one wait. Past the timeout it returns an error
// matching ErrWaitTimedOut. Like Sleep, when the run must wait it returns an
// error that the workflow must return.
//
// A signal is sent with Client.Signal, POST /api/v1/runs/{id}/signals/{name},
// POST /api/v1/signals/{name}?entity=KEY=VALUE, or klaxon runs signal.
func WaitForSignal[T any](ctx context.Context, name string, opts ...WaitOption) (T, error) {
	var options waitOptions
	for _, opt := range opts {
		opt(&options)
	}
	code := &waitCode[T]{schema: outputSchema[T], check: true}
	_, err := engine.Wait(ctx, engine.WaitCall{Name: name, Kind: klaxontype.WaitSignal, Timeout: options.timeout, Code: code})
	if err != nil {
		var zero T
		return zero, err
	}
	return code.out, nil
}

// ApprovalRequest is what a run asks a person to decide.
type ApprovalRequest struct {
	// Title is the one-line question, shown in the approvals inbox and the
	// notification.
	Title string
	// Body says more, in plain text.
	Body string
	// Data is what the decision is about (a refund, a draft), encoded as
	// JSON; the approver may send it back edited.
	Data any
	// Timeout is how long the request waits for a decision; default
	// DefaultWaitTimeout. An alert (approval_overdue) fires before it ends.
	Timeout time.Duration
	// Approvers are the token names allowed to decide; empty allows any
	// token of the operate or admin scope.
	Approvers []string
}

// ApprovalDecision is a person's answer to an approval request.
type ApprovalDecision = klaxontype.ApprovalDecision

// AwaitApproval asks a person to approve or reject a request, notifies the
// channel "approvals" (through the outbox, so that the notification is
// pushed), and waits durably for the decision, made in the dashboard's
// approvals inbox, with klaxon approvals approve|reject, or through the API.
// A rejection is a decision, not an error: check Approved. A request not
// decided in time dead-letters the run, class timeout, to the review channel
// ("approval X not answered in 48h"), unless the workflow catches
// ErrWaitTimedOut. Like Sleep, when the run must wait it returns an error
// that the workflow must return.
func AwaitApproval(ctx context.Context, name string, request ApprovalRequest) (ApprovalDecision, error) {
	stored := &klaxontype.ApprovalRequest{Title: request.Title, Body: request.Body, Approvers: request.Approvers}
	if request.Data != nil {
		data, err := json.Marshal(request.Data)
		if err != nil {
			return ApprovalDecision{}, Permanent(fmt.Errorf("approval %q: encode its data: %w", name, err))
		}
		stored.Data = data
	}
	code := &waitCode[ApprovalDecision]{schema: outputSchema[ApprovalDecision]}
	_, err := engine.Wait(ctx, engine.WaitCall{
		Name: name, Kind: klaxontype.WaitApproval, Timeout: request.Timeout, Request: stored, Code: code,
	})
	if err != nil {
		return ApprovalDecision{}, err
	}
	return code.out, nil
}

// waitCode is the step code of a wait: it executes nothing (the result
// comes from a timer, a sender or a person), and decodes the result.
type waitCode[T any] struct {
	schema func() []byte
	// check makes the result fit the schema, for a payload a sender chose.
	check bool
	out   T
}

func (c *waitCode[T]) Execute(context.Context) ([]byte, error) {
	return nil, Permanent(fmt.Errorf("a wait has no function to execute"))
}

func (c *waitCode[T]) Decode(output []byte) error {
	if c.check && c.schema != nil {
		if err := checkAgainstSchema(c.schema(), output); err != nil {
			return fmt.Errorf("the signal's payload does not fit %T: %w", c.out, err)
		}
	}
	return json.Unmarshal(output, &c.out)
}

func (c *waitCode[T]) Validate() error                      { return nil }
func (c *waitCode[T]) Compensate(ctx context.Context) error { return nil }

func (c *waitCode[T]) OutputSchema() []byte {
	if c.schema == nil {
		return nil
	}
	return c.schema()
}
