package klaxontype

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// WaitKind says what a durable wait waits for.
type WaitKind string

const (
	// WaitSleep waits until a time (klaxon.Sleep, klaxon.SleepUntil).
	WaitSleep WaitKind = "sleep"
	// WaitSignal waits for a signal of its name (klaxon.WaitForSignal), sent
	// to the run by ID or by entity.
	WaitSignal WaitKind = "signal"
	// WaitApproval waits for a person to approve or reject a request
	// (klaxon.AwaitApproval).
	WaitApproval WaitKind = "approval"
	// WaitChild waits for a child run to end (klaxon.Child,
	// klaxon.ChildRun.Await): its output satisfies the wait; a child that
	// ends dead or cancelled fails the wait's step with its class.
	WaitChild WaitKind = "child"
)

// WaitKinds lists every wait kind.
func WaitKinds() []WaitKind { return []WaitKind{WaitSleep, WaitSignal, WaitApproval, WaitChild} }

// Valid reports whether k is one of WaitKinds.
func (k WaitKind) Valid() bool {
	for _, known := range WaitKinds() {
		if k == known {
			return true
		}
	}
	return false
}

// WaitState is where a wait is: open, or how it ended.
type WaitState string

const (
	// WaitOpen is a wait not yet due nor answered.
	WaitOpen WaitState = "waiting"
	// WaitSatisfied is a wait whose time came, or whose signal or decision
	// arrived: the step log holds its result.
	WaitSatisfied WaitState = "satisfied"
	// WaitTimedOut is a wait for a signal or a decision that passed its
	// deadline unanswered: every replay of the run meets ErrWaitTimedOut
	// there.
	WaitTimedOut WaitState = "timed_out"
)

// Wait is one durable wait a run began, at a step's sequence number. Its
// deadline is absolute: set when the wait began, never reset by a replay.
type Wait struct {
	RunID    string `json:"run_id"`
	Workflow string `json:"workflow,omitempty"`
	Seq      int    `json:"seq"`
	Name     string `json:"name"`
	// StepKey is the idempotency key the wait's step is recorded under.
	StepKey string    `json:"step_key"`
	Kind    WaitKind  `json:"kind"`
	State   WaitState `json:"state"`
	// StartedAt is when the run first reached the wait.
	StartedAt time.Time `json:"started_at"`
	// Deadline is when a sleep is due, or when a wait for a signal or a
	// decision times out.
	Deadline time.Time `json:"deadline"`
	// Schema is the JSON Schema a signal's payload must fit, when the
	// workflow's code gave one.
	Schema json.RawMessage `json:"schema,omitempty"`
	// Request is what an approval asks a person.
	Request *ApprovalRequest `json:"request,omitempty"`
	// ChildRunID is the run a wait for a child awaits.
	ChildRunID string `json:"child_run_id,omitempty"`
	// EndedAt and EndedBy say when the wait ended and who answered it (the
	// signal's sender, the approver, "timer" for a sleep, "deadline" for a
	// timeout).
	EndedAt time.Time `json:"ended_at,omitzero"`
	EndedBy string    `json:"ended_by,omitempty"`
	// Entities are the run's labels, for an inbox that shows the context.
	Entities map[string]string `json:"entities,omitempty"`
}

// Timeout is how long the wait was given.
func (w *Wait) Timeout() time.Duration { return w.Deadline.Sub(w.StartedAt) }

// ApprovalRequest is what a run asks a person to decide.
type ApprovalRequest struct {
	// Title is the one-line question.
	Title string `json:"title"`
	// Body says more, in plain text.
	Body string `json:"body,omitempty"`
	// Data is what the decision is about (a refund, a draft), which the
	// approver may edit.
	Data json.RawMessage `json:"data,omitempty"`
	// Approvers are the token names allowed to decide; empty allows every
	// token of the operate or admin scope.
	Approvers []string `json:"approvers,omitempty"`
}

// MayDecide reports whether actor may decide the request.
func (r *ApprovalRequest) MayDecide(actor string) bool {
	if r == nil || len(r.Approvers) == 0 {
		return true
	}
	for _, approver := range r.Approvers {
		if approver == actor {
			return true
		}
	}
	return false
}

