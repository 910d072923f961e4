package alert_test

import (
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// TestNotifierRetriesAndGivesUp: a notification the target refuses is tried
// again after its backoff and delivered once the target answers; one refused
// MaxAttempts times is given up, leaving the backlog.
func TestNotifierRetriesAndGivesUp(t *testing.T) {
	t.Parallel()
	h := newHarness(t, &alert.Rule{
		Name: "dlq", Kind: klaxontype.AlertDLQRate, Severity: klaxontype.SeverityWarning,
		Repeat: 30 * time.Minute, Window: time.Hour, Threshold: 1,
	})
	h.notifier = alert.NewNotifier(h.store, h.config, alert.NotifierOptions{
		Holder: "retrying", MaxAttempts: 3, Backoff: func(int) time.Duration { return time.Millisecond },
	})
	base := h.dead("pipeline", klaxontype.ClassPermanent).CreatedAt
	// The dead letter's own notification waits for a client's dispatcher.
	backlog := h.backlog()

	// The firing notification fails, then arrives, once.
	h.hook.failing.Store(true)
	h.clock.Set(base.Add(time.Second))
	if _, err := h.evaluator.Evaluate(h.ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := h.notifier.DeliverDue(h.ctx); n != 1 || err != nil {
		t.Fatalf("DeliverDue = %d, %v; want the firing notification tried", n, err)
	}
	if got := h.backlog(); got != backlog+1 {
		t.Fatalf("backlog %d after a refused delivery; want %d", got, backlog+1)
	}
	h.hook.failing.Store(false)
	h.awaitBacklog(backlog)
	h.expect(h.hook.notifications(), "dlq", 1, firing)

	// The repeat is refused three times: given up, it leaves the backlog,
	// and the alert carries on.
	h.hook.failing.Store(true)
	h.clock.Set(base.Add(31 * time.Minute))
	if _, err := h.evaluator.Evaluate(h.ctx); err != nil {
		t.Fatal(err)
	}
	h.awaitBacklog(backlog)
	h.hook.failing.Store(false)
	h.expect(h.hook.notifications(), "dlq", 2)
	h.expect(h.at(base.Add(2*time.Hour)), "dlq", 3, resolved)
}

func (h *harness) backlog() int {
	h.t.Helper()
	pending, err := h.store.OutboxCountPending(h.ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	return pending
}

// awaitBacklog delivers until the outbox's backlog is want, as the backoff
// of failed notifications runs out.
func (h *harness) awaitBacklog(want int) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		h.deliver()
		got := h.backlog()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("backlog %d; want %d", got, want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
