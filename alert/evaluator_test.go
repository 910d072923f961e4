package alert_test

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

const (
	firing   = klaxontype.AlertEventFiring
	repeat   = klaxontype.AlertEventRepeat
	resolved = klaxontype.AlertEventResolved
)

// TestDLQRate: a rate rule fires when the window's dead letters reach the
// threshold, stays quiet until its repeat interval passes, repeats, and
// resolves once they leave the window.
func TestDLQRate(t *testing.T) {
	t.Parallel()
	h := newHarness(t, &alert.Rule{
		Name: "pipeline-transient", Kind: klaxontype.AlertDLQRate, Workflow: "pipeline", Class: klaxontype.ClassTransient,
		Severity: klaxontype.SeverityCritical, Repeat: 20 * time.Minute, Window: time.Hour, Threshold: 2,
	})
	first := h.dead("pipeline", klaxontype.ClassTransient)
	h.dead("ingest", klaxontype.ClassTransient)         // another workflow
	h.dead("pipeline", klaxontype.ClassContextOverflow) // another class
	base := first.CreatedAt
	h.expect(h.at(base.Add(time.Second)), "pipeline-transient", 1)

	second := h.dead("pipeline", klaxontype.ClassTransient)
	fired := h.expect(h.at(base.Add(time.Minute)), "pipeline-transient", 1, firing)[0]
	want := &klaxontype.Alert{
		ID: fired.ID, Rule: "pipeline-transient", Kind: klaxontype.AlertDLQRate, Workflow: "pipeline",
		Class: klaxontype.ClassTransient, Severity: klaxontype.SeverityCritical, State: klaxontype.AlertFiring,
		Summary: "pipeline: 2 transient dead letters in the last 1h (threshold 2)", Value: 2, Threshold: 2,
		Notifications: 1, RunIDs: []string{second.RunID, first.RunID},
	}
	want.StartedAt, want.LastNotifiedAt = fired.StartedAt, fired.LastNotifiedAt
	if !alertsEqual(fired, want) {
		t.Errorf("fired %+v; want %+v", fired, want)
	}
	if !fired.StartedAt.Equal(base.Add(time.Minute).UTC()) {
		t.Errorf("started at %s; want the evaluation's time %s", fired.StartedAt, base.Add(time.Minute))
	}

	h.expect(h.at(base.Add(10*time.Minute)), "pipeline-transient", 2)
	h.expect(h.at(base.Add(21*time.Minute)), "pipeline-transient", 2, repeat)
	h.expect(h.at(base.Add(30*time.Minute)), "pipeline-transient", 3)
	h.expect(h.at(base.Add(41*time.Minute)), "pipeline-transient", 3, repeat)
	done := h.expect(h.at(base.Add(61*time.Minute)), "pipeline-transient", 4, resolved)[0]
	if done.State != klaxontype.AlertResolved || done.ResolvedAt == nil || done.ID != fired.ID {
		t.Errorf("resolved notification carries %+v; want alert %s resolved", done, fired.ID)
	}
	h.expect(h.at(base.Add(90*time.Minute)), "pipeline-transient", 5)
	if firing := h.firing(); len(firing) != 0 {
		t.Errorf("firing after resolution: %+v", firing)
	}
}

// A run replayed with resume that dies again has two dead-letter entries:
// both count, but the alert names the run once.
func TestDLQRateNamesARunOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, &alert.Rule{
		Name: "pipeline-permanent", Kind: klaxontype.AlertDLQRate, Workflow: "pipeline", Class: klaxontype.ClassPermanent,
		Severity: klaxontype.SeverityWarning, Repeat: time.Hour, Window: time.Hour, Threshold: 2,
	})
	entry := h.dead("pipeline", klaxontype.ClassPermanent)
	if _, err := h.store.DLQReplay(h.ctx, &store.DLQReplayParams{EntryID: entry.ID, Mode: klaxontype.ReplayResume, Actor: "tester"}); err != nil {
		t.Fatalf("DLQReplay: %v", err)
	}
	again := h.dead("pipeline", klaxontype.ClassPermanent)
	if again.RunID != entry.RunID {
		t.Fatalf("the replayed run %s should have died again, not %s", entry.RunID, again.RunID)
	}
	fired := h.expect(h.at(again.CreatedAt.Add(time.Second)), "pipeline-permanent", 1, firing)[0]
	if fired.Value != 2 || len(fired.RunIDs) != 1 || fired.RunIDs[0] != entry.RunID {
		t.Errorf("alert value %v runs %v; want 2 entries of the one run %s", fired.Value, fired.RunIDs, entry.RunID)
	}
}