// ApprovalDecision is a person's answer to an approval request: the result
// of klaxon.AwaitApproval, and the wait's output in the step log.
type ApprovalDecision struct {
	// Approved is true when the request was approved, false when rejected.
	Approved bool `json:"approved"`
	// By is the token name (or user) who decided.
	By string `json:"by"`
	// At is when.
	At time.Time `json:"at"`
	// Comment is the approver's reason.
	Comment string `json:"comment,omitempty"`
	// Data is the request's data as the approver edited it; empty when not
	// edited.
	Data json.RawMessage `json:"data,omitempty"`
}

// Decision names the decision: "approved" or "rejected".
func (d ApprovalDecision) Decision() string {
	if d.Approved {
		return "approved"
	}
	return "rejected"
}

// Signal is a named message sent to a run: consumed by the run's wait of
// that name, or kept until its next one begins.
type Signal struct {
	ID      int64           `json:"id"`
	RunID   string          `json:"run_id"`
	Name    string          `json:"name"`
	Payload json.RawMessage `json:"payload"`
	// Actor is who sent it.
	Actor string `json:"actor"`
	// IdempotencyKey, given by the sender, makes a repeated send answer
	// with this signal.
	IdempotencyKey string    `json:"idempotency_key,omitempty"`
	SentAt         time.Time `json:"sent_at"`
	// ConsumedSeq is the sequence number of the wait that took it; zero
	// while it is kept.
	ConsumedSeq int       `json:"consumed_seq,omitempty"`
	ConsumedAt  time.Time `json:"consumed_at,omitzero"`
}

// ErrWaitTimedOut is the condition of a wait for a signal or an approval
// that passed its deadline unanswered. A workflow may catch it, with
// errors.Is, and take another branch; otherwise the run dead-letters, class
// timeout, to the review channel, without retries: waiting again would not
// make anyone answer.
var ErrWaitTimedOut = errors.New("wait timed out")

// WaitTimeoutError is the error of a wait that timed out: which, and after
// how long.
type WaitTimeoutError struct {
	Kind  WaitKind
	Name  string
	After time.Duration
}

func (e *WaitTimeoutError) Error() string {
	if e.Kind == WaitApproval {
		return fmt.Sprintf("approval %q not answered in %s", e.Name, ShortDuration(e.After))
	}
	if e.Kind == WaitChild {
		return fmt.Sprintf("child run %q did not end in %s", e.Name, ShortDuration(e.After))
	}
	return fmt.Sprintf("signal %q not received in %s", e.Name, ShortDuration(e.After))
}

// Is makes errors.Is(err, ErrWaitTimedOut) hold.
func (e *WaitTimeoutError) Is(target error) bool { return target == ErrWaitTimedOut }

// FailureClass is timeout.
func (e *WaitTimeoutError) FailureClass() FailureClass { return ClassTimeout }

// ApprovalNotification is what the approvals channel is told when a run asks
// for a decision.
type ApprovalNotification struct {
	RunID       string           `json:"run_id"`
	Workflow    string           `json:"workflow,omitempty"`
	Name        string           `json:"name"`
	Seq         int              `json:"seq"`
	Request     *ApprovalRequest `json:"request,omitempty"`
	RequestedAt time.Time        `json:"requested_at"`
	Deadline    time.Time        `json:"deadline"`
}

// ErrSignalRefused is a signal or a decision the run cannot take: the run
// ended, it waits on that name for something else, a signal of that name is
// kept for it already, or its workflow has no wait of that name. Nothing is
// recorded.
var ErrSignalRefused = errors.New("signal refused")

// ErrNotApprover is a decision by someone the request does not name among
// its approvers.
var ErrNotApprover = errors.New("not among the request's approvers")

// ShortDuration writes a duration without its zero units: 48h, 1h30m, 90s.
func ShortDuration(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	s := d.Round(time.Second).String()
	if d >= time.Minute {
		s = strings.TrimSuffix(s, "0s")
	}
	if d >= time.Hour {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
