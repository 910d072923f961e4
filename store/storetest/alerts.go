package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// alertChannel is where the alert tests' notifications go.
const alertChannel = "alert:ops"

// testAlerts checks the alert episodes: one firing alert per rule and key,
// repeats and resolution as conditional writes, each with its notification in
// the outbox in the same transaction, and the list of alerts.
func testAlerts(t *testing.T, h *harness) {
	t.Run("FireRepeatResolve", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		start := time.Now().UTC().Truncate(time.Second)
		fire := &store.AlertFireParams{
			ID: newRunID(), Rule: "dlq-spike", Kind: klaxontype.AlertDLQSpike, Workflow: testWorkflow,
			Class: klaxontype.ClassContextOverflow, Severity: klaxontype.SeverityWarning,
			Summary: "12 context_overflow dead letters", Value: 12, Threshold: 5,
			RunIDs: []string{"r1", "r2"}, At: start, Channels: []string{alertChannel, "alert:pager"},
		}
		alert, fired, err := f.store.AlertFire(f.ctx, fire)
		if err != nil || !fired {
			t.Fatalf("AlertFire = %v, %v; want a new alert", fired, err)
		}
		want := &klaxontype.Alert{
			ID: fire.ID, Rule: "dlq-spike", Kind: klaxontype.AlertDLQSpike, Workflow: testWorkflow,
			Class: klaxontype.ClassContextOverflow, Severity: klaxontype.SeverityWarning, State: klaxontype.AlertFiring,
			Summary: fire.Summary, Value: 12, Threshold: 5, StartedAt: start, LastNotifiedAt: &start,
			Notifications: 1, RunIDs: []string{"r1", "r2"}, EvaluatedAt: start,
		}
		if !reflect.DeepEqual(alert, want) {
			t.Errorf("AlertFire = %+v; want %+v", alert, want)
		}
		f.checkAlertNotifications(alertChannel, klaxontype.AlertEventFiring, 1)
		f.checkAlertNotifications("alert:pager", klaxontype.AlertEventFiring, 1)

		// A second evaluator finding the same condition fires nothing.
		again := *fire
		again.ID = newRunID()
		alert, fired, err = f.store.AlertFire(f.ctx, &again)
		if err != nil || fired || alert == nil || alert.ID != fire.ID {
			t.Fatalf("second AlertFire = %+v, %v, %v; want the firing alert, not fired", alert, fired, err)
		}
		f.checkAlertNotifications(alertChannel, "", 0)

		// A measurement without a notification changes the numbers only.
		alert, updated, err := f.store.AlertUpdate(f.ctx, &store.AlertUpdateParams{
			ID: fire.ID, Summary: "14 context_overflow dead letters", Value: 14, Threshold: 5,
			At: start.Add(time.Minute), ExpectNotifications: 1, Channels: []string{alertChannel},
		})
		if err != nil || !updated || alert.Value != 14 || alert.Notifications != 1 || !alert.LastNotifiedAt.Equal(start) ||
			!alert.EvaluatedAt.Equal(start.Add(time.Minute)) {
			t.Fatalf("AlertUpdate = %+v, %v, %v; want value 14, one notification, evaluated a minute later", alert, updated, err)
		}
		f.checkAlertNotifications(alertChannel, "", 0)

		// A repeat applies once: a second evaluator that read the same count
		// of notifications writes nothing.
		repeatAt := start.Add(time.Hour)
		repeat := &store.AlertUpdateParams{
			ID: fire.ID, Summary: "15 context_overflow dead letters", Value: 15, Threshold: 5,
			Notify: true, ExpectNotifications: 1, At: repeatAt, Channels: []string{alertChannel},
		}
		alert, updated, err = f.store.AlertUpdate(f.ctx, repeat)
		if err != nil || !updated || alert.Notifications != 2 || !alert.LastNotifiedAt.Equal(repeatAt) {
			t.Fatalf("repeat AlertUpdate = %+v, %v, %v; want two notifications, the last at %s", alert, updated, err, repeatAt)
		}
		f.checkAlertNotifications(alertChannel, klaxontype.AlertEventRepeat, 2)
		alert, updated, err = f.store.AlertUpdate(f.ctx, repeat)
		if err != nil || updated || alert.Notifications != 2 {
			t.Fatalf("stale repeat AlertUpdate = %+v, %v, %v; want nothing written", alert, updated, err)
		}
		f.checkAlertNotifications(alertChannel, "", 0)

		resolveAt := start.Add(2 * time.Hour)
		resolve := &store.AlertResolveParams{ID: fire.ID, Summary: "cleared", At: resolveAt, Channels: []string{alertChannel}}
		alert, resolved, err := f.store.AlertResolve(f.ctx, resolve)
		if err != nil || !resolved || alert.State != klaxontype.AlertResolved || alert.ResolvedAt == nil ||
			!alert.ResolvedAt.Equal(resolveAt) || !alert.EvaluatedAt.Equal(resolveAt) || alert.Notifications != 3 || alert.Summary != "cleared" {
			t.Fatalf("AlertResolve = %+v, %v, %v; want resolved at %s with three notifications", alert, resolved, err, resolveAt)
		}
		f.checkAlertNotifications(alertChannel, klaxontype.AlertEventResolved, 3)
		if _, resolved, err := f.store.AlertResolve(f.ctx, resolve); err != nil || resolved {
			t.Fatalf("second AlertResolve = %v, %v; want nothing written", resolved, err)
		}
		if _, updated, err := f.store.AlertUpdate(f.ctx, repeat); err != nil || updated {
			t.Fatalf("AlertUpdate of a resolved alert = %v, %v; want nothing written", updated, err)
		}
		f.checkAlertNotifications(alertChannel, "", 0)
		if _, _, err := f.store.AlertResolve(f.ctx, &store.AlertResolveParams{ID: newRunID(), At: resolveAt}); !errors.Is(err, klaxontype.ErrNotFound) {
			t.Errorf("AlertResolve of an unknown alert: %v; want ErrNotFound", err)
		}

		// The condition holding again is a new episode.
		next := *fire
		next.ID, next.At = newRunID(), start.Add(3*time.Hour)
		if _, fired, err := f.store.AlertFire(f.ctx, &next); err != nil || !fired {
			t.Fatalf("AlertFire after resolution = %v, %v; want a new alert", fired, err)
		}
		firing := f.alertList(&store.AlertListParams{States: []klaxontype.AlertState{klaxontype.AlertFiring}})
		if len(firing) != 1 || firing[0].ID != next.ID {
			t.Errorf("firing alerts %v; want %s", alertIDs(firing), next.ID)
		}
		all := f.alertList(&store.AlertListParams{})
		if len(all) != 2 || all[0].ID != next.ID || all[1].ID != fire.ID {
			t.Errorf("all alerts %v; want %s then %s, newest first", alertIDs(all), next.ID, fire.ID)
		}
		recent := f.alertList(&store.AlertListParams{ResolvedSince: resolveAt.Add(time.Second)})
		if len(recent) != 1 || recent[0].ID != next.ID {
			t.Errorf("alerts resolved since after the resolution %v; want only the firing %s", alertIDs(recent), next.ID)
		}
		resolvedList := f.alertList(&store.AlertListParams{States: []klaxontype.AlertState{klaxontype.AlertResolved}, ResolvedSince: resolveAt})
		if len(resolvedList) != 1 || resolvedList[0].ID != fire.ID {
			t.Errorf("resolved alerts %v; want %s", alertIDs(resolvedList), fire.ID)
		}
		if _, err := f.store.AlertList(f.ctx, &store.AlertListParams{States: []klaxontype.AlertState{"firng"}}); !errors.Is(err, klaxontype.ErrInvalid) {
			t.Errorf("AlertList with state firng: %v; want ErrInvalid", err)
		}
		bad := *fire
		bad.ID, bad.Kind = newRunID(), "dlq_sipke"
		if _, _, err := f.store.AlertFire(f.ctx, &bad); !errors.Is(err, klaxontype.ErrInvalid) {
			t.Errorf("AlertFire of kind dlq_sipke: %v; want ErrInvalid", err)
		}
	})

	t.Run("DLQCountCreated", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		before := time.Now().Add(-time.Second)
		f.deadRun(death{})
		f.deadRun(death{})
		overflow := &klaxontype.RunFailure{Class: klaxontype.ClassContextOverflow, Reason: "too long", Step: "summarize", StepSeq: 1}
		f.deadRun(death{Run: store.RunEnqueueParams{Workflow: "classify"}, Failure: overflow})
		after := time.Now().Add(time.Second)
		got, err := f.store.DLQCountCreated(f.ctx, &store.DLQCountCreatedParams{Since: before, Until: after})
		if err != nil {
			t.Fatalf("DLQCountCreated: %v", err)
		}
		want := []*store.DLQCount{
			{Workflow: "classify", Class: klaxontype.ClassContextOverflow, Count: 1},
			{Workflow: testWorkflow, Class: klaxontype.ClassPermanent, Count: 2},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("DLQCountCreated = %v; want %v", got, want)
		}
		got, err = f.store.DLQCountCreated(f.ctx, &store.DLQCountCreatedParams{Since: before.Add(-time.Hour), Until: before})
		if err != nil || len(got) != 0 {
			t.Errorf("DLQCountCreated of the hour before = %v, %v; want none", got, err)
		}
		if _, err := f.store.DLQCountCreated(f.ctx, &store.DLQCountCreatedParams{Since: after, Until: before}); !errors.Is(err, klaxontype.ErrInvalid) {
			t.Errorf("DLQCountCreated with since after until: %v; want ErrInvalid", err)
		}
	})

	t.Run("RunDurationPercentile", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		before := time.Now().Add(-time.Second)
		var durations []time.Duration
		for range 4 {
			run := f.runIn(klaxontype.RunStatusCompleted, nil)
			durations = append(durations, run.FinishedAt.Sub(run.CreatedAt).Truncate(time.Microsecond))
		}
		f.runIn(klaxontype.RunStatusDead, &store.RunEnqueueParams{Workflow: "classify"})
		f.runIn(klaxontype.RunStatusRunning, &store.RunEnqueueParams{Workflow: "classify"})
		after := time.Now().Add(time.Second)
		longest := durations[0]
		for _, d := range durations {
			longest = max(longest, d)
		}
		got, err := f.store.RunListDurationPercentiles(f.ctx, &store.RunDurationPercentileParams{Since: before, Until: after, Percentile: 100})
		if err != nil {
			t.Fatalf("RunDurationPercentile: %v", err)
		}
		if len(got) != 2 || got[0].Workflow != "classify" || got[0].Runs != 1 ||
			got[1].Workflow != testWorkflow || got[1].Runs != 4 || got[1].Duration != longest {
			t.Errorf("RunDurationPercentile 100 = %v; want classify with 1 run, %s with 4 runs and %s", got, testWorkflow, longest)
		}
		// The nearest rank of 25% of 4 runs is the shortest.
		shortest := durations[0]
		for _, d := range durations {
			shortest = min(shortest, d)
		}
		got, err = f.store.RunListDurationPercentiles(f.ctx, &store.RunDurationPercentileParams{Since: before, Until: after, Percentile: 25})
		if err != nil || len(got) != 2 || got[1].Duration != shortest {
			t.Errorf("RunDurationPercentile 25 = %v, %v; want %s for %s", got, err, shortest, testWorkflow)
		}
		got, err = f.store.RunListDurationPercentiles(f.ctx, &store.RunDurationPercentileParams{Since: after, Until: after.Add(time.Hour), Percentile: 95})
		if err != nil || len(got) != 0 {
			t.Errorf("RunDurationPercentile of a later hour = %v, %v; want none", got, err)
		}
		if _, err := f.store.RunListDurationPercentiles(f.ctx, &store.RunDurationPercentileParams{Since: before, Until: after, Percentile: 0}); !errors.Is(err, klaxontype.ErrInvalid) {
			t.Errorf("RunDurationPercentile 0: %v; want ErrInvalid", err)
		}
	})

	t.Run("RunCountOverdue", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		first := f.enqueue(nil)
		second := f.enqueue(nil)
		held := f.claimRun(first, holderA, longLease).Run
		delayed := f.enqueue(&store.RunEnqueueParams{AvailableAt: time.Now().Add(time.Hour)})
		f.enqueue(&store.RunEnqueueParams{Workflow: "classify"})
		cutoff := time.Now().Add(time.Second)
		unfinished := []klaxontype.RunStatus{klaxontype.RunStatusPending, klaxontype.RunStatusRunning,
			klaxontype.RunStatusRetrying, klaxontype.RunStatusCompensating}

		overdue := f.overdue(&store.RunCountOverdueParams{Workflow: testWorkflow, Statuses: unfinished, CreatedBefore: cutoff})
		if overdue.Count != 3 || !reflect.DeepEqual(overdue.RunIDs, []string{held.ID, second.ID, delayed.ID}) {
			t.Errorf("overdue runs = %+v; want 3, oldest first", overdue)
		}
		// A run delayed past the cutoff is not overdue yet.
		overdue = f.overdue(&store.RunCountOverdueParams{Workflow: testWorkflow, Statuses: unfinished, CreatedBefore: cutoff, AvailableBefore: cutoff, Limit: 1})
		if overdue.Count != 2 || !reflect.DeepEqual(overdue.RunIDs, []string{held.ID}) {
			t.Errorf("overdue available runs, limit 1 = %+v; want 2 counted, the oldest named", overdue)
		}
		waiting := []klaxontype.RunStatus{klaxontype.RunStatusPending, klaxontype.RunStatusRetrying}
		overdue = f.overdue(&store.RunCountOverdueParams{Workflow: testWorkflow, Statuses: waiting, AvailableBefore: cutoff})
		if overdue.Count != 1 || !reflect.DeepEqual(overdue.RunIDs, []string{second.ID}) {
			t.Errorf("waiting runs = %+v; want %s", overdue, second.ID)
		}
		overdue = f.overdue(&store.RunCountOverdueParams{Workflow: testWorkflow, Statuses: unfinished, CreatedBefore: first.CreatedAt})
		if overdue.Count != 0 || len(overdue.RunIDs) != 0 {
			t.Errorf("runs enqueued before the first = %+v; want none", overdue)
		}
		_, err := f.store.RunCountOverdue(f.ctx, &store.RunCountOverdueParams{Workflow: testWorkflow, Statuses: []klaxontype.RunStatus{klaxontype.RunStatusCompleted}})
		if !errors.Is(err, klaxontype.ErrInvalid) {
			t.Errorf("RunCountOverdue of completed runs: %v; want ErrInvalid", err)
		}
	})

	t.Run("RunActivity", func(t *testing.T) {
		t.Parallel()
		f := h.fixture(t)
		activity := f.activity(testWorkflow)
		if !activity.LastLeaseAt.IsZero() || !activity.LastFinishedAt.IsZero() {
			t.Errorf("activity of a workflow without runs = %+v; want none", activity)
		}
		f.enqueue(&store.RunEnqueueParams{AvailableAt: time.Now().Add(time.Hour)})
		if activity := f.activity(testWorkflow); !activity.LastLeaseAt.IsZero() {
			t.Errorf("activity with a pending run only = %+v; want none", activity)
		}
		before := time.Now().Add(-time.Second)
		held := f.runIn(klaxontype.RunStatusRunning, nil)
		activity = f.activity(testWorkflow)
		if activity.LastLeaseAt.Before(before) || !activity.LastFinishedAt.IsZero() {
			t.Errorf("activity with a held run = %+v; want a lease since %s, nothing finished", activity, before)
		}
		if err := f.store.RunComplete(f.ctx, &store.RunCompleteParams{Lease: leaseOf(held), Holder: holderA, Output: []byte(`1`)}); err != nil {
			t.Fatalf("RunComplete: %v", err)
		}
		activity = f.activity(testWorkflow)
		if !activity.LastLeaseAt.IsZero() || activity.LastFinishedAt.Before(before) {
			t.Errorf("activity after the run completed = %+v; want no lease, finished since %s", activity, before)
		}
		// A cancelled run is no sign of a worker.
		f.cancel(f.enqueue(&store.RunEnqueueParams{Workflow: "classify"}), "ops", "")
		if activity := f.activity("classify"); !activity.LastFinishedAt.IsZero() {
			t.Errorf("activity with a cancelled run = %+v; want none", activity)
		}
	})
}

