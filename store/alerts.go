package store

import (
	"context"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// MaxAlertRunIDs is how many run IDs an alert keeps.
const MaxAlertRunIDs = 20

// DLQCountCreatedParams selects the dead-letter entries created in [Since,
// Until).
type DLQCountCreatedParams struct {
	Since time.Time
	Until time.Time
}

// RunDurationPercentileParams selects the runs that completed or went dead in
// [Since, Until), and the percentile of their durations to compute.
type RunDurationPercentileParams struct {
	Since time.Time
	Until time.Time
	// Percentile is from 1 to 100: the nearest-rank percentile, the
	// duration at rank ceil(n * Percentile / 100) of n runs by duration.
	Percentile int
}

// RunDurationPercentile is a percentile of one workflow's run durations.
type RunDurationPercentile struct {
	Workflow string
	// Runs is how many runs ended in the range.
	Runs     int
	Duration time.Duration
}

// RunCountOverdueParams selects a workflow's unfinished runs past a cutoff.
// Zero times do not filter.
type RunCountOverdueParams struct {
	Workflow string
	// Statuses are the unfinished statuses to count: pending, running,
	// retrying, waiting, compensating.
	Statuses []klaxontype.RunStatus
	// CreatedBefore keeps runs enqueued before it.
	CreatedBefore time.Time
	// AvailableBefore keeps pending, retrying and waiting runs that became
	// available before it: a run delayed, backing off or waiting on purpose
	// is not overdue until it could have been claimed.
	AvailableBefore time.Time
	// Limit caps the IDs returned, oldest first; zero means
	// MaxAlertRunIDs.
	Limit int
}

// RunOverdue counts overdue runs and names the oldest.
type RunOverdue struct {
	Count  int
	RunIDs []string
}

// RunActivityParams names the workflow whose worker activity to read.
type RunActivityParams struct {
	Workflow string
}

// RunActivity is when workers were last seen on a workflow's runs; a zero
// time means never (or no run is held now).
type RunActivity struct {
	// LastLeaseAt is the latest claim or heartbeat of a run held now.
	LastLeaseAt time.Time
	// LastFinishedAt is when the latest run that completed or went dead
	// ended.
	LastFinishedAt time.Time
}

// AlertFireParams describes a new firing alert.
type AlertFireParams struct {
	// ID is the alert's ULID, chosen by the caller.
	ID        string
	Rule      string
	Kind      klaxontype.AlertKind
	Workflow  string
	Class     klaxontype.FailureClass
	Severity  klaxontype.AlertSeverity
	Summary   string
	Value     float64
	Threshold float64
	RunIDs    []string
	// At is when the alert fires, by the evaluator's clock: its start and
	// its first notification.
	At time.Time
	// Channels receive the firing notification through the outbox.
	Channels []string
}

// AlertUpdateParams records a firing alert's latest measurement.
type AlertUpdateParams struct {
	ID        string
	Summary   string
	Value     float64
	Threshold float64
	RunIDs    []string
	// Notify records a repeat notification at At, to Channels.
	Notify bool
	// ExpectNotifications is the alert's notification count the evaluator
	// read: the update applies only if it is still that, so that of two
	// evaluators one repeats.
	ExpectNotifications int
	At                  time.Time
	Channels            []string
}

// AlertResolveParams resolves a firing alert.
type AlertResolveParams struct {
	ID string
	// Summary, when set, replaces the alert's summary: why it cleared.
	Summary string
	// At is when it resolved, by the evaluator's clock.
	At time.Time
	// Channels receive the resolved notification through the outbox.
	Channels []string
}

// AlertListParams filters AlertList. Zero fields do not filter.
type AlertListParams struct {
	// States keeps alerts in these states.
	States []klaxontype.AlertState
	// ResolvedSince keeps only resolved alerts that resolved at or after
	// it; firing alerts are kept whatever it is.
	ResolvedSince time.Time
	// Limit caps the number of alerts; zero means 100.
	Limit int
}

// CheckAlertFire refuses a new alert without what every alert carries, with
// klaxontype.ErrInvalid naming the problem.
func CheckAlertFire(params *AlertFireParams) error {
	switch {
	case params.ID == "" || params.Rule == "":
		return fmt.Errorf("%w: a new alert needs an ID and a rule", klaxontype.ErrInvalid)
	case !params.Kind.Valid():
		return fmt.Errorf("%w: alert kind %q", klaxontype.ErrInvalid, params.Kind)
	case !params.Severity.Valid():
		return fmt.Errorf("%w: alert severity %q", klaxontype.ErrInvalid, params.Severity)
	case params.At.IsZero():
		return fmt.Errorf("%w: a new alert needs the time it fires", klaxontype.ErrInvalid)
	}
	return nil
}

// CheckAlertList refuses an unknown alert state or a negative limit.
func CheckAlertList(params *AlertListParams) error {
	for _, state := range params.States {
		if !state.Valid() {
			return fmt.Errorf("%w: alert state %q (firing or resolved)", klaxontype.ErrInvalid, state)
		}
	}
	if params.Limit < 0 {
		return fmt.Errorf("%w: negative limit %d", klaxontype.ErrInvalid, params.Limit)
	}
	return nil
}

// CheckRunCountOverdue refuses a count without a workflow or with a status
// that is not unfinished.
func CheckRunCountOverdue(params *RunCountOverdueParams) error {
	if params.Workflow == "" || len(params.Statuses) == 0 || params.Limit < 0 {
		return fmt.Errorf("%w: counting overdue runs needs a workflow, statuses and a limit not below zero", klaxontype.ErrInvalid)
	}
	for _, status := range params.Statuses {
		switch status {
		case klaxontype.RunStatusPending, klaxontype.RunStatusRunning, klaxontype.RunStatusRetrying, klaxontype.RunStatusWaiting,
			klaxontype.RunStatusCompensating:
		default:
			return fmt.Errorf("%w: run status %q is not an unfinished one", klaxontype.ErrInvalid, status)
		}
	}
	return nil
}

// Alerts are the alerts that the alert rules fire and resolve, each with
// its notifications.
type Alerts interface {
	// AlertFire records a new firing alert of a rule and key, with its
	// firing notification in the outbox, in one transaction. When an alert of
	// the same rule, workflow and class is already firing it writes nothing
	// and returns that alert with fired false, so of two evaluators one fires.
	AlertFire(ctx context.Context, params *AlertFireParams) (alert *klaxontype.Alert, fired bool, err error)
	// AlertUpdate records a firing alert's latest measurement and, when
	// Notify is set, a repeat notification in the outbox, only if the alert
	// has recorded exactly ExpectNotifications notifications; otherwise
	// (another evaluator got there first, or the alert resolved) it writes
	// nothing and updated is false.
	AlertUpdate(ctx context.Context, params *AlertUpdateParams) (alert *klaxontype.Alert, updated bool, err error)
	// AlertResolve resolves a firing alert with its resolved notification in
	// the outbox; an alert already resolved is left alone and resolved is
	// false. An unknown alert gives klaxontype.ErrNotFound.
	AlertResolve(ctx context.Context, params *AlertResolveParams) (alert *klaxontype.Alert, resolved bool, err error)
	// AlertList returns alerts, newest first: the firing ones and those
	// resolved at or after ResolvedSince, as the filter says.
	AlertList(ctx context.Context, params *AlertListParams) ([]*klaxontype.Alert, error)
}
