package klaxontype

// NotificationKind says what a notification in the outbox tells, and so which
// deliverer takes it: a client's channel handlers take dead-letter and breaker
// notifications, klaxon server's alert notifier takes alert ones. The stores
// keep it in the outbox's kind column, whose check constraint lists the same
// values.
type NotificationKind string

const (
	// NotificationDeadLetter tells of a run that ended in the dead-letter
	// queue; it is written in the transaction that creates the entry.
	NotificationDeadLetter NotificationKind = "dead_letter"
	// NotificationBreaker tells of a workflow's breaker that opened (a retry
	// storm or a spend rate); it is written in the transaction that opens it.
	NotificationBreaker NotificationKind = "breaker"
	// NotificationAlert tells of an alert that fired, repeats or resolved; it
	// is written in the transaction that records the alert's change.
	NotificationAlert NotificationKind = "alert"
	// NotificationApproval asks a person for a run's decision; it is
	// written in the transaction that makes the run wait for it, to the
	// channel "approvals".
	NotificationApproval NotificationKind = "approval"
)

// NotificationKinds lists every notification kind.
func NotificationKinds() []NotificationKind {
	return []NotificationKind{NotificationDeadLetter, NotificationBreaker, NotificationAlert, NotificationApproval}
}

// Valid reports whether k is one of NotificationKinds.
func (k NotificationKind) Valid() bool {
	for _, known := range NotificationKinds() {
		if k == known {
			return true
		}
	}
	return false
}