// checkAlertNotifications claims what the outbox holds for channel and
// checks it is want notifications of event whose sequence is seq (none when
// want is empty), delivering them.
func (f *fixture) checkAlertNotifications(channel string, event klaxontype.AlertEvent, seq int) {
	f.t.Helper()
	messages := f.outboxClaim(holderA, 10, longLease, channel)
	if event == "" {
		if len(messages) != 0 {
			f.t.Errorf("%s got %d notifications; want none", channel, len(messages))
		}
		return
	}
	if len(messages) != 1 || messages[0].Kind != klaxontype.NotificationAlert {
		f.t.Fatalf("%s got %d notifications (%+v); want one alert notification", channel, len(messages), messages)
	}
	m := messages[0]
	notification, _ := m.Payload.(*klaxontype.AlertNotification)
	if notification == nil {
		f.t.Fatalf("%s notification carries %T; want the alert notification", channel, m.Payload)
	}
	if notification.Event != event || notification.Sequence != seq || notification.Alert == nil || notification.Alert.Notifications != seq || m.Delivery.EntryID != notification.Alert.ID {
		f.t.Errorf("%s notification = %+v (alert %+v); want %s number %d", channel, notification, notification.Alert, event, seq)
	}
	f.settle(m.Delivery.ID, holderA, klaxontype.DeliveryDelivered, time.Time{}, "")
}

func (f *fixture) alertList(params *store.AlertListParams) []*klaxontype.Alert {
	f.t.Helper()
	alerts, err := f.store.AlertList(f.ctx, params)
	if err != nil {
		f.t.Fatalf("AlertList %+v: %v", params, err)
	}
	return alerts
}

func (f *fixture) overdue(params *store.RunCountOverdueParams) *store.RunOverdue {
	f.t.Helper()
	overdue, err := f.store.RunCountOverdue(f.ctx, params)
	if err != nil {
		f.t.Fatalf("RunCountOverdue %+v: %v", params, err)
	}
	return overdue
}

func (f *fixture) activity(workflow string) *store.RunActivity {
	f.t.Helper()
	activity, err := f.store.RunGetActivity(f.ctx, &store.RunActivityParams{Workflow: workflow})
	if err != nil {
		f.t.Fatalf("RunActivity %s: %v", workflow, err)
	}
	return activity
}

func alertIDs(alerts []*klaxontype.Alert) []string {
	ids := make([]string, len(alerts))
	for i, a := range alerts {
		ids[i] = a.ID
	}
	return ids
}