// spikeTimes are evaluation times for data written in two batches, the
// baseline one and, a moment later, the recent one: the window (of length
// window) holds the recent batch but not the baseline one from first until
// last.
func spikeTimes(t *testing.T, lastBaseline, firstRecent time.Time, window time.Duration) (first, last time.Time) {
	t.Helper()
	first = lastBaseline.Add(window).Add(5 * time.Millisecond)
	last = firstRecent.Add(window)
	if last.Sub(first) < 50*time.Millisecond {
		t.Fatalf("the batches are only %s apart", firstRecent.Sub(lastBaseline))
	}
	return first, last
}

// TestDLQSpike: a spike rule over every workflow fires for the workflow whose
// dead letters of a class jumped against the trailing baseline, not for the
// one failing at its usual rate.
func TestDLQSpike(t *testing.T) {
	t.Parallel()
	h := newHarness(t, &alert.Rule{
		Name: "overflow-spike", Kind: klaxontype.AlertDLQSpike, Class: klaxontype.ClassContextOverflow,
		Severity: klaxontype.SeverityWarning, Repeat: 40 * time.Millisecond,
		Window: time.Hour, Baseline: 3 * time.Hour, Factor: 5, MinCount: 2,
	})
	// ingest fails at its usual rate: 2 in the baseline's 2 hours, 3 now
	// (expected 1 an hour, 5x is 5); pipeline jumps from none to 3.
	h.dead("ingest", klaxontype.ClassContextOverflow)
	lastBaseline := h.dead("ingest", klaxontype.ClassContextOverflow).CreatedAt
	time.Sleep(100 * time.Millisecond)
	var firstRecent time.Time
	for i := range 3 {
		entry := h.dead("pipeline", klaxontype.ClassContextOverflow)
		if i == 0 {
			firstRecent = entry.CreatedAt
		}
		h.dead("ingest", klaxontype.ClassContextOverflow)
		h.dead("pipeline", klaxontype.ClassTransient)
	}
	start, end := spikeTimes(t, lastBaseline, firstRecent, time.Hour)

	fired := h.expect(h.at(start), "overflow-spike", 1, firing)[0]
	if fired.Workflow != "pipeline" || fired.Class != klaxontype.ClassContextOverflow || fired.Value != 3 || fired.Threshold != 2 ||
		fired.Summary != "pipeline: 3 context_overflow dead letters in the last 1h, none in the trailing 3h" || len(fired.RunIDs) != 3 {
		t.Errorf("fired %+v; want pipeline's 3 context_overflow dead letters against none", fired)
	}
	h.expect(h.at(start.Add(10*time.Millisecond)), "overflow-spike", 2)
	h.expect(h.at(end), "overflow-spike", 2, repeat)
	h.expect(h.at(end.Add(time.Hour)), "overflow-spike", 3, resolved)
}

// TestBudgetExceeded: a run dead for exceeding its budget fires, repeats and
// resolves when it leaves the window.
func TestBudgetExceeded(t *testing.T) {
	t.Parallel()
	h := newHarness(t, &alert.Rule{
		Name: "budget", Kind: klaxontype.AlertBudgetExceeded, Severity: klaxontype.SeverityWarning,
		Repeat: 30 * time.Minute, Window: time.Hour, Threshold: 1,
	})
	h.dead("agent", klaxontype.ClassPermanent)
	entry := h.dead("agent", klaxontype.ClassBudgetExceeded)
	base := entry.CreatedAt
	fired := h.expect(h.at(base.Add(time.Second)), "budget", 1, firing)[0]
	if fired.Kind != klaxontype.AlertBudgetExceeded || fired.Workflow != "agent" || fired.Class != klaxontype.ClassBudgetExceeded ||
		fired.Value != 1 || !slices.Equal(fired.RunIDs, []string{entry.RunID}) {
		t.Errorf("fired %+v; want agent's one budget_exceeded run", fired)
	}
	h.expect(h.at(base.Add(29*time.Minute)), "budget", 2)
	h.expect(h.at(base.Add(31*time.Minute)), "budget", 2, repeat)
	h.expect(h.at(base.Add(time.Hour+time.Second)), "budget", 3, resolved)
}

