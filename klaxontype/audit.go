package klaxontype

import (
	"encoding/json"
	"time"
)

// AuditAction names an operator action the audit log records. The stores keep
// it in the audit log's action column.
type AuditAction string

const (
	// AuditDLQReplay is a dead-letter entry replayed (resume, from-step or
	// restart); its target is the entry.
	AuditDLQReplay AuditAction = "dlq.replay"
	// AuditDLQResolve is a failed step's output supplied by a person; its
	// target is the entry.
	AuditDLQResolve AuditAction = "dlq.resolve"
	// AuditDLQDiscard is an entry closed without action; its target is the
	// entry.
	AuditDLQDiscard AuditAction = "dlq.discard"
	// AuditDLQPurge is entries deleted; its target is the filter, its
	// parameters list the entries.
	AuditDLQPurge AuditAction = "dlq.purge"
	// AuditRunCancel is a run cancelled; its target is the run.
	AuditRunCancel AuditAction = "run.cancel"
	// AuditBreakerReset is an open breaker closed by a person; its target is
	// the workflow.
	AuditBreakerReset AuditAction = "breaker.reset"
	// AuditOutboxGiveUp is a channel's pending notifications given up; its
	// target is the channel.
	AuditOutboxGiveUp AuditAction = "outbox.give_up"
	// AuditRetentionDelete is a batch of old ended runs deleted by retention;
	// its target is the workflow, its parameters the rule and the runs.
	AuditRetentionDelete AuditAction = "retention.delete"
	// AuditRunEnqueue is a run enqueued through the HTTP API or the klaxon
	// command (not by a program's own Enqueue); its target is the run, its
	// parameters the workflow, idempotency key and entities (never the
	// input), its result whether the key found an existing run.
	AuditRunEnqueue AuditAction = "run.enqueue"
	// AuditAdminRequest is a request to an endpoint of scope admin, whatever
	// came of it; its actor is the token's name, its target the method and
	// path, its result the HTTP status. What the request did, if anything,
	// has a record of its own (dlq.purge, breaker.reset, …).
	AuditAdminRequest AuditAction = "admin.request"
	// AuditApprovalDecide is a run's approval request approved or rejected
	// by a person; its target is the run, its parameters the request's name
	// and the decision.
	AuditApprovalDecide AuditAction = "approval.decide"
	// AuditSignalSend is a signal sent to a run; its target is the run.
	AuditSignalSend AuditAction = "signal.send"
	// AuditScheduleCreate is a schedule created through the API or the
	// CLI; its target is the schedule, its parameters its definition.
	AuditScheduleCreate AuditAction = "schedule.create"
	// AuditSchedulePause and AuditScheduleResume stop and restart a
	// schedule's ticks; their target is the schedule.
	AuditSchedulePause  AuditAction = "schedule.pause"
	AuditScheduleResume AuditAction = "schedule.resume"
	// AuditScheduleDelete is a schedule deleted with its decisions; its
	// target is the schedule.
	AuditScheduleDelete AuditAction = "schedule.delete"
	// AuditKeysRotate is a finished rotation of the encryption keys: every
	// stored value re-sealed under the newest key; its target is that key,
	// its parameters the keys retired and the counts.
	AuditKeysRotate AuditAction = "keys.rotate"
	// AuditRedactionDrop is a workflow registered without redaction paths
	// or patterns its previous registration declared, so that they are no
	// longer masked (unless the server's redaction policy masks them); its
	// actor is the registering worker, its target the workflow, its
	// parameters the paths and patterns dropped.
	AuditRedactionDrop AuditAction = "redaction.drop"
)

// AuditActions lists every audited action.
func AuditActions() []AuditAction {
	return []AuditAction{AuditDLQReplay, AuditDLQResolve, AuditDLQDiscard, AuditDLQPurge,
		AuditRunCancel, AuditBreakerReset, AuditOutboxGiveUp, AuditRetentionDelete,
		AuditApprovalDecide, AuditSignalSend, AuditScheduleCreate, AuditSchedulePause, AuditScheduleResume,
		AuditScheduleDelete, AuditRunEnqueue, AuditAdminRequest, AuditKeysRotate, AuditRedactionDrop}
}

// Valid reports whether a is one of AuditActions.
func (a AuditAction) Valid() bool {
	for _, known := range AuditActions() {
		if a == known {
			return true
		}
	}
	return false
}

// AuditRecord is one operator action, written in the transaction of the act
// itself: an action that is refused changes nothing, its record included.
// Nothing in Klaxon deletes audit records.
type AuditRecord struct {
	ID     int64       `json:"id"`
	At     time.Time   `json:"at"`
	Actor  string      `json:"actor"`
	Action AuditAction `json:"action"`
	// Target is what was acted on: an entry, a run, a workflow, a channel.
	Target string `json:"target"`
	// Params are the action's parameters as JSON (a replay's mode and step,
	// a discard's reason), never a payload.
	Params json.RawMessage `json:"params"`
	// Result says what the action did: the run a replay resumed or created,
	// how many entries a purge deleted.
	Result string `json:"result"`
}
