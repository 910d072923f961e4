package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/sqlite"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/webhook"
)

const secret = "channels-test-secret"

// receiver is an httptest target that records what it was sent.
type receiver struct {
	server *httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	header []http.Header
	calls  atomic.Int32
}

// newReceiver answers each request with answer(call number from 1); a
// negative answer hangs until the request is cancelled.
func newReceiver(t *testing.T, answer func(call int) int) *receiver {
	t.Helper()
	r := &receiver{}
	hung := make(chan struct{})
	r.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		call := int(r.calls.Add(1))
		body, _ := io.ReadAll(req.Body)
		status := answer(call)
		if status < 0 {
			select {
			case <-req.Context().Done():
			case <-hung:
			}
			return
		}
		if status == http.StatusOK {
			r.mu.Lock()
			r.bodies = append(r.bodies, body)
			r.header = append(r.header, req.Header.Clone())
			r.mu.Unlock()
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, "answer %d", status)
	}))
	t.Cleanup(func() {
		close(hung)
		r.server.Close()
	})
	return r
}

func (r *receiver) taken() ([][]byte, []http.Header) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.bodies...), append([]http.Header(nil), r.header...)
}

func always(status int) func(int) int { return func(int) int { return status } }

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "klaxon.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// deadLetter makes a run of workflow die with a dead-letter entry routed to
// channel, and returns the entry's ID.
func deadLetter(t *testing.T, st store.Store, workflow, channel string) string {
	t.Helper()
	ctx := context.Background()
	if err := st.WorkflowRegister(ctx, &store.WorkflowRegisterParams{Name: workflow, Version: 1}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.RunEnqueue(ctx, &store.RunEnqueueParams{
		ID: ulid.Make().String(), Workflow: workflow, WorkflowVersion: 1, Input: []byte(`{}`), Actor: "test",
	}); err != nil {
		t.Fatal(err)
	}
	claimed, err := st.RunsClaim(ctx, &store.RunsClaimParams{Holder: "worker", Workflows: []string{workflow}, Limit: 1, LeaseDuration: time.Hour})
	if err != nil || len(claimed) != 1 {
		t.Fatalf("RunsClaim: %d, %v", len(claimed), err)
	}
	run := claimed[0].Run
	entryID := ulid.Make().String()
	err = st.RunFail(ctx, &store.RunFailParams{
		Lease: store.Lease{RunID: run.ID, Epoch: run.Epoch}, Holder: "worker",
		Attempt: &klaxontype.Attempt{RunID: run.ID, Attempt: run.Attempt, At: time.Now(), Worker: "worker",
			Class: klaxontype.ClassPermanent, Message: "invoice total is negative", ClassifiedBy: "error"},
		Next:       klaxontype.RunStatusDead,
		Failure:    &klaxontype.RunFailure{Class: klaxontype.ClassPermanent, Reason: "invoice total is negative"},
		DeadLetter: &store.DeadLetterParams{ID: entryID, Channel: channel},
	})
	if err != nil {
		t.Fatal(err)
	}
	return entryID
}

// deliverUntil runs the deliverer until done says so, or fails the test.
func deliverUntil(t *testing.T, d *notify.Deliverer, what string, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !done() {
		if _, err := d.DeliverDue(context.Background()); err != nil {
			t.Fatalf("DeliverDue: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func fastBackoff(int) time.Duration { return 10 * time.Millisecond }

// TestDeliverToTargets: a dead letter on a channel of three targets reaches
// the one that answers 200 at once, signed as package webhook signs; the one
// that answers 500 first gets it on a retry; the one that hangs is cut off
// at its timeout and tried again after its backoff, raising one alert after
// alert_after failures, without holding back the others or another
// channel's target. Only the failing targets are tried again.
func TestDeliverToTargets(t *testing.T) {
	t.Parallel()
	ok := newReceiver(t, always(http.StatusOK))
	flaky := newReceiver(t, func(call int) int {
		if call == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	hanging := newReceiver(t, always(-1))
	other := newReceiver(t, always(http.StatusOK))
	config, err := notify.Parse([]byte(`
alert_after: 2
channels:
  review:
    - {name: ok, type: webhook, url: "`+ok.server.URL+`", secret_env: HOOK_SECRET}
    - {name: flaky, type: slack, url: "`+flaky.server.URL+`"}
    - {name: hanging, type: webhook, url: "`+hanging.server.URL+`", secret: x, timeout: 200ms}
  ops:
    - {name: other, type: template, url: "`+other.server.URL+`", template: '{"entry": {{json .DeliveryID}}}'}
`), env(map[string]string{"HOOK_SECRET": secret}))
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	entryID := deadLetter(t, st, "invoices", "review")
	otherID := deadLetter(t, st, "refunds", "ops")
	d := notify.New(st, config, notify.Options{Holder: "test", Backoff: fastBackoff, MaxAttempts: 100})

	start := time.Now()
	if _, err := d.DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("one round took %s: the hanging target held the others", elapsed)
	}
	// The ops channel's target took its notification in the same round.
	if bodies, _ := other.taken(); len(bodies) != 1 || string(bodies[0]) != `{"entry": "`+otherID+`"}` {
		t.Errorf("the other channel's target got %q", bodies)
	}
	bodies, headers := ok.taken()
	if len(bodies) != 1 {
		t.Fatalf("the ok target got %d bodies; want 1", len(bodies))
	}
	var entry klaxontype.DeadLetter
	if !webhook.Verify([]byte(secret), bodies[0], headers[0].Get(webhook.SignatureHeader)) || json.Unmarshal(bodies[0], &entry) != nil {
		t.Fatalf("the ok target's body does not verify: %s %v", bodies[0], headers[0])
	}
	if entry.ID != entryID || headers[0].Get(webhook.DeliveryHeader) != entryID || headers[0].Get(webhook.EventHeader) != "dead_letter" {
		t.Errorf("the ok target got entry %s with headers %v; want %s", entry.ID, headers[0], entryID)
	}

	// Retries reach the flaky target; the hanging one keeps failing.
	deliverUntil(t, d, "the flaky target takes it", func() bool { b, _ := flaky.taken(); return len(b) == 1 })
	deliverUntil(t, d, "the hanging target fails twice", func() bool { return hanging.calls.Load() >= 3 })
	if got := ok.calls.Load(); got != 1 {
		t.Errorf("the ok target was called %d times; want once: a retry calls only the targets that failed", got)
	}
	if b, _ := flaky.taken(); !strings.Contains(string(b[0]), "invoices") || !strings.Contains(string(b[0]), "permanent") {
		t.Errorf("the Slack message does not say workflow and class: %s", b[0])
	}

	alerts, err := st.AlertList(context.Background(), &store.AlertListParams{})
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || alerts[0].Kind != klaxontype.AlertNotificationFailing || alerts[0].Rule != "notification-target:review/hanging" ||
		alerts[0].State != klaxontype.AlertFiring || !strings.Contains(alerts[0].Summary, "no answer within 200ms") {
		t.Fatalf("alerts = %s; want one firing for review/hanging", showAlerts(alerts))
	}
	summary, err := st.OutboxSummarize(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(summary) != 1 || summary[0].Channel != "review" || summary[0].Pending != 1 || !strings.Contains(summary[0].LastError, "review/hanging") {
		t.Fatalf("outbox = %+v; want review's notification pending on the hanging target", summary)
	}
}

// TestFailingTargetAlertsOnceAndResolves: a target that answers 500 for a
// while raises one alert however many attempts fail, and resolves it when it
// takes the notification.
func TestFailingTargetAlertsOnceAndResolves(t *testing.T) {
	t.Parallel()
	var healthy atomic.Bool
	target := newReceiver(t, func(int) int {
		if healthy.Load() {
			return http.StatusOK
		}
		return http.StatusInternalServerError
	})
	told := newReceiver(t, always(http.StatusOK))
	config, err := notify.Parse([]byte(`
alert_after: 2
alert_channels: [ops]
channels:
  review:
    - {type: slack, url: "`+target.server.URL+`"}
  ops:
    - {type: webhook, url: "`+told.server.URL+`", secret: "`+secret+`"}
`), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	deadLetter(t, st, "invoices", "review")
	d := notify.New(st, config, notify.Options{Holder: "test", Backoff: fastBackoff, MaxAttempts: 100})
	deliverUntil(t, d, "six failed attempts", func() bool { return target.calls.Load() >= 6 })
	alerts, err := st.AlertList(context.Background(), &store.AlertListParams{})
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || alerts[0].State != klaxontype.AlertFiring || !strings.Contains(alerts[0].Summary, "answered 500 Internal Server Error") ||
		strings.Contains(alerts[0].Summary, "no answer") {
		t.Fatalf("alerts after 6 failures = %s; want one firing", showAlerts(alerts))
	}
	healthy.Store(true)
	deliverUntil(t, d, "the target takes it", func() bool { b, _ := target.taken(); return len(b) == 1 })
	alerts, err = st.AlertList(context.Background(), &store.AlertListParams{})
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || alerts[0].State != klaxontype.AlertResolved {
		t.Fatalf("alerts after delivery = %s; want the one resolved", showAlerts(alerts))
	}
	deliverUntil(t, d, "the alert channel is told", func() bool {
		n, err := st.OutboxCountPending(context.Background())
		return err == nil && n == 0
	})
	// The alert channel was told of the alert twice: firing and resolved.
	_, headers := told.taken()
	var events []string
	for _, h := range headers {
		events = append(events, h.Get(webhook.EventHeader))
	}
	if strings.Join(events, ",") != "alert.firing,alert.resolved" {
		t.Fatalf("the alert channel got %v; want alert.firing, alert.resolved", events)
	}
}

// TestDeliverBreaker: a breaker that opens on a channel reaches its
// targets as a breaker.tripped webhook.
func TestDeliverBreaker(t *testing.T) {
	t.Parallel()
	target := newReceiver(t, always(http.StatusOK))
	config, err := notify.Parse([]byte(`
channels:
  ops:
    - {type: webhook, url: "`+target.server.URL+`", secret: "`+secret+`"}
`), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	if _, err := st.BreakerTrip(context.Background(), &store.BreakerTripParams{
		Workflow: "invoices", Reason: "retry storm", Until: time.Now().Add(time.Hour), Actor: "test", Channels: []string{"ops"},
	}); err != nil {
		t.Fatal(err)
	}
	d := notify.New(st, config, notify.Options{Holder: "test"})
	deliverUntil(t, d, "the breaker is delivered", func() bool { b, _ := target.taken(); return len(b) == 1 })
	bodies, headers := target.taken()
	var breaker klaxontype.Breaker
	if !webhook.Verify([]byte(secret), bodies[0], headers[0].Get(webhook.SignatureHeader)) || json.Unmarshal(bodies[0], &breaker) != nil ||
		breaker.Workflow != "invoices" || headers[0].Get(webhook.EventHeader) != "breaker.tripped" {
		t.Fatalf("breaker webhook: %s %v", bodies[0], headers[0])
	}
}

func showAlerts(alerts []*klaxontype.Alert) string {
	var lines []string
	for _, a := range alerts {
		lines = append(lines, fmt.Sprintf("%s %s %s: %s", a.Rule, a.Kind, a.State, a.Summary))
	}
	return "[" + strings.Join(lines, "; ") + "]"
}