// TestBreakerOpen: an open breaker fires (critical), repeats while it holds
// the workflow's runs, and resolves when a person resets it.
func TestBreakerOpen(t *testing.T) {
	t.Parallel()
	h := newHarness(t, builtin(t, "breaker-open"))
	h.register("pipeline")
	run := h.enqueue("pipeline")
	_, err := h.store.BreakerTrip(h.ctx, &store.BreakerTripParams{
		Workflow: "pipeline", Reason: "retry storm: 9 of 10 attempts failed", Until: time.Now().Add(10 * time.Hour),
		Actor: "engine", RunID: run.ID,
	})
	if err != nil {
		t.Fatalf("BreakerTrip: %v", err)
	}
	base := time.Now()
	fired := h.expect(h.at(base), "breaker-open", 1, firing)[0]
	if fired.Severity != klaxontype.SeverityCritical || fired.Workflow != "pipeline" || !strings.Contains(fired.Summary, "retry storm") {
		t.Errorf("fired %+v; want pipeline's breaker, critical, with its reason", fired)
	}
	h.expect(h.at(base.Add(time.Hour)), "breaker-open", 2, repeat)
	if err := h.store.BreakerReset(h.ctx, &store.BreakerResetParams{Workflow: "pipeline", Actor: "dave"}); err != nil {
		t.Fatalf("BreakerReset: %v", err)
	}
	h.expect(h.at(base.Add(time.Hour+time.Minute)), "breaker-open", 3, resolved)
}

// TestSpendAndCostPerRunSpike: a workflow whose runs suddenly cost ten times
// more fires both the spend-rate and the cost-per-run rules.
func TestSpendAndCostPerRunSpike(t *testing.T) {
	t.Parallel()
	h := newHarness(t,
		&alert.Rule{Name: "spend", Kind: klaxontype.AlertSpendSpike, Severity: klaxontype.SeverityWarning, Repeat: 40 * time.Millisecond,
			Window: time.Hour, Baseline: 24 * time.Hour, Factor: 3, MinUSD: 0.05},
		&alert.Rule{Name: "per-run", Kind: klaxontype.AlertCostPerRunSpike, Severity: klaxontype.SeverityWarning, Repeat: 40 * time.Millisecond,
			Window: time.Hour, Baseline: 24 * time.Hour, Factor: 2, MinRuns: 2},
	)
	h.register("summarize")
	h.register("steady")
	h.complete("summarize", 0.01)
	h.complete("steady", 0.01)
	h.complete("steady", 0.01)
	lastBaseline := h.complete("summarize", 0.01).FinishedAt
	time.Sleep(100 * time.Millisecond)
	firstRecent := h.complete("summarize", 0.10).FinishedAt
	h.complete("summarize", 0.10)
	h.complete("steady", 0.01)
	start, end := spikeTimes(t, lastBaseline, firstRecent, time.Hour)

	got := h.at(start)
	slices.SortFunc(got, func(a, b *alert.Notification) int { return strings.Compare(a.Alert.Rule, b.Alert.Rule) })
	if len(got) != 2 {
		t.Fatalf("got %d notifications; want the two rules firing for summarize", len(got))
	}
	perRun, spend := got[0].Alert, got[1].Alert
	if perRun.Rule != "per-run" || perRun.Workflow != "summarize" || perRun.Value < 0.0999 || perRun.Value > 0.1001 || perRun.Threshold < 0.0199 || perRun.Threshold > 0.0201 {
		t.Errorf("per-run alert %+v; want summarize at $0.10 a run against 2x $0.01", perRun)
	}
	if spend.Rule != "spend" || spend.Workflow != "summarize" || spend.Value < 0.1999 || spend.Value > 0.2001 ||
		!strings.Contains(spend.Summary, "x the trailing 24h rate") {
		t.Errorf("spend alert %+v; want summarize's $0.20 against its trailing rate", spend)
	}
	got = h.at(end)
	if len(got) != 2 || got[0].Event != repeat || got[1].Event != repeat {
		t.Errorf("at the end of the window got %d notifications; want two repeats", len(got))
	}
	got = h.at(end.Add(time.Hour))
	if len(got) != 2 || got[0].Event != resolved || got[1].Event != resolved || got[0].Sequence != 3 {
		t.Errorf("an hour later got %d notifications; want both resolved, third of each", len(got))
	}
}

