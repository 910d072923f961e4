package klaxontype

import "time"

// AlertKind is what an alert rule watches.
type AlertKind string

const (
	// AlertDLQRate fires when a workflow's dead-letter entries of a class,
	// created over a window, reach an absolute count.
	AlertDLQRate AlertKind = "dlq_rate"
	// AlertDLQSpike fires when a workflow's dead-letter entries of a class
	// over a window are a multiple of their trailing baseline rate.
	AlertDLQSpike AlertKind = "dlq_spike"
	// AlertSpendSpike fires when a workflow's spend over a window is a
	// multiple of its trailing baseline rate.
	AlertSpendSpike AlertKind = "spend_spike"
	// AlertCostPerRunSpike fires when a workflow's average cost per run over
	// a window is a multiple of its trailing baseline average.
	AlertCostPerRunSpike AlertKind = "cost_per_run_spike"
	// AlertBudgetExceeded fires when runs of a workflow went dead over a
	// window because they spent more than their token or cost budget.
	AlertBudgetExceeded AlertKind = "budget_exceeded"
	// AlertBreakerOpen fires while a workflow's breaker holds its runs.
	AlertBreakerOpen AlertKind = "breaker_open"
	// AlertStuckRuns fires while runs of a workflow have been unfinished far
	// longer than the workflow's runs usually take.
	AlertStuckRuns AlertKind = "stuck_runs"
	// AlertNoLiveWorker fires while runs of a workflow wait to be claimed and
	// no worker has claimed, renewed or finished a run of it for a while.
	AlertNoLiveWorker AlertKind = "no_live_worker"
	// AlertNotificationFailing fires when a notification target of klaxon
	// server's channels file keeps refusing or timing out, and resolves when
	// it takes a notification again. No rule file configures it: the
	// server's deliverer raises it.
	AlertNotificationFailing AlertKind = "notification_failing"
	// AlertApprovalOverdue fires while approval requests of a workflow have
	// waited for a decision most of their timeout (80% unless the rule says
	// otherwise), before the timeout dead-letters their runs.
	AlertApprovalOverdue AlertKind = "approval_overdue"
)

// AlertKinds lists every alert kind.
func AlertKinds() []AlertKind {
	return []AlertKind{AlertDLQRate, AlertDLQSpike, AlertSpendSpike, AlertCostPerRunSpike,
		AlertBudgetExceeded, AlertBreakerOpen, AlertStuckRuns, AlertNoLiveWorker, AlertNotificationFailing,
		AlertApprovalOverdue}
}

// Valid reports whether k is one of AlertKinds.
func (k AlertKind) Valid() bool {
	for _, known := range AlertKinds() {
		if k == known {
			return true
		}
	}
	return false
}

// AlertSeverity says how urgent an alert is.
type AlertSeverity string

const (
	// SeverityWarning is an alert someone should look at soon.
	SeverityWarning AlertSeverity = "warning"
	// SeverityCritical is an alert someone should look at now.
	SeverityCritical AlertSeverity = "critical"
)

// Valid reports whether s is warning or critical.
func (s AlertSeverity) Valid() bool { return s == SeverityWarning || s == SeverityCritical }

// AlertState is where an alert is in its episode.
type AlertState string

const (
	// AlertFiring is an alert whose condition holds: it entered the state when
	// its rule's condition first held, and leaves it when the condition clears.
	AlertFiring AlertState = "firing"
	// AlertResolved is an alert whose condition cleared; it is terminal, and
	// the condition holding again starts a new alert.
	AlertResolved AlertState = "resolved"
)

// Valid reports whether s is firing or resolved.
func (s AlertState) Valid() bool { return s == AlertFiring || s == AlertResolved }

// Alert is one firing episode of an alert rule for one workflow (and failure
// class): from the evaluation that found its condition holding to the one
// that found it cleared.
type Alert struct {
	// ID is a ULID.
	ID   string    `json:"id"`
	Rule string    `json:"rule"`
	Kind AlertKind `json:"kind"`
	// Workflow may be empty for a rule across workflows.
	Workflow string `json:"workflow"`
	// Class is the failure class where the rule has one, else empty.
	Class    FailureClass  `json:"class"`
	Severity AlertSeverity `json:"severity"`
	State    AlertState    `json:"state"`
	// Summary says what holds, in a sentence, as of the latest evaluation.
	Summary string `json:"summary"`
	// Value is what the rule measured at the latest evaluation; Threshold
	// what it was compared with.
	Value      float64    `json:"value"`
	Threshold  float64    `json:"threshold"`
	StartedAt  time.Time  `json:"started_at"`
	ResolvedAt *time.Time `json:"resolved_at" nullable:"true"`
	// LastNotifiedAt is when the latest notification (firing, repeat or
	// resolved) was recorded.
	LastNotifiedAt *time.Time `json:"last_notified_at" nullable:"true"`
	// Notifications counts the notifications recorded: the firing one, each
	// repeat, and the resolved one.
	Notifications int `json:"notifications"`
	// RunIDs are up to 20 runs behind the alert; empty when not applicable.
	RunIDs []string `json:"run_ids"`
	// EvaluatedAt is when an evaluation last recorded the alert (fired,
	// updated or resolved it): a firing alert that no server has evaluated
	// for a while belongs to a rule no server runs any more.
	EvaluatedAt time.Time `json:"evaluated_at"`
}

// AlertEvent is why an alert notification was sent.
type AlertEvent string

const (
	// AlertEventFiring announces a new alert.
	AlertEventFiring AlertEvent = "firing"
	// AlertEventRepeat reminds that an alert still fires.
	AlertEventRepeat AlertEvent = "repeat"
	// AlertEventResolved announces that an alert cleared.
	AlertEventResolved AlertEvent = "resolved"
)

// AlertNotification is one notification of an alert, as the outbox keeps it:
// the event and the alert as it was when the event was recorded.
type AlertNotification struct {
	Event AlertEvent `json:"event"`
	// Sequence numbers the alert's notifications from 1: the firing one is 1.
	Sequence int    `json:"sequence"`
	Alert    *Alert `json:"alert"`
}