// TestStuckRuns: a run unfinished far longer than its workflow's runs take
// fires, repeats, and resolves once it ends.
func TestStuckRuns(t *testing.T) {
	t.Parallel()
	h := newHarness(t, builtin(t, "stuck-runs"))
	h.register("pipeline")
	for range 3 {
		h.complete("pipeline", 0)
	}
	h.enqueue("pipeline")
	stuck := h.claim("pipeline")
	base := stuck.CreatedAt
	h.expect(h.at(base.Add(14*time.Minute)), "stuck-runs", 1)
	fired := h.expect(h.at(base.Add(16*time.Minute)), "stuck-runs", 1, firing)[0]
	if fired.Value != 1 || !slices.Equal(fired.RunIDs, []string{stuck.ID}) ||
		!strings.Contains(fired.Summary, "1 run unfinished for more than 15m") || !strings.Contains(fired.Summary, "p95") {
		t.Errorf("fired %+v; want the one stuck run past the 15m floor", fired)
	}
	h.expect(h.at(base.Add(76*time.Minute)), "stuck-runs", 2, repeat)
	h.finish(stuck, 0)
	h.expect(h.at(base.Add(77*time.Minute)), "stuck-runs", 3, resolved)
}

// TestNoLiveWorker: runs that wait with no worker seen on their workflow fire
// (unless a breaker holds them on purpose), and resolve when a worker claims
// them.
func TestNoLiveWorker(t *testing.T) {
	t.Parallel()
	h := newHarness(t, builtin(t, "no-live-worker"))
	h.register("pipeline")
	h.register("paused")
	waiting := h.enqueue("pipeline")
	paused := h.enqueue("paused")
	if _, err := h.store.BreakerTrip(h.ctx, &store.BreakerTripParams{
		Workflow: "paused", Reason: "spend rate", Until: time.Now().Add(10 * time.Hour), Actor: "engine", RunID: paused.ID,
	}); err != nil {
		t.Fatalf("BreakerTrip: %v", err)
	}
	base := waiting.CreatedAt
	h.expect(h.at(base.Add(4*time.Minute)), "no-live-worker", 1)
	fired := h.expect(h.at(base.Add(6*time.Minute)), "no-live-worker", 1, firing)[0]
	if fired.Workflow != "pipeline" || fired.Severity != klaxontype.SeverityCritical || !slices.Equal(fired.RunIDs, []string{waiting.ID}) ||
		!strings.Contains(fired.Summary, "no worker has ever claimed one of its runs") {
		t.Errorf("fired %+v; want pipeline's waiting run, critical", fired)
	}
	h.expect(h.at(base.Add(66*time.Minute)), "no-live-worker", 2, repeat)
	h.claim("pipeline")
	h.expect(h.at(base.Add(67*time.Minute)), "no-live-worker", 3, resolved)
}

// TestRestart: a server that stops after recording a notification and
// before delivering it, and one that stops between evaluations, lose and
// repeat nothing: the receiver gets firing, repeat, resolved, once each.
func TestRestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t, &alert.Rule{
		Name: "dlq", Kind: klaxontype.AlertDLQRate, Severity: klaxontype.SeverityWarning,
		Repeat: 30 * time.Minute, Window: time.Hour, Threshold: 1,
	})
	base := h.dead("pipeline", klaxontype.ClassPermanent).CreatedAt

	// The first server records the alert and stops before delivering.
	h.clock.Set(base.Add(time.Second))
	if outcome, err := h.evaluator.Evaluate(h.ctx); err != nil || outcome.Fired != 1 {
		t.Fatalf("Evaluate = %+v, %v; want one alert fired", outcome, err)
	}
	h.store.Close()

	// The second evaluates at the same time, and delivers what the first
	// recorded.
	h.open("notifier-2")
	fired := h.expect(h.at(base.Add(2*time.Second)), "dlq", 1, firing)[0]
	h.expect(h.at(base.Add(20*time.Minute)), "dlq", 2)
	h.store.Close()

	// The third repeats after the interval counted from the first
	// notification, and resolves.
	h.open("notifier-3")
	h.expect(h.at(base.Add(31*time.Minute)), "dlq", 2, repeat)
	h.clock.Set(base.Add(61 * time.Minute))
	if outcome, err := h.evaluator.Evaluate(h.ctx); err != nil || outcome.Resolved != 1 {
		t.Fatalf("Evaluate = %+v, %v; want the alert resolved", outcome, err)
	}
	h.store.Close()

	h.open("notifier-4")
	h.deliver()
	done := h.expect(h.hook.notifications(), "dlq", 3, resolved)[0]
	if done.ID != fired.ID {
		t.Errorf("resolved alert %s; want %s", done.ID, fired.ID)
	}
	h.expect(h.at(base.Add(62*time.Minute)), "dlq", 4)
}

// TestConcurrentEvaluators: two servers evaluating one database at the same
// moment fire one alert and send one notification.
func TestConcurrentEvaluators(t *testing.T) {
	t.Parallel()
	h := newHarness(t, &alert.Rule{
		Name: "dlq", Kind: klaxontype.AlertDLQRate, Severity: klaxontype.SeverityWarning,
		Repeat: 30 * time.Minute, Window: time.Hour, Threshold: 1,
	})
	base := h.dead("pipeline", klaxontype.ClassPermanent).CreatedAt
	other := alert.NewEvaluator(h.store, h.config, h.clock.Now, nil)
	for _, at := range []time.Time{base.Add(time.Second), base.Add(31 * time.Minute), base.Add(2 * time.Hour)} {
		h.clock.Set(at)
		var wg sync.WaitGroup
		for _, e := range []*alert.Evaluator{h.evaluator, other} {
			wg.Go(func() {
				if _, err := e.Evaluate(h.ctx); err != nil {
					t.Errorf("Evaluate: %v", err)
				}
			})
		}
		wg.Wait()
	}
	h.deliver()
	h.expect(h.hook.notifications(), "dlq", 1, firing, repeat, resolved)
}

// TestServerWithoutTheRule: a server whose rules file lacks a rule leaves
// that rule's firing alert to the server that runs it, and resolves it only
// once no evaluation has recorded it for a while (the rule is gone
// everywhere).
func TestServerWithoutTheRule(t *testing.T) {
	t.Parallel()
	h := newHarness(t, &alert.Rule{
		Name: "dlq", Kind: klaxontype.AlertDLQRate, Severity: klaxontype.SeverityWarning,
		Repeat: time.Hour, Window: 3 * time.Hour, Threshold: 1,
	})
	base := h.dead("pipeline", klaxontype.ClassPermanent).CreatedAt
	fired := h.expect(h.at(base.Add(time.Second)), "dlq", 1, firing)[0]
	if fired.EvaluatedAt.IsZero() {
		t.Fatalf("a fired alert %+v has no evaluation time", fired)
	}
	other := alert.NewEvaluator(h.store, &alert.Config{}, h.clock.Now, nil)
	evaluateOther := func(at time.Time) *alert.Outcome {
		t.Helper()
		h.clock.Set(at)
		outcome, err := other.Evaluate(h.ctx)
		if err != nil {
			t.Fatalf("the other server's evaluation at %s: %v", at, err)
		}
		return outcome
	}
	// The server with the rule keeps evaluating it; the other leaves it.
	for _, minutes := range []time.Duration{2, 9, 16, 23} {
		if outcome := evaluateOther(base.Add(minutes * time.Minute)); outcome.Resolved != 0 {
			t.Fatalf("at +%dm the server without the rule resolved the alert", minutes)
		}
		h.expect(h.at(base.Add(minutes*time.Minute+time.Second)), "dlq", 2)
	}
	if firing := h.firing(); len(firing) != 1 || firing[0].ID != fired.ID {
		t.Fatalf("firing %+v; want alert %s still firing", firing, fired.ID)
	}
	// The server with the rule stops; ten minutes after its last
	// evaluation the rule is taken to be gone, and the alert resolves.
	if outcome := evaluateOther(base.Add(30 * time.Minute)); outcome.Resolved != 0 {
		t.Fatal("resolved 7 minutes after the last evaluation; want it left for 10")
	}
	if outcome := evaluateOther(base.Add(34 * time.Minute)); outcome.Resolved != 1 {
		t.Fatalf("not resolved 11 minutes after the last evaluation: %+v", outcome)
	}
	if firing := h.firing(); len(firing) != 0 {
		t.Fatalf("still firing: %+v", firing)
	}
}

// alertsEqual compares alerts field by field, times by instant.
func alertsEqual(a, b *klaxontype.Alert) bool {
	sameTime := func(x, y *time.Time) bool { return (x == nil) == (y == nil) && (x == nil || x.Equal(*y)) }
	return a.ID == b.ID && a.Rule == b.Rule && a.Kind == b.Kind && a.Workflow == b.Workflow && a.Class == b.Class &&
		a.Severity == b.Severity && a.State == b.State && a.Summary == b.Summary && a.Value == b.Value &&
		a.Threshold == b.Threshold && a.StartedAt.Equal(b.StartedAt) && sameTime(a.ResolvedAt, b.ResolvedAt) &&
		sameTime(a.LastNotifiedAt, b.LastNotifiedAt) && a.Notifications == b.Notifications && slices.Equal(a.RunIDs, b.RunIDs)
}

// builtin returns the built-in rule of a name.
func builtin(t *testing.T, name string) *alert.Rule {
	t.Helper()
	for _, r := range alert.Defaults() {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no built-in rule %s", name)
	return nil
}

// TestApprovalOverdue: an approval request undecided after 80% of its
// timeout fires, before the timeout dead-letters its run, and resolves when
// a person decides.
func TestApprovalOverdue(t *testing.T) {
	t.Parallel()
	h := newHarness(t, builtin(t, "approval-overdue"))
	h.register("refunds")
	h.enqueue("refunds")
	held := h.claim("refunds")
	base := time.Now()
	if _, err := h.store.RunWait(h.ctx, &store.RunWaitParams{
		Lease: store.Lease{RunID: held.ID, Epoch: held.Epoch}, Holder: "worker", Workflow: "refunds",
		Waits: []store.WaitParams{{Seq: 1, Name: "refund", Kind: klaxontype.WaitApproval, IdempotencyKey: "k",
			StartedAt: base, Deadline: base.Add(10 * time.Hour), Request: &klaxontype.ApprovalRequest{Title: "Refund?"}}},
	}); err != nil {
		t.Fatal(err)
	}
	h.expect(h.at(base.Add(7*time.Hour)), "approval-overdue", 1)
	fired := h.expect(h.at(base.Add(8*time.Hour+time.Minute)), "approval-overdue", 1, firing)[0]
	if fired.Workflow != "refunds" || !slices.Equal(fired.RunIDs, []string{held.ID}) ||
		!strings.Contains(fired.Summary, `1 approval request undecided after 80% of their timeout; oldest: "refund"`) ||
		!strings.Contains(fired.Summary, "of 10h") {
		t.Errorf("fired %+v; want the refund request of 10h", fired)
	}
	if _, err := h.store.ApprovalDecide(h.ctx, &store.ApprovalDecideParams{RunID: held.ID, Name: "refund", Approved: true, Actor: "alice"}); err != nil {
		t.Fatal(err)
	}
	h.expect(h.at(base.Add(8*time.Hour+2*time.Minute)), "approval-overdue", 2, resolved)
}
